"""scripts/voice_effects.py: held vowels and higher notes for the mouth model's checks."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.signal import resample_poly
from scriptload import load_script
from synthvoice import TUBE, vowel

from videoretalk.audio.vocal_tract import formant_spacing

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000


@pytest.fixture()
def effects(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(REPO / "scripts" / "voice_effects.py", monkeypatch)


def pitch_of(x: np.ndarray) -> float:
    middle = x[x.size // 4 : 3 * x.size // 4].astype(np.float64)
    ac = np.correlate(middle, middle, "full")[middle.size - 1 :]
    lo, hi = RATE // 600, RATE // 60
    return RATE / (lo + int(np.argmax(ac[lo:hi])))


def test_stretch_keeps_the_pitch_and_scales_the_length(effects: ModuleType) -> None:
    t = np.arange(2 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    slowed = effects.stretch_keep_pitch(tone, 2.0)
    assert abs(slowed.size / tone.size - 2.0) < 0.01
    spectrum = np.abs(np.fft.rfft(slowed))
    assert abs(np.fft.rfftfreq(slowed.size, 1 / RATE)[spectrum.argmax()] - 200) < 2
    middle = slowed[RATE // 2 : -RATE // 2]
    assert 0.2 < np.sqrt(2 * np.mean(middle**2)) < 0.4  # level kept (amplitude ~0.3)
    assert effects.stretch_keep_pitch(tone, 1.0) is tone


@pytest.mark.parametrize("factor", [1.5, 2.0])
def test_shift_pitch_raises_the_voice_and_keeps_its_formants(
    effects: ModuleType, factor: float
) -> None:
    original = vowel(TUBE)
    speech = np.ones(original.size // 160 + 1, bool)
    raised = effects.shift_pitch(original, factor)
    assert raised.size == original.size
    assert abs(pitch_of(raised) / pitch_of(original) - factor) < 0.05 * factor
    spacing = formant_spacing(raised, speech)
    assert spacing is not None and abs(spacing / 515.0 - 1.0) < 0.12
    assert effects.shift_pitch(original, 1.0) is original


def test_plain_resampling_would_move_the_formants_too() -> None:
    """The contrast the test above relies on: the spacing estimate does see a moved tract."""
    sped = resample_poly(vowel(TUBE), 2, 3).astype(np.float32)  # 1.5x: --speed 1.5
    moved = formant_spacing(sped, np.ones(sped.size // 160 + 1, bool))
    assert moved is not None and abs(moved / 515.0 - 1.5) < 0.15
