"""Audio features and voice activity on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.audio import SAMPLE_RATE, analyse_audio, detect_speech, sample_at, to_mono_16k
from videoretalk.media.decode import AudioTrack


def _burst(rate: int, seconds: float, start: float, stop: float, channels: int = 1) -> AudioTrack:
    t = np.arange(int(seconds * rate)) / rate
    # A voiced, speech-like burst: 140 Hz pulse train through two formant-ish resonances.
    x = sum(
        np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 700, 1100, 2400), 1)
    )
    x = 0.3 * x * ((t >= start) & (t < stop)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return AudioTrack(np.tile(x.astype(np.float32), (channels, 1)), rate)


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100, 48_000])
def test_resample_any_rate_keeps_duration(rate: int) -> None:
    mono = to_mono_16k(_burst(rate, 2.0, 0.5, 1.5, channels=2))
    assert abs(mono.size - 2 * SAMPLE_RATE) <= 2


def test_stereo_mixdown_averages_channels() -> None:
    samples = np.stack([np.ones(1600), 0.5 * np.ones(1600)]).astype(np.float32)
    assert np.allclose(to_mono_16k(AudioTrack(samples, 16_000)), 0.75)
    # A voice on one channel only is mixed too, at half its level.
    voice = _burst(16_000, 2.0, 0.5, 1.5).samples[0]
    one_sided = np.stack([voice, np.zeros_like(voice)])
    assert np.allclose(to_mono_16k(AudioTrack(one_sided, 16_000)), voice / 2)


def test_channels_in_opposite_phase_keep_their_voice() -> None:
    # Averaged, they cancelled to silence: no speech found, the mouth closed throughout.
    voice = _burst(16_000, 4.0, 1.5, 2.5).samples[0]
    track = AudioTrack(np.stack([voice, -0.9 * voice]), 16_000)
    assert np.allclose(to_mono_16k(track), voice)
    speech = detect_speech(to_mono_16k(track))
    times = np.arange(len(speech)) * 0.01
    assert speech[(times > 1.7) & (times < 2.3)].all() and not speech[times < 1.2].any()


def test_digital_silence_has_no_speech_and_finite_features() -> None:
    feats = analyse_audio(AudioTrack(np.zeros((2, 48_000 * 3), np.float32), 48_000))
    assert not feats.speech.any()
    assert np.isfinite(feats.log_mel).all()


def test_vad_finds_burst_only_inside_its_window() -> None:
    track = _burst(16_000, 4.0, 1.5, 2.5)
    speech = detect_speech(to_mono_16k(track))
    t = np.arange(speech.size) * 0.01
    assert speech[(t > 1.6) & (t < 2.4)].mean() > 0.8
    assert not speech[(t < 1.4) | (t > 2.6)].any()


def _tone(hz: float, seconds: float, start: float, stop: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (level * np.sin(2 * np.pi * hz * t) * ((t >= start) & (t < stop))).astype(np.float32)


# webrtcvad alone took 440, 880 and 1000-2500 Hz but dropped 100-400, 500-800 and 3000 Hz.
@pytest.mark.parametrize("hz", [100, 200, 300, 500, 800, 1000, 3000, 4000])
def test_a_tone_burst_is_voice_inside_its_window_only(hz: float) -> None:
    speech = detect_speech(_tone(hz, 4.0, 1.5, 2.5))
    t = np.arange(speech.size) * 0.01
    assert speech[(t > 1.55) & (t < 2.45)].all()
    assert not speech[(t < 1.4) | (t > 2.6)].any()


def test_a_tone_blip_or_a_quiet_tone_under_speech_is_not_voice() -> None:
    blip = detect_speech(_tone(500, 3.0, 1.0, 1.1))
    assert not blip.any()
    # A steady 500 Hz tone 30 dB under a speech burst, alone before and after it.
    track = to_mono_16k(_burst(16_000, 4.0, 1.5, 2.5)) + _tone(500, 4.0, 0.0, 4.0, 0.01)
    speech = detect_speech(track)
    t = np.arange(speech.size) * 0.01
    assert not speech[(t < 1.3) | (t > 2.7)].any()
    assert speech[(t > 1.6) & (t < 2.4)].mean() > 0.8


def test_loudness_does_not_change_features() -> None:
    quiet, loud = _burst(16_000, 3.0, 1.0, 2.0), _burst(16_000, 3.0, 1.0, 2.0)
    loud = type(loud)(loud.samples * 3.0, loud.sample_rate)
    quiet = type(quiet)(quiet.samples * 0.1, quiet.sample_rate)
    a, b = analyse_audio(quiet), analyse_audio(loud)
    assert np.array_equal(a.speech, b.speech)
    assert np.abs(a.log_mel - b.log_mel)[a.speech].max() < 1e-2


def test_sample_at_interpolates_and_clamps() -> None:
    grid = np.arange(5, dtype=np.float32)[:, None]
    out = sample_at(grid, np.array([-1.0, 0.005, 0.02, 1.0]))
    assert np.allclose(out[:, 0], [0.0, 0.5, 2.0, 4.0])
