"""Hostile media that passes the first checks: each gets its own code, or is read safely.

Found by fuzzing `videoretalk run`: these once ended as InternalError after the whole
job ran, or "succeeded" with a wrong result.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from mediafactory import frame_image, make_audio, make_video, read_code

from videoretalk import errors, retalk
from videoretalk.media.decode import VideoReader, read_audio
from videoretalk.media.probe import probe_video


def _wav(path: Path, frames: np.ndarray, rate: int = 16000) -> Path:
    """A WAV written by hand from (n, channels) samples: float32 as IEEE float (format 3,
    which can hold NaN and values past 1.0), int16 as PCM, and any channel count."""
    frames = np.asarray(frames).reshape(len(frames), -1)
    width, channels = frames.dtype.itemsize, frames.shape[1]
    code = 3 if frames.dtype.kind == "f" else 1
    fmt = struct.pack(
        "<HHIIHH", code, channels, rate, rate * width * channels, width * channels, 8 * width
    )
    data = frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def _speechlike(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    )


def test_non_finite_float_audio_is_invalid_content(tmp_path: Path) -> None:
    samples = _speechlike(3.0)
    samples[5000:5010] = np.nan
    wav = _wav(tmp_path / "nan.wav", samples)
    with pytest.raises(errors.InvalidFileContent, match="NaN"):
        read_audio(wav)


def test_float_audio_past_full_scale_is_scaled_not_clipped(tmp_path: Path) -> None:
    samples = _speechlike(3.0)
    wav = _wav(tmp_path / "loud.wav", samples * 1e20)
    track = read_audio(wav)
    assert np.isfinite(track.samples).all()
    assert np.abs(track.samples).max() == pytest.approx(1.0, abs=1e-6)
    # The same waveform, turned down: not a clipped square wave.
    mono = track.samples[0]
    assert np.corrcoef(mono, samples[: mono.size])[0, 1] > 0.999
    # A small overshoot, as decoded AAC has, keeps its level.
    overshoot = samples * (1.2 / np.abs(samples).max())
    kept = read_audio(_wav(tmp_path / "overshoot.wav", overshoot)).samples[0]
    np.testing.assert_allclose(kept, overshoot[: kept.size], atol=1e-6)


def test_audio_that_cannot_be_mixed_down_is_invalid_format(tmp_path: Path) -> None:
    pcm = (np.tile(_speechlike(2.5)[:, None], (1, 64)) * 32767).astype(np.int16)
    wav = _wav(tmp_path / "ch64.wav", pcm)
    with pytest.raises(errors.InvalidFileFormat, match="64 channels"):
        read_audio(wav)


def _patch_mdhd_duration(path: Path, seconds: float) -> None:
    """Make the audio track's header claim `seconds`, whatever its samples hold."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"mdhd")
    assert raw[at + 4] == 0  # version 0: 32-bit fields
    timescale = struct.unpack(">I", raw[at + 16 : at + 20])[0]
    raw[at + 20 : at + 24] = struct.pack(">I", round(seconds * timescale))
    path.write_bytes(bytes(raw))


def test_m4a_header_shorter_than_its_samples_is_not_trusted(tmp_path: Path) -> None:
    m4a = make_audio(tmp_path / "a.m4a", 5.0, rate=16000)
    honest = read_audio(m4a).duration
    assert 4.95 < honest < 5.1  # trimmed to the track's own duration, padding dropped
    _patch_mdhd_duration(m4a, 1.0)
    assert read_audio(m4a).duration == pytest.approx(honest, abs=0.07)


def _two_size_video(path: Path, sizes: list[tuple[int, int]], frames_each: int = 10) -> Path:
    """One H.264 stream whose frame size changes mid-stream (headers repeated per keyframe)."""
    packets: list[av.Packet] = []
    for part, (w, h) in enumerate(sizes):
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height, codec.pix_fmt = w, h, "yuv420p"
        codec.time_base, codec.framerate = Fraction(1, 25), Fraction(25)
        codec.options = {"preset": "ultrafast", "x264-params": "repeat-headers=1"}
        for i in range(frames_each):
            frame = av.VideoFrame.from_ndarray(frame_image(i, w, h), format="rgb24")
            frame.pts = part * frames_each + i  # one clock across the parts
            packets += codec.encode(frame)
        packets += codec.encode(None)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = sizes[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"x264-params": "repeat-headers=1"}
        blank = av.VideoFrame.from_ndarray(np.zeros((sizes[0][1], sizes[0][0], 3), np.uint8))
        stream.encode(blank)  # opens the encoder, so the stream has its parameters
        for packet in packets:
            packet.stream = stream
            packet.time_base = Fraction(1, 25)
            out.mux(packet)
    return path


def test_a_video_that_changes_size_mid_stream_is_refused(tmp_path: Path) -> None:
    video = _two_size_video(tmp_path / "switch.mp4", [(160, 160), (320, 192)])
    with VideoReader(video) as reader:
        seen = []
        with pytest.raises(errors.InvalidFileResolution, match="changes size mid-stream"):
            for frame in reader.frames():
                seen.append(frame.image.shape)
    assert seen and set(seen) == {(160, 160, 3)}  # refused at the first frame of the new size


def test_frames_past_one_damaged_packet_still_decode(tmp_path: Path) -> None:
    video = make_video(
        tmp_path / "v.mp4", width=192, height=192, fps=25, seconds=4.0, audio_tone_hz=None
    )
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        spans = [(p.pos, p.size) for p in container.demux(stream) if p.size and p.pos is not None]
    raw = bytearray(video.read_bytes())
    pos, size = spans[len(spans) // 3]  # one packet a third of the way in
    raw[pos : pos + size] = bytes(size)
    video.write_bytes(bytes(raw))
    with VideoReader(video) as reader:
        codes = [read_code(frame.image) for frame in reader.frames()]
    # Before, decoding stopped at the damage (about frame 33 of 100).
    assert len(codes) >= 90 and codes[-1] == 99


def test_huge_frames_are_refused_from_the_header_without_decoding(tmp_path: Path) -> None:
    video = make_video(
        tmp_path / "wide.mp4", width=4112, height=64, fps=25, seconds=2.2, audio_tone_hz=None
    )
    with pytest.raises(errors.InvalidFileResolution, match=r"allowed \(2048 px\).*not decoded"):
        probe_video(video)
    # The refusal follows the configured limit, and names it.
    with pytest.raises(errors.InvalidFileResolution, match=r"allowed \(1024 px\).*not decoded"):
        probe_video(video, max_side_px=1024)
    assert probe_video(video, max_side_px=4096).width == 4112  # decoded, judged by validation


@pytest.mark.parametrize("kind", ["folder", "under_a_file"])
def test_an_unwritable_output_is_refused_before_any_work(tmp_path: Path, kind: str) -> None:
    if kind == "folder":
        output = tmp_path
    else:
        (tmp_path / "file").write_text("x")
        output = tmp_path / "file" / "out.mp4"
    # The inputs do not even exist: the output is checked first, not after the job.
    with pytest.raises(errors.InvalidParameter, match="output"):
        retalk(tmp_path / "missing.mp4", tmp_path / "missing.wav", output)
