from __future__ import annotations

import numpy as np
import pytest

from videoretalk.media.timeline import Segment, plan_timeline, source_duration

FPS25 = np.arange(50) / 25.0  # 2.0 s of video


def test_output_is_the_shorter_of_video_and_audio() -> None:
    assert plan_timeline(FPS25, 5.0, video_extension=False).duration == pytest.approx(2.0)
    cut = plan_timeline(FPS25, 1.5, video_extension=False)
    assert cut.duration == 1.5
    assert cut.frame_count == 38  # frames starting before 1.5 s: 0 … 1.48
    assert plan_timeline(FPS25, 1.5, video_extension=True).duration == 1.5


def test_extension_plays_backward_then_forward_without_doubling_the_turn() -> None:
    times = np.arange(5) / 25.0
    timeline = plan_timeline(times, 0.6, video_extension=True)
    assert timeline.duration == 0.6
    assert timeline.source_index.tolist() == [0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2]
    np.testing.assert_allclose(timeline.output_times, np.arange(15) / 25.0)
    assert timeline.segments == (Segment(0, 4), Segment(3, 0), Segment(1, 4), Segment(3, 2))


def test_extension_keeps_variable_frame_spacing() -> None:
    times = np.array([0.0, 0.1, 0.15, 0.3])
    timeline = plan_timeline(times, 1.0, video_extension=True)
    assert timeline.source_index.tolist()[:7] == [0, 1, 2, 3, 2, 1, 0]
    np.testing.assert_allclose(
        np.diff(timeline.output_times)[:6], [0.1, 0.05, 0.15, 0.15, 0.05, 0.1]
    )
    assert timeline.output_times[-1] < 1.0


def test_every_frame_before_the_end_is_shown() -> None:
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.06, 200))
    times -= times[0]
    timeline = plan_timeline(times, 100.0, video_extension=False)
    assert timeline.frame_count == 200
    np.testing.assert_allclose(timeline.output_times, times)
    assert timeline.duration == pytest.approx(source_duration(times))
