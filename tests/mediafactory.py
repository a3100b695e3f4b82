"""Make small test media in code: synthetic videos, tones, images, broken files.

Every frame of a synthetic video carries its own index in a corner code (a row of
black/white blocks), so a test can read back which source frame an output frame
shows, even after lossy re-encoding.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

CODE_BITS = 12
CODE_BLOCK = 16  # px per bit: survives CRF 18 and chroma subsampling


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """A gradient frame that changes with `index`, with the index drawn as a bit code."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    image[..., 1] = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    image[..., 2] = (index * 7) % 256
    for bit in range(CODE_BITS):
        value = 255 if (index >> bit) & 1 else 0
        image[0:CODE_BLOCK, bit * CODE_BLOCK : (bit + 1) * CODE_BLOCK] = value
    return image


def read_code(image: np.ndarray) -> int:
    """The index drawn by `frame_image` (image in the same orientation)."""
    index = 0
    for bit in range(CODE_BITS):
        block = image[2 : CODE_BLOCK - 2, bit * CODE_BLOCK + 2 : (bit + 1) * CODE_BLOCK - 2]
        if block.mean() > 127:
            index |= 1 << bit
    return index


def make_video(
    path: Path,
    *,
    width: int = 640,
    height: int = 640,
    fps: float = 25.0,
    seconds: float = 2.4,
    times: list[float] | None = None,
    codec: str = "libx264",
    container: str | None = None,
    rotation: int = 0,
    audio_tone_hz: float | None = 440.0,
    b_frames: int = 0,
    keyframe_every: int | None = None,
    fragmented: bool = False,
    pixel_aspect: Fraction | None = None,
    colour_tag: int | None = None,
    audio_delay_s: float = 0.0,
) -> Path:
    """Write a synthetic video; `times` (seconds) gives variable frame timing.

    `b_frames` > 0 lets the encoder code that many frames in a row as B-frames, stored after
    the frame they refer to (decoding order differs from presentation order), as most
    encoders' defaults do; without it frames are stored in the order they are shown.
    `keyframe_every` fixes the encoder's keyframe interval (frames), for tests that seek.
    `fragmented` writes MP4/MOV as fragments (as screen recorders and streams do).
    `pixel_aspect` stores non-square pixels (a sample aspect ratio), as anamorphic footage.
    `colour_tag` (an FFmpeg colour-space number, e.g. 1 for BT.709) encodes the colours
    with that matrix and tags the stream's matrix, primaries and transfer with it.
    `audio_delay_s` starts the audio stream that much after zero.
    """
    if times is None:
        times = [i / fps for i in range(round(seconds * fps))]
    time_base = Fraction(1, 30000)  # mpeg4 refuses time bases finer than 1/65535
    options = {"movflags": "frag_keyframe+empty_moov"} if fragmented else {}
    with av.open(str(path), mode="w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec in ("libx264", "libx265"):
            stream.codec_context.options = {"crf": "16", "preset": "ultrafast"}
            params = [f"bframes={b_frames}"] if b_frames else []
            if keyframe_every:
                params += [f"keyint={keyframe_every}", f"min-keyint={keyframe_every}", "scenecut=0"]
            if codec == "libx265":  # quiet; its GOPs stay open, as x265 makes them by default
                params += ["log-level=error"]
            if params:
                stream.codec_context.options |= {f"{codec[3:]}-params": ":".join(params)}
        if rotation:
            stream.set_display_rotation(rotation)
        if pixel_aspect is not None:
            stream.codec_context.sample_aspect_ratio = pixel_aspect
        if colour_tag is not None:
            context = stream.codec_context
            context.colorspace = context.color_primaries = context.color_trc = colour_tag
        audio_stream = None
        if audio_tone_hz is not None:
            audio_stream = out.add_stream("aac", rate=44100)
            audio_stream.codec_context.layout = "mono"
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            if colour_tag is not None:
                frame = frame.reformat(format="yuv420p", dst_colorspace=colour_tag)
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if audio_stream is not None:
            duration = times[-1] + (times[-1] - times[0]) / max(len(times) - 1, 1)
            encode_audio(
                out,
                audio_stream,
                tone(duration, audio_tone_hz, 44100),
                first_sample=round(audio_delay_s * 44100),
            )
    return path


def encode_audio(
    out: av.container.OutputContainer,
    stream: av.AudioStream,
    samples: np.ndarray,
    first_sample: int = 0,
) -> None:
    """Encode float samples ((n,) mono or (channels, n)) into `stream`, then flush it;
    the first sample is stamped `first_sample` (samples since the stream's zero).

    Frames are built as float and FFmpeg converts them to whatever the encoder takes.
    """
    planar = np.atleast_2d(samples).astype(np.float32)
    rate = stream.codec_context.sample_rate
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
    step = stream.codec_context.frame_size or 1024
    for start in range(0, planar.shape[1], step):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + step]), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        frame.pts = first_sample + start
        frame.time_base = Fraction(1, rate)
        for converted in resampler.resample(frame):
            out.mux(stream.encode(converted))
    out.mux(stream.encode(None))


def tone(
    seconds: float, hz: float = 440.0, rate: int = 16000, amplitude: float = 0.3
) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def make_audio(
    path: Path,
    seconds: float,
    *,
    rate: int = 16000,
    channels: int = 1,
    samples: np.ndarray | None = None,
    codec: str | None = None,
    container: str | None = None,
) -> Path:
    """Write audio; the codec follows the suffix (.wav PCM, .mp3, .aac ADTS, .m4a AAC)."""
    suffix = path.suffix.lower()
    codec = (
        codec
        or {
            ".wav": "pcm_s16le",
            ".mp3": "libmp3lame",
            ".aac": "aac",
            ".m4a": "aac",
            ".flac": "flac",
            ".ogg": "libvorbis",
        }[suffix]
    )
    container = container or {".aac": "adts", ".m4a": "mp4"}.get(suffix)
    data = tone(seconds, 440.0, rate) if samples is None else samples.astype(np.float32)
    layout = "mono" if channels == 1 else "stereo"
    planar = np.repeat(data[None, :], channels, axis=0)
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.codec_context.layout = layout
        encode_audio(out, stream, planar)
    return path


def make_image(path: Path, width: int, height: int, fmt: str | None = None) -> Path:
    Image.fromarray(frame_image(0, width, height)).save(path, format=fmt)
    return path


def decoded_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """(time in seconds, RGB image) of every frame, read with plain PyAV (display rotation ignored)."""
    with av.open(str(path)) as container:
        return [
            (float(f.pts * f.time_base), f.to_ndarray(format="rgb24"))
            for f in container.decode(video=0)
        ]
