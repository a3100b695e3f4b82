"""Voice transformations for robustness checks of the mouth model: held vowels and high notes.

Sung audio differs from the speech the mouth model learned from in two ways these imitate:
vowels are held longer (`stretch_keep_pitch`) and the voice sits higher while the singer's
vocal tract, so their formants, stay where they are (`shift_pitch`). `--speed` in the
motion benchmark moves both pitch and formants, like a smaller voice; these move one at a
time. Both work on 16 kHz mono and are phase-vocoder approximations, not studio effects.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import istft, resample_poly, stft

SAMPLE_RATE = 16_000
N_FFT, HOP = 512, 128
LIFTER = 24  # cepstral coefficients kept for the envelope: 1.5 ms, under any speaking pitch period
MAX_GAIN_DB = 30.0  # the formant correction never boosts or cuts a bin by more than this


def stretch_keep_pitch(mono: np.ndarray, factor: float) -> np.ndarray:
    """`mono` played `factor` times longer at the same pitch: a phase vocoder.

    Slowed speech holds each vowel longer, as singing does, without a pitch or formant shift.
    """
    if factor == 1.0:
        return mono
    _, _, spec = stft(mono, SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP)
    magnitudes, angles = np.abs(spec), np.angle(spec)
    positions = np.arange(0.0, spec.shape[1] - 1, 1.0 / factor)
    bin_advance = 2 * np.pi * HOP * np.arange(spec.shape[0]) / N_FFT
    phase = angles[:, 0]
    out = np.empty((spec.shape[0], positions.size), np.complex64)
    for k, pos in enumerate(positions):
        i, w = int(pos), pos - int(pos)
        magnitude = (1 - w) * magnitudes[:, i] + w * magnitudes[:, i + 1]
        # Identity phase locking: the bins around a spectral peak keep their phase offsets
        # to it, so a harmonic stays one coherent partial instead of smearing ("phasiness").
        peak = _nearest_peak(magnitudes[:, i])
        phase = phase[peak] + angles[:, i] - angles[peak, i]
        out[:, k] = magnitude * np.exp(1j * phase)
        # Advance each bin by its measured frequency over one hop (wrapped deviation).
        delta = angles[:, i + 1] - angles[:, i] - bin_advance
        phase = phase + bin_advance + (delta + np.pi) % (2 * np.pi) - np.pi
    _, slowed = istft(out, SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP)
    return slowed.astype(np.float32)


def _nearest_peak(magnitude: np.ndarray) -> np.ndarray:
    """For each bin, the index of the local spectral maximum whose region it lies in."""
    inner = (magnitude[1:-1] > magnitude[:-2]) & (magnitude[1:-1] >= magnitude[2:])
    peaks = np.flatnonzero(inner) + 1
    if peaks.size == 0:
        return np.arange(magnitude.size)
    bounds = (peaks[1:] + peaks[:-1]) / 2  # regions split halfway between peaks
    return peaks[np.searchsorted(bounds, np.arange(magnitude.size))]


def shift_pitch(mono: np.ndarray, factor: float) -> np.ndarray:
    """`mono` with its pitch `factor` times higher, same length, formants kept in place.

    Stretch by `factor` and resample back: pitch and formants both rise by `factor`. Then
    each frame is reshaped from the formant envelope it now has, the original's at
    f / `factor`, to the original's at f (cepstrally smoothed, so harmonics do not count).
    """
    if factor == 1.0:
        return mono
    ratio = Fraction(1 / factor).limit_denominator(64)
    raised = resample_poly(stretch_keep_pitch(mono, factor), ratio.numerator, ratio.denominator)
    raised = np.pad(raised, (0, max(0, mono.size - raised.size)))[: mono.size]
    _, _, original = stft(mono, SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP)
    _, _, spec = stft(raised, SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP)
    envelope = _log_envelope(np.abs(original))
    bins = np.arange(envelope.shape[0], dtype=np.float64)
    moved = np.stack(
        [np.interp(bins / factor, bins, frame) for frame in envelope.T], axis=1
    )  # where the raised voice's formants now are
    limit = MAX_GAIN_DB / 20 * np.log(10)
    gain = np.exp(np.clip(envelope - moved, -limit, limit))
    frames = min(spec.shape[1], gain.shape[1])
    _, out = istft(
        spec[:, :frames] * gain[:, :frames], SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP
    )
    out = np.pad(out, (0, max(0, mono.size - out.size)))[: mono.size]
    return out.astype(np.float32)


def _log_envelope(magnitude: np.ndarray) -> np.ndarray:
    """Natural-log spectral envelope per frame (bins, frames) by cepstral liftering."""
    cepstrum = np.fft.irfft(np.log(magnitude + 1e-7), axis=0)
    cepstrum[LIFTER:-LIFTER] = 0.0
    return np.fft.rfft(cepstrum, axis=0).real
