"""Known answers for the 1-D metrics: mouth opening, envelope, lag correlation, silences."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.eval import signals


@pytest.mark.parametrize("roll", [0.0, 25.0, -40.0])
def test_opening_is_gap_over_iod_whatever_the_roll(landmarks, roll):
    points = landmarks(iod=180.0, gap=27.0, roll_degrees=roll)
    assert signals.mouth_opening(points) == pytest.approx(27.0 / 180.0)


def test_overlapping_lips_read_closed_and_missing_faces_nan(landmarks):
    track = np.stack([landmarks(gap=-6.0), landmarks(gap=0.0), np.full_like(landmarks(), np.nan)])
    opening = signals.mouth_opening(track)
    assert opening[0] == 0.0 and opening[1] == 0.0
    assert np.isnan(opening[2])


def test_opening_follows_a_known_signal(landmarks):
    t = np.arange(100) / 25
    gap = 20 + 15 * np.sin(2 * np.pi * 1.3 * t)
    opening = signals.mouth_opening(np.stack([landmarks(iod=150.0, gap=g) for g in gap]))
    np.testing.assert_allclose(opening, gap / 150.0, atol=1e-9)


def test_lag_correlation_finds_a_shifted_copy():
    rng = np.random.default_rng(1)
    sound = np.convolve(rng.standard_normal(600), np.hanning(15), mode="same")
    mouth = np.r_[np.full(12, np.nan), sound[:-12]]  # the mouth moves 120 ms after the sound
    result = signals.lag_correlation(mouth, sound)
    assert result.best_lag == pytest.approx(0.12)
    assert result.best_r == pytest.approx(1.0)
    assert result.r_at_zero < 0.9
    early = signals.lag_correlation(sound, mouth)  # and the other way round
    assert early.best_lag == pytest.approx(-0.12)


def test_lag_correlation_of_unrelated_or_flat_signals():
    rng = np.random.default_rng(2)
    result = signals.lag_correlation(rng.standard_normal(500), rng.standard_normal(500))
    assert abs(result.r_at_zero) < 0.2
    flat = signals.lag_correlation(np.ones(500), rng.standard_normal(500))
    assert np.isnan(flat.best_r)


def test_envelope_follows_loudness_on_the_10ms_grid():
    rate = 16_000
    t = np.arange(2 * rate) / rate
    tone = 0.5 * np.sin(2 * np.pi * 220 * t)
    mono = np.where((t >= 0.5) & (t < 1.0), tone, 0.0) + np.where(t >= 1.5, 0.1 * tone, 0.0)
    envelope = signals.speech_envelope(mono, rate)
    assert envelope.size == 2 * 100 + 1
    assert envelope[75] == pytest.approx(1.0, abs=0.02)  # loud burst: peak
    assert envelope[25] == 0.0 and envelope[125] == 0.0  # digital silence: floor
    assert envelope[175] == pytest.approx(0.5, abs=0.03)  # 20 dB down on a 40 dB scale


def test_on_grid_holds_each_frame_and_leaves_gaps():
    times = np.array([0.0, 0.04, 0.08, 0.12])
    values = np.array([1.0, np.nan, 3.0, 4.0])
    grid = signals.on_grid(times, values, duration=0.2)
    assert grid.size == 20
    np.testing.assert_array_equal(grid[0:4], 1.0)
    assert np.isnan(grid[4:8]).all()
    np.testing.assert_array_equal(grid[8:12], 3.0)
    np.testing.assert_array_equal(grid[12:16], 4.0)
    assert np.isnan(grid[17:]).all()  # past the last frame's display time


def test_silences_and_closure():
    speech = np.ones(300, bool)
    speech[100:150] = False  # 0.5 s pause
    speech[200:210] = False  # 0.1 s gap between words: not a silence
    assert signals.silent_stretches(speech) == [(1.0, 1.5)]
    times = np.arange(75) / 25
    silent = signals.in_stretches(times, [(1.0, 1.5)], margin=0.1)
    assert times[silent].min() == pytest.approx(1.12) and times[silent].max() == pytest.approx(1.36)
    opening = np.where(silent, 0.01, 0.2)
    opening[silent.nonzero()[0][0]] = 0.1  # one frame still open
    result = signals.closure(opening, silent, ~silent)
    assert result.silent_frames == 7
    assert result.closed_fraction == pytest.approx(6 / 7)
    assert result.speech_mean_opening == pytest.approx(0.2)


def test_a_leading_pause_keeps_its_start():
    assert signals.in_stretches(np.array([0.0, 0.05]), [(0.0, 0.5)], margin=0.1).all()
