"""The Mandarin/English articulation benchmark scores phone-timed speech (no espeak needed)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scriptload import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ml(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it shares motion_measures' parts
    return load_script(REPO / "benchmarks" / "motion_languages.py", monkeypatch)


def test_scores_phone_classes_and_pauses(ml: ModuleType) -> None:
    rate = 16_000
    t = np.arange(int(4.0 * rate)) / rate
    voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((130, 260, 650, 1000), 1))
    # Speech-like syllables between 1.0 and 3.0 s, digital silence around them.
    burst = (t >= 1.0) & (t < 3.0)
    samples = (0.25 * voice * burst * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    phones = [
        ml.Phone(label, 1.0 + 0.25 * k, 1.25 + 0.25 * k)
        for k, label in enumerate(["m", "ɑ", "p", "i", "u", "b", "a", "ɪ"])
    ]
    figures = ml.score(ml.Utterance(samples, rate, phones))
    assert figures["seconds"] == 4.0
    expected = {"bilabial": 3, "open": 2, "rounded": 1, "spread": 2}
    for name in ml.CLASSES:
        assert figures[name]["n"] == expected[name]
        assert 0.0 <= figures[name]["dips_closed"] <= 1.0
        assert np.isfinite(figures[name]["mean_opening"])
    # Pauses: no phone within 100 ms, i.e. before 0.9 s and after 3.1 s; digital silence
    # there must rest closed.
    assert 52 <= figures["pause_frames"] <= 54  # 27 + 26 at 30 fps, give or take rounding
    assert figures["pause_closed"] == 1.0


def test_vowels_are_read_on_their_middle_half(ml: ModuleType) -> None:
    """A vowel's frames must not reach into its neighbours (a closure before it), while a
    bilabial's window is widened so a closure drawn a frame early still counts."""
    times = np.arange(0.0, 3.0, 1.0 / 30)
    vowel = ml.phone_frames(ml.Phone("a", 1.0, 1.3), times, widen=False)
    assert vowel.any()
    assert times[vowel].min() >= 1.075 and times[vowel].max() <= 1.225
    bilabial = ml.phone_frames(ml.Phone("p", 1.01, 1.06), times, widen=True)
    assert times[bilabial].min() < 1.01 and times[bilabial].max() > 1.06
    # Shorter than a frame: the one frame nearest its middle.
    short = ml.phone_frames(ml.Phone("a", 1.005, 1.025), times, widen=False)
    assert np.flatnonzero(short).tolist() == [30]
