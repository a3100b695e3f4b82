"""Timing rules: the audio offset of a shifted copy, and which timeline an output follows."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.eval.timing import audio_offset, match_timeline
from videoretalk.media.decode import AudioTrack


def _speech(seconds: float, rate: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * rng.standard_normal(t.size) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.mark.parametrize("delay", [0.0, 0.04, -0.025])
def test_audio_offset_of_a_shifted_copy(delay):
    rate = 48_000
    driving = _speech(3.0, rate)
    shift = round(abs(delay) * rate)
    if delay >= 0:
        produced = np.r_[np.zeros(shift, np.float32), driving][: driving.size]
    else:
        produced = np.r_[driving[shift:], np.zeros(shift, np.float32)]
    offset, match = audio_offset(
        AudioTrack(produced[None], rate), AudioTrack(np.stack([driving, driving]), rate)
    )
    assert offset == pytest.approx(delay, abs=1 / 16_000)
    assert match > 0.95


def test_match_timeline_tells_extension_from_trimming():
    frame_times = np.arange(50) / 25  # 2 s of video
    plain, extended = match_timeline(frame_times, 3.0, output_frames=50)
    assert not extended and plain.frame_count == 50
    longer, extended = match_timeline(frame_times, 3.0, output_frames=75)
    assert extended and longer.frame_count == 75
    assert longer.source_index[49] == 49 and longer.source_index[50] == 48  # ping-pong turn
