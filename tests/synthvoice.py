"""Synthetic vowels with known formants, for the vocal-tract and voice-effect tests."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SAMPLE_RATE = 16_000
# A uniform tube 17 cm long: F_i = (2i - 1) * 515 Hz.
TUBE = (515.0, 1545.0, 2575.0, 3605.0)


def vowel(formants: tuple[float, ...], seconds: float = 2.0, pitch: float = 120.0) -> np.ndarray:
    """A glottal pulse train through one two-pole resonator per formant (80 Hz wide)."""
    n = int(seconds * SAMPLE_RATE)
    source = np.zeros(n)
    source[:: int(SAMPLE_RATE / pitch)] = 1.0
    x = lfilter([1.0], [1.0, -0.95], source)  # glottal roll-off
    for f in formants:
        radius = np.exp(-np.pi * 80.0 / SAMPLE_RATE)
        theta = 2 * np.pi * f / SAMPLE_RATE
        x = lfilter([1.0 - radius], [1.0, -2 * radius * np.cos(theta), radius**2], x)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)
