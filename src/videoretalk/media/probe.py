"""Read the facts of an input file from its content (never its name).

Probing opens the file with FFmpeg (through PyAV) or Pillow, reads headers and
decodes as little as needed to prove the file is what it claims. Anything that
cannot be opened as media of the expected kind raises `InvalidFileOpenError`.
Checking the facts against the API limits is `validate.py`'s job.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.stream import Disposition
from PIL import Image

from ..errors import InvalidFileImageSize, InvalidFileOpenError, InvalidFileResolution

# FFmpeg happily opens a PNG or JPEG as a one-frame "video"; those are never a video input.
_IMAGE_DEMUXERS = ("_pipe", "image2", "gif", "apng", "webp")
# Coded sides beyond this multiple of the largest allowed side are refused from the header,
# undecoded. Twice, so a header that differs a little from the pixels is still decoded and
# judged by validation on the real frame.
UNDECODED_BEYOND_LIMIT = 2
DEFAULT_MAX_SIDE_PX = 2048  # the API's limit; `InputLimits.video_max_side_px` sets it


UNSPECIFIED = 2  # FFmpeg's number for an unset colour tag


@dataclass(frozen=True)
class ColourTags:
    """How a video's YUV values map to colour, as tagged in its stream (FFmpeg's
    AVColorSpace, AVColorPrimaries and AVColorTransferCharacteristic numbers).

    Decoding converts to RGB with the tagged matrix; the output is encoded with the same
    matrix and carries the same tags, so players show its untouched pixels exactly as
    the source's. An untagged output of a BT.709-tagged source was encoded with BT.601
    and shifted every colour in players, which assume BT.709 for untagged HD video.
    """

    matrix: int = UNSPECIFIED
    primaries: int = UNSPECIFIED
    transfer: int = UNSPECIFIED

    @classmethod
    def of(cls, frame: av.VideoFrame) -> ColourTags:
        return cls(int(frame.colorspace), int(frame.color_primaries), int(frame.color_trc))


UNTAGGED = ColourTags()


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    size_bytes: int
    container: str  # FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "h264"
    coded_width: int
    coded_height: int
    rotation: int  # degrees counter-clockwise to display upright: 0, 90, 180, 270
    duration: float  # seconds
    fps: float  # average frames per second (variable-rate video included)
    frame_count: int  # frames counted by demuxing, not the header's estimate
    has_audio: bool
    # Width over height of one pixel as displayed upright (the sample aspect ratio): 1 for
    # square pixels, e.g. 64/45 for 16:9 PAL stored at 720×576. Output keeps it.
    pixel_aspect: Fraction = Fraction(1)
    colour: ColourTags = UNTAGGED

    @property
    def width(self) -> int:
        """Displayed width: a phone video rotated by 90° shows its coded height."""
        return self.coded_height if self.rotation in (90, 270) else self.coded_width

    @property
    def height(self) -> int:
        return self.coded_width if self.rotation in (90, 270) else self.coded_height


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    size_bytes: int
    container: str
    codec: str
    sample_rate: int
    channels: int
    duration: float  # seconds, from the decoded samples


@dataclass(frozen=True)
class ImageInfo:
    path: Path
    size_bytes: int
    format: str  # Pillow's format name, e.g. "JPEG"
    width: int
    height: int


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise InvalidFileOpenError(f"Cannot read the input file: {exc.strerror}.") from exc


def _open(path: Path, what: str) -> av.container.InputContainer:
    if file_size(path) == 0:
        raise InvalidFileOpenError(f"The {what} file is empty (0 bytes).")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        article = "an" if what[0] in "aeiou" else "a"
        raise InvalidFileOpenError(
            f"The {what} file cannot be opened as {what}: it is damaged or not {article} {what} "
            "file."
        ) from exc


def probe_video(path: str | os.PathLike[str], max_side_px: int = DEFAULT_MAX_SIDE_PX) -> VideoInfo:
    """Read a video's header and first frame. `max_side_px` is the largest side the caller
    will accept: frames far past it are refused before any decoding."""
    path = Path(path)
    size = file_size(path)
    with _open(path, "video") as container:
        demuxer = container.format.name
        if not container.streams.video or any(m in demuxer for m in _IMAGE_DEMUXERS):
            raise InvalidFileOpenError("The video file has no video stream: it is not a video.")
        stream = main_video_stream(container)
        stream.thread_type = "AUTO"
        _refuse_huge_frames(stream, max_side_px)
        first = _first_video_frame(container, stream)
        times = _demux_video_times(container, stream)
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        rotation = upright_rotation(first)
        pixel_aspect = _pixel_aspect(stream, rotation)
        colour = ColourTags.of(first)
        has_audio = bool(container.streams.audio)
        header_duration = container.duration / av.time_base if container.duration else 0.0
    if not times:
        raise InvalidFileOpenError("The video file holds no decodable frames.")
    # The span of presentation times plus one average frame is the true duration;
    # the header's figure can be missing or wrong in damaged or hand-made files.
    span = times[-1] - times[0]
    count = len(times)
    mean_interval = span / (count - 1) if count > 1 else 0.0
    duration = span + mean_interval if count > 1 else header_duration
    fps = (count - 1) / span if span > 0 else 0.0
    return VideoInfo(
        path=path,
        size_bytes=size,
        container=demuxer,
        codec=codec,
        coded_width=width,
        coded_height=height,
        rotation=rotation,
        duration=duration,
        fps=fps,
        frame_count=count,
        has_audio=has_audio,
        pixel_aspect=pixel_aspect,
        colour=colour,
    )


# Pixel shapes past these are taken for a broken header, and the pixels for square.
_PIXEL_ASPECT_RANGE = (Fraction(1, 4), Fraction(4))


def _pixel_aspect(stream: av.VideoStream, rotation: int) -> Fraction:
    """The stream's sample aspect ratio, upright (a quarter turn swaps a pixel's sides).

    Anamorphic footage (broadcast 720×576 or 1440×1080 shown 16:9) is stored with
    non-square pixels; an output without the ratio plays squeezed.
    """
    ratio = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if not ratio or not _PIXEL_ASPECT_RANGE[0] <= ratio <= _PIXEL_ASPECT_RANGE[1]:
        return Fraction(1)
    ratio = Fraction(ratio).limit_denominator(1000)
    return 1 / ratio if rotation in (90, 270) else ratio


def _refuse_huge_frames(stream: av.VideoStream, max_side_px: int) -> None:
    """Refuse frames far past any allowed size from the stream header, before decoding.

    Decoding one 8192×8192 frame to read its size took 560 MB; the header says as much.
    (`validate.py` holds the real limit; this only keeps probing itself cheap.)
    """
    width, height = stream.codec_context.width, stream.codec_context.height
    if max(width, height) > UNDECODED_BEYOND_LIMIT * max_side_px:
        raise InvalidFileResolution(
            f"The video is {width}×{height}, far past the largest side allowed "
            f"({max_side_px} px); it was not decoded. Scale it down and resubmit."
        )


def _first_video_frame(
    container: av.container.InputContainer, stream: av.VideoStream
) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except (av.error.FFmpegError, ValueError) as exc:
        raise InvalidFileOpenError("The video file cannot be decoded: it is damaged.") from exc
    raise InvalidFileOpenError("The video file holds no decodable frames.")


def _demux_video_times(
    container: av.container.InputContainer, stream: av.VideoStream
) -> list[float]:
    """Times of every video frame from its packets, sorted: cheap, no decoding."""
    time_base = stream.time_base or Fraction(1, 90000)
    return [float(stamp * time_base) for stamp in packet_stamps(container, stream)]


# Codecs the service edits (`limits`); a file with several video streams is read from the
# first of these it holds.
_EDITED_CODECS = ("h264", "hevc")
# Stream dispositions of pictures that are not the video: cover art, thumbnails.
_STILLS = Disposition.attached_pic | Disposition.timed_thumbnails | Disposition.still_image


def main_video_stream(container: av.container.InputContainer) -> av.VideoStream:
    """The video stream to edit: the first H.264 or H.265 one that is not a still picture.

    An MP4 with embedded cover art (as downloaders write it) shows the art to FFmpeg as
    a one-frame video stream, which can come first; taking it refused the file as MJPEG.
    Failing that, the first moving stream, or the first of all, whose codec the checks
    then name.
    """
    streams = list(container.streams.video)
    moving = [s for s in streams if not s.disposition & _STILLS]
    for stream in moving:
        if stream.codec_context.name in _EDITED_CODECS:
            return stream
    return (moving or streams)[0]


def is_avi(container: av.container.InputContainer) -> bool:
    return "avi" in container.format.name.split(",")


def packet_stamps(container: av.container.InputContainer, stream: av.VideoStream) -> list[int]:
    """Sorted timestamps (in `stream`'s time base) of its non-empty packets.

    Their presentation times, except in AVI, which stores none: FFmpeg numbers its
    chunks one frame duration apart in the order they are stored (decoding order), and
    makes up presentation stamps from those, off by a tick at the end. There the
    decoding stamps are taken: the chunks' slots on the stream's constant-rate grid.
    Packets an edit list cuts away (a video trimmed without re-encoding) are decoded
    only as references and never shown, so they are not counted.
    """
    decoding_order = is_avi(container)
    container.seek(0, stream=stream, backward=True, any_frame=False)
    stamps: list[int] = []
    try:
        for packet in container.demux(stream):
            stamp = packet.dts if decoding_order and packet.dts is not None else packet.pts
            if stamp is not None and packet.size > 0 and not packet.is_discard:
                stamps.append(stamp)
    except (av.error.FFmpegError, ValueError):
        pass  # a truncated tail: keep what was readable
    stamps.sort()
    return stamps


def upright_rotation(frame: av.VideoFrame) -> int:
    """FFmpeg's display matrix angle, normalised to 0/90/180/270 counter-clockwise."""
    return round(frame.rotation / 90.0) % 4 * 90


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    path = Path(path)
    size = file_size(path)
    with _open(path, "audio") as container:
        if not container.streams.audio:
            raise InvalidFileOpenError("The audio file has no audio stream.")
        stream = container.streams.audio[0]
        samples = 0
        try:
            for frame in container.decode(stream):
                samples += frame.samples
        except (av.error.FFmpegError, ValueError) as exc:
            if samples == 0:
                raise InvalidFileOpenError(
                    "The audio file cannot be decoded: it is damaged."
                ) from exc
        rate = stream.codec_context.sample_rate or 0
        if samples == 0 or rate <= 0:
            raise InvalidFileOpenError("The audio file holds no decodable audio.")
        return AudioInfo(
            path=path,
            size_bytes=size,
            container=container.format.name,
            codec=stream.codec_context.name,
            sample_rate=rate,
            channels=stream.codec_context.channels,
            duration=samples / rate,
        )


def probe_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Read an image's format and size from its header; pixels are not decoded here."""
    path = Path(path)
    size = file_size(path)
    if size == 0:
        raise InvalidFileOpenError("The image file is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            # Pillow warns on huge images before refusing them; the size check in
            # validate.py refuses them with a clear code instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return ImageInfo(
                    path=path,
                    size_bytes=size,
                    format=image.format or "",
                    width=image.width,
                    height=image.height,
                )
    except Image.DecompressionBombError as exc:
        raise InvalidFileImageSize(
            "The image has far too many pixels (a decompression bomb); the longest side may be at most 4096 px."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidFileOpenError(
            "The image file cannot be opened: it is damaged or not an image."
        ) from exc
