"""Periodicity: is there a pitched voice (or any periodic sound) at a 10 ms step?

The voice-activity check against background noise (audio/vad.py) vetoes steps that
Silero hears no voice in, but Silero misses some high voices (a child, a note sung an
octave up); their steps are still periodic, so a step with a period nearby is kept.
Noise bursts, clicks, applause and breaths have no period.

The measure is YIN's cumulative-mean-normalised difference (de Cheveigné & Kawahara,
2002), its minimum over the lags of a 60-1000 Hz fundamental: near 0 for a periodic
signal, near 1 for noise, whatever the level or the spectral tilt (low-pass noise such
as wind or rumble correlates at short lags, which a plain autocorrelation takes for
voicing; the cumulative mean cancels that).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len
from scipy.signal import butter, sosfiltfilt

from .features import HOP, SAMPLE_RATE

F0_RANGE_HZ = (60.0, 1000.0)  # a bass's low notes to a soprano's high ones
# Measured on this band: rumble and handling noise under 150 Hz hide the period (the
# 5-year-old's clip is dominated by 31-62 Hz: 8 % of her speech steps periodic on the full
# band, 51 % on this one; median over the 25 clips 62 -> 65 %). Harmonics above the
# band's low edge still repeat at the fundamental's period.
PASS_BAND_HZ = (150.0, 2000.0)
WINDOW = 480  # 30 ms: two periods of the lowest F0
MIN_LAG = int(SAMPLE_RATE / F0_RANGE_HZ[1])
MAX_LAG = int(SAMPLE_RATE / F0_RANGE_HZ[0])
MIN_ENERGY_BALANCE = 0.5  # the window's and its shifted copy's energies, smaller / larger
CHUNK = 512  # steps per batched FFT (about 8 MB of spectra)


def aperiodicity(mono16k: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """YIN's minimum normalised difference at each of `steps` (10 ms grid indices): 0 for a
    perfectly periodic window centred on the step, about 1 for noise or silence."""
    steps = np.asarray(steps, dtype=np.int64)
    out = np.ones(steps.size)
    if steps.size == 0:
        return out
    span = WINDOW + MAX_LAG
    band = butter(4, PASS_BAND_HZ, "bandpass", fs=SAMPLE_RATE, output="sos")
    # Padded before filtering: the filter needs a few dozen samples, a track may be shorter.
    x = sosfiltfilt(band, np.pad(np.asarray(mono16k, np.float64), (WINDOW // 2, span)))
    # The window's correlation with its shifted copy reaches sample WINDOW - 1 + MAX_LAG =
    # span - 1 at most, so any FFT length >= span reads it without wrapping round.
    n_fft = next_fast_len(span, real=True)
    lags = np.arange(1, MAX_LAG + 1)
    for first in range(0, steps.size, CHUNK):
        chunk = steps[first : first + CHUNK]
        frames = x[chunk[:, None] * HOP + np.arange(span)[None, :]]
        head = frames[:, :WINDOW]
        # d(tau) = sum (x_j - x_{j+tau})^2 over the window = E(head) + E(shifted) - 2 r(tau)
        cross = np.fft.irfft(np.conj(np.fft.rfft(head, n_fft)) * np.fft.rfft(frames, n_fft), n_fft)[
            :, 1 : MAX_LAG + 1
        ]
        energy = np.cumsum(np.pad(frames**2, ((0, 0), (1, 0))), axis=1)
        head_energy = energy[:, WINDOW : WINDOW + 1]
        shifted = energy[:, WINDOW + lags] - energy[:, lags]
        diff = np.maximum(head_energy + shifted - 2.0 * cross, 0.0)
        normalised = diff * lags / np.maximum(np.cumsum(diff, axis=1), 1e-20)
        # A lag only counts where the window and its shifted copy carry similar energy: at a
        # click or a burst's onset one of them is near silent, their difference is small,
        # and the ratio reads as a period. (Silence is 0/0: no period, it stays at 1.)
        balance = np.minimum(head_energy, shifted) / np.maximum(
            np.maximum(head_energy, shifted), 1e-12
        )
        normalised[balance < MIN_ENERGY_BALANCE] = np.inf
        minimum = normalised[:, MIN_LAG - 1 :].min(axis=1)
        out[first : first + chunk.size] = np.minimum(minimum, 1.0)
    return out
