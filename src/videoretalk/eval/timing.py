"""The timing rules, checked on the output file: duration, frame rate, frame times, A/V offset.

The expected values come from the same timeline rules the pipeline follows
(`media.timeline.plan_timeline`), so a report flags any drift between what the
engine should have written and what the file holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import av
import numpy as np
from scipy.signal import fftconvolve

from ..audio import SAMPLE_RATE, to_mono_16k
from ..media.decode import AudioTrack, read_audio
from ..media.probe import probe_video
from ..media.timeline import Timeline, plan_timeline

MAX_AV_OFFSET_SECONDS = 0.5  # search range for the audio offset; beyond it the file is broken
DURATION_TOLERANCE = 0.05  # s: within one frame at 20 fps counts as "as planned"


@dataclass(frozen=True)
class Timing:
    video_extension: bool  # which timeline rule the output matches
    expected_duration: float  # s, from the timeline rules
    duration: float  # s, of the output's video stream
    expected_frames: int
    frames: int
    input_fps: float  # average, frames per second
    fps: float
    max_frame_time_error: float  # s, output frame times against the planned ones
    audio_duration: float  # s, of the output's audio track
    audio_offset: float  # s, output audio against the driving audio; > 0: late
    audio_match: float  # normalised correlation at that offset (1 = same waveform)
    stream_start_offset: float  # s, audio stream start minus video stream start

    @property
    def ok(self) -> bool:
        return (
            self.frames == self.expected_frames
            and abs(self.duration - self.expected_duration) <= DURATION_TOLERANCE
            and abs(self.audio_duration - self.duration) <= DURATION_TOLERANCE
            and abs(self.audio_offset) <= 0.5 / max(self.fps, 1.0)
            and abs(self.stream_start_offset) <= 0.5 / max(self.fps, 1.0)
        )


def match_timeline(
    input_times: np.ndarray, audio_duration: float, output_frames: int
) -> tuple[Timeline, bool]:
    """The planned timeline (with or without video extension) that the output follows."""
    plain = plan_timeline(input_times, audio_duration, video_extension=False)
    extended = plan_timeline(input_times, audio_duration, video_extension=True)
    if abs(extended.frame_count - output_frames) < abs(plain.frame_count - output_frames):
        return extended, True
    return plain, False


def check_timing(
    output: str | os.PathLike[str],
    output_times: np.ndarray,
    input_times: np.ndarray,
    timeline: Timeline,
    video_extension: bool,
    driving: AudioTrack,
) -> Timing:
    info = probe_video(output)
    n = min(len(output_times), timeline.frame_count)
    time_error = (
        float(np.max(np.abs(output_times[:n] - timeline.output_times[:n]))) if n else float("nan")
    )
    span = float(input_times[-1] - input_times[0]) if len(input_times) > 1 else 0.0
    if info.has_audio:
        produced = read_audio(output)
        offset, match = audio_offset(produced, driving)
        audio_duration = produced.duration
    else:
        offset, match, audio_duration = float("nan"), float("nan"), 0.0
    return Timing(
        video_extension=video_extension,
        expected_duration=timeline.duration,
        duration=info.duration,
        expected_frames=timeline.frame_count,
        frames=info.frame_count,
        input_fps=(len(input_times) - 1) / span if span > 0 else float("nan"),
        fps=info.fps,
        max_frame_time_error=time_error,
        audio_duration=audio_duration,
        audio_offset=offset,
        audio_match=match,
        stream_start_offset=stream_start_offset(output),
    )


def audio_offset(
    produced: AudioTrack, driving: AudioTrack, max_offset: float = MAX_AV_OFFSET_SECONDS
) -> tuple[float, float]:
    """Delay of `produced` against `driving` (s, > 0: produced is late) and its correlation."""
    a = to_mono_16k(produced).astype(np.float64)
    b = to_mono_16k(driving).astype(np.float64)
    n = min(a.size, b.size)
    if n == 0:
        return float("nan"), float("nan")
    a, b = a[:n], b[:n]
    # full cross-correlation: index n-1+k holds sum_t a[t+k]·b[t]
    xc = fftconvolve(a, b[::-1], mode="full")
    k_max = min(int(max_offset * SAMPLE_RATE), n - 1)
    window = xc[n - 1 - k_max : n + k_max]
    best = int(np.argmax(window))
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return (best - k_max) / SAMPLE_RATE, float(window[best] / norm) if norm > 0 else float("nan")


def stream_start_offset(path: str | os.PathLike[str]) -> float:
    """Audio stream's first timestamp minus the video's, in seconds (0 if either is absent)."""
    with av.open(str(path)) as container:
        if not container.streams.video or not container.streams.audio:
            return 0.0
        starts = []
        for stream in (container.streams.video[0], container.streams.audio[0]):
            start = stream.start_time if stream.start_time is not None else 0
            starts.append(float(start * stream.time_base) if stream.time_base else 0.0)
    return starts[1] - starts[0]
