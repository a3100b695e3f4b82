"""Input limits of the DashScope videoretalk API, in one place.

Source: DashScope's videoretalk API reference (input requirements of video_url,
audio_url and ref_image_url). `Settings` can override any of them
(`VIDEORETALK_LIMIT_<NAME>`), e.g. to let an operator accept longer videos.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024

# Container demuxer names FFmpeg reports for the accepted formats.
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4/mov", "avi": "avi"}
VIDEO_CODECS = {"h264": "H.264", "hevc": "H.265"}
AUDIO_CONTAINERS = {"wav": "wav", "mp3": "mp3", "aac": "aac", "mov,mp4,m4a,3gp,3g2,mj2": "m4a"}
# Audio codecs accepted per container: a wav must hold PCM, an m4a must hold AAC.
AUDIO_CODECS_BY_CONTAINER = {
    "wav": ("pcm_",),
    "mp3": ("mp3",),
    "aac": ("aac",),
    "mov,mp4,m4a,3gp,3g2,mj2": ("aac",),
}
IMAGE_FORMATS = {"JPEG": "jpeg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}


@dataclass(frozen=True)
class InputLimits:
    video_max_bytes: int = 300 * MB
    video_min_seconds: float = 2.0
    video_max_seconds: float = 120.0
    video_min_fps: float = 15.0
    video_max_fps: float = 60.0
    video_min_side_px: int = 640
    video_max_side_px: int = 2048

    audio_max_bytes: int = 30 * MB
    audio_min_seconds: float = 2.0
    audio_max_seconds: float = 120.0
    # Telephone speech is 8 kHz; below it there is no speech to lip-sync to (a "1 Hz"
    # WAV of 100 samples passed as 100 s of audio).
    audio_min_sample_rate_hz: int = 8000

    image_max_bytes: int = 10 * MB
    image_max_aspect: float = 2.0
    image_max_side_px: int = 4096

    # Tolerance on durations: container durations are rounded to the packet, so a
    # clip made to be exactly 2 s can probe as 1.99 s.
    duration_tolerance_seconds: float = 0.05
    fps_tolerance: float = 0.5
