"""Seeded synthetic background noise, in three styles, for the voice-activity checks.

The issue asks for the mouth to rest closed "in breaths and background noise between
words". Steady noise (a fan, room tone) never reaches the mouth: the VAD's noise-floor
check drops it. What passes is noise that comes and goes, so `motion_benchmark.py
--noise SNR --noise-style STYLE` mixes one of these under the driving speech:

- bursts: pink noise swelling and fading every few tenths of a second (traffic passing,
  applause, a crowd's murmur without voices);
- clicks: short decaying noise clicks, a few per second (a keyboard, a pen, cutlery);
- rumble: low-frequency noise with a slowly varying level (wind on a microphone,
  handling noise).

None is a real recording; the figures say how the checks cope with noise of these kinds.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
STYLES = ("bursts", "clicks", "rumble")


def background(seconds: float, seed: int = 0, style: str = "bursts") -> np.ndarray:
    """`seconds` of noise of `style` at 16 kHz, RMS 1 (float32)."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    if style == "clicks":
        x = np.zeros(n)
        click = np.exp(-np.arange(200) / 30.0)  # ~2 ms decay
        for start in rng.integers(0, max(n - click.size, 1), size=max(n // 3000, 1)):
            x[start : start + click.size] += rng.standard_normal(click.size) * click
    elif style == "bursts":
        x = _coloured(rng, n, 0.5) * _swells(rng, n, 0.05, 4.0)
    else:
        x = _coloured(rng, n, 1.0) * _swells(rng, n, 0.5, 1.0)
        x -= np.convolve(x, np.ones(801) / 801, mode="same")  # no DC drift
    return (x / max(float(np.sqrt(np.mean(x**2))), 1e-12)).astype(np.float32)


def _coloured(rng: np.random.Generator, n: int, power: float) -> np.ndarray:
    """Noise with a 1 / f**(2 * power) spectrum: 0.5 pink, 1.0 brown."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spectrum[1:] /= freqs[1:] ** power
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def _swells(rng: np.random.Generator, n: int, every_s: float, sharpness: float) -> np.ndarray:
    """A level that drifts at random every `every_s`, smoothed; sharper = burstier."""
    hop = max(int(every_s * SAMPLE_RATE), 1)
    level = np.repeat(rng.random(n // hop + 2) ** sharpness, hop)[:n]
    ramp = np.hanning(2 * hop + 1)
    return np.convolve(level, ramp / ramp.sum(), mode="same")
