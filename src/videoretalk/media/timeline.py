"""Timeline rules: which source frame is shown at which output time.

- Output duration is the shorter of video and audio.
- With `video_extension` and audio longer than video, the video plays forward,
  then backward, then forward… (the turn-around frame is not shown twice) until
  it covers the audio.
- Every output frame keeps the source's own spacing, so variable-frame-rate video
  stays in sync: the gap between two output frames is the gap between the two
  source frames they show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A run of consecutive source frames, shown in one direction."""

    first: int  # source index shown first
    last: int  # source index shown last (inclusive)

    @property
    def forward(self) -> bool:
        return self.last >= self.first

    @property
    def length(self) -> int:
        return abs(self.last - self.first) + 1


@dataclass(frozen=True)
class Timeline:
    source_index: np.ndarray  # int32[T]: source frame shown by output frame t
    output_times: np.ndarray  # float64[T]: presentation time of output frame t, from 0
    duration: float  # seconds of output video and audio
    segments: tuple[Segment, ...]

    @property
    def frame_count(self) -> int:
        return int(self.source_index.shape[0])

    def __iter__(self) -> Iterator[tuple[int, float]]:
        return zip(self.source_index.tolist(), self.output_times.tolist(), strict=True)


def source_duration(frame_times: np.ndarray) -> float:
    """Time covered by the frames: the last frame lasts as long as the mean frame."""
    n = len(frame_times)
    if n == 0:
        return 0.0
    if n == 1:
        return 1.0 / 25.0  # a single frame has no spacing to go by; one frame at 25 fps
    return float(frame_times[-1] - frame_times[0]) * n / (n - 1)


def plan_timeline(
    frame_times: np.ndarray, audio_duration: float, video_extension: bool
) -> Timeline:
    """Plan output frames for source frames at `frame_times` (seconds, ascending, from 0)."""
    times = np.asarray(frame_times, dtype=np.float64)
    n = len(times)
    if n == 0:
        raise ValueError("a video with no frames has no timeline")
    video_duration = source_duration(times)
    if video_extension and audio_duration > video_duration:
        duration = audio_duration
    else:
        duration = min(video_duration, audio_duration)
    if n == 1:
        # One frame has no spacing of its own: repeat it at 25 fps.
        count = max(1, int(np.ceil(duration * 25.0 - 1e-9)))
        only_frame = np.zeros(count, dtype=np.int32)
        return Timeline(only_frame, np.arange(count) / 25.0, duration, (Segment(0, 0),))

    indices: list[int] = []
    out_times: list[float] = []
    t, position, direction = 0.0, 0, 1
    while t < duration - 1e-9:
        indices.append(position)
        out_times.append(t)
        if not 0 <= position + direction < n:
            direction = -direction  # turn around without showing the end frame twice
        t += abs(float(times[position + direction] - times[position]))
        position += direction
    return Timeline(
        source_index=np.asarray(indices, dtype=np.int32),
        output_times=np.asarray(out_times, dtype=np.float64),
        duration=duration,
        segments=_segments(indices),
    )


def _segments(indices: list[int]) -> tuple[Segment, ...]:
    """Split the shown indices into maximal runs of one direction."""
    segments: list[Segment] = []
    start = 0
    for k in range(1, len(indices) + 1):
        if k == len(indices) or (
            k - start >= 2 and (indices[k] - indices[k - 1]) != (indices[k - 1] - indices[k - 2])
        ):
            segments.append(Segment(indices[start], indices[k - 1]))
            start = k
    return tuple(segments)
