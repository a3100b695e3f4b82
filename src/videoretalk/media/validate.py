"""Check probed inputs against the API limits; one DashScope error per breached rule.

Order matters: size is checked before opening (a 2 GB upload must not be parsed),
then "can it be opened as this kind of media", then format, codec, duration,
rate and resolution. Every message says what was found and what is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import (
    InvalidFileDuration,
    InvalidFileFormat,
    InvalidFileFPS,
    InvalidFileImageSize,
    InvalidFileOpenError,
    InvalidFileResolution,
    InvalidFileSize,
)
from ..limits import (
    AUDIO_CODECS_BY_CONTAINER,
    AUDIO_CONTAINERS,
    IMAGE_FORMATS,
    MB,
    VIDEO_CODECS,
    VIDEO_CONTAINERS,
    InputLimits,
)
from .probe import AudioInfo, ImageInfo, VideoInfo, file_size, probe_audio, probe_image, probe_video

Pathish = str | os.PathLike[str]


def _check_size(path: Path, what: str, limit: int) -> None:
    size = file_size(path)
    if size > limit:
        raise InvalidFileSize(
            f"The {what} file is {size / MB:.1f} MB; it must be at most {limit / MB:.0f} MB."
        )


def _check_duration(
    what: str, seconds: float, limits: InputLimits, low: float, high: float
) -> None:
    tol = limits.duration_tolerance_seconds
    if not (low - tol <= seconds <= high + tol):
        raise InvalidFileDuration(
            f"The {what} is {seconds:.2f} s long; it must be {low:g}–{high:g} s."
        )


def validate_video(path: Pathish, limits: InputLimits) -> VideoInfo:
    path = Path(path)
    _check_size(path, "video", limits.video_max_bytes)
    info = probe_video(path, limits.video_max_side_px)
    if info.container not in VIDEO_CONTAINERS:
        raise InvalidFileFormat(
            f"The video container is '{info.container}'; it must be mp4, mov or avi."
        )
    if info.codec not in VIDEO_CODECS:
        raise InvalidFileFormat(
            f"The video codec is '{info.codec}'; it must be H.264 or H.265 (HEVC)."
        )
    _check_duration(
        "video", info.duration, limits, limits.video_min_seconds, limits.video_max_seconds
    )
    fps_tol = limits.fps_tolerance
    if not (limits.video_min_fps - fps_tol <= info.fps <= limits.video_max_fps + fps_tol):
        raise InvalidFileFPS(
            f"The video runs at {info.fps:.2f} fps; it must be "
            f"{limits.video_min_fps:g}–{limits.video_max_fps:g} fps."
        )
    low, high = limits.video_min_side_px, limits.video_max_side_px
    if not (low <= info.width <= high and low <= info.height <= high):
        raise InvalidFileResolution(
            f"The video is {info.width}×{info.height}; each side must be {low}–{high} px."
        )
    return info


def validate_audio(path: Pathish, limits: InputLimits) -> AudioInfo:
    path = Path(path)
    _check_size(path, "audio", limits.audio_max_bytes)
    info = probe_audio(path)
    allowed_codecs = AUDIO_CODECS_BY_CONTAINER.get(info.container)
    if allowed_codecs is None:
        raise InvalidFileFormat(
            f"The audio format is '{info.container}'; it must be wav, mp3 or aac (m4a)."
        )
    if not info.codec.startswith(allowed_codecs):
        kind = AUDIO_CONTAINERS[info.container]
        raise InvalidFileFormat(
            f"The {kind} file holds '{info.codec}' audio; a {kind} must hold "
            f"{'PCM' if kind == 'wav' else kind.upper() if kind != 'm4a' else 'AAC'} audio."
        )
    if info.sample_rate < limits.audio_min_sample_rate_hz:
        raise InvalidFileFormat(
            f"The audio is sampled at {info.sample_rate} Hz; it must be at least "
            f"{limits.audio_min_sample_rate_hz} Hz."
        )
    _check_duration(
        "audio", info.duration, limits, limits.audio_min_seconds, limits.audio_max_seconds
    )
    return info


def validate_image(path: Pathish, limits: InputLimits) -> ImageInfo:
    """Check a reference image from its header; pixels are decoded only after this passes."""
    path = Path(path)
    _check_size(path, "image", limits.image_max_bytes)
    info = probe_image(path)
    if info.format not in IMAGE_FORMATS:
        raise InvalidFileFormat(
            f"The image format is '{info.format or 'unknown'}'; it must be jpeg, png, bmp or webp."
        )
    if info.width <= 0 or info.height <= 0:
        raise InvalidFileOpenError("The image has no pixels.")
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > limits.image_max_side_px:
        raise InvalidFileImageSize(
            f"The image is {info.width}×{info.height}; its longest side must be at most "
            f"{limits.image_max_side_px} px."
        )
    if long_side / short_side > limits.image_max_aspect:
        raise InvalidFileImageSize(
            f"The image is {info.width}×{info.height} (aspect ratio {long_side / short_side:.2f}); "
            f"the aspect ratio must be at most {limits.image_max_aspect:g}."
        )
    return info
