"""Vocal-tract length: how far a voice's formants sit from the training voices', so the
log-mel bands can be warped to meet them.

Why: the mouth model learned from 25 adult speakers. A voice with a shorter vocal tract
(a child, most women) has every formant higher by about the same factor, so the same
vowel lands in other mel bands and reads as another sound. Played 1.2x faster, held-out
speech lost a fifth of its accuracy (r in speech 0.58 -> 0.46); warping the bands by the
right factor won most of it back (0.54).

The factor comes from the formants themselves. A uniform tube closed at one end
resonates at F_i = (2i - 1) c / 4L, so the mean of F_i / (2i - 1) over the first three
formants is c / 4L: one number per voice, independent of which vowel is spoken. It is
estimated per voiced frame from LPC poles and the median taken over the track.
"""

from __future__ import annotations

import numpy as np

from .features import HOP, SAMPLE_RATE

LPC_ORDER = 16  # 2 poles per formant for 4-5 formants under 8 kHz, plus spectral tilt
N_FORMANTS = 3  # F4 of a child's voice can pass FORMANT_BAND_HZ; F1-F3 stay inside
FRAME = 400  # 25 ms
PRE_EMPHASIS = 0.97
FRAME_STRIDE = 3  # every 3rd speech step: neighbours say nothing new, and it is 3x cheaper
MAX_FRAMES = 1500
MIN_FRAMES = 30  # fewer voiced frames than this: no estimate, no warp
MAX_BANDWIDTH_HZ = 400.0  # wider poles are spectral shaping, not formants
FORMANT_BAND_HZ = (200.0, 5000.0)
# Median formant spacing of the 25 training clips by this estimator (the manifest's
# `formant_spacing_hz`, written by scripts/train_mouth_model.py); the voice the mouth
# model knows best.
REFERENCE_SPACING_HZ = 560.0
# The warps the model saw in training (its vocal-tract augmentation spans 0.85-1.18).
WARP_LIMITS = (0.85, 1.2)


def _levinson(r: np.ndarray) -> np.ndarray:
    """LPC polynomials [1, a1..ap] from autocorrelations (n, p + 1), all frames at once."""
    n, p = r.shape[0], r.shape[1] - 1
    a = np.zeros((n, p + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, p + 1):
        k = -(a[:, :i] * r[:, i:0:-1]).sum(axis=1) / err
        a[:, 1 : i + 1] = a[:, 1 : i + 1] + k[:, None] * a[:, i - 1 :: -1][:, :i]
        err = err * (1.0 - k * k)
    return a


def formant_spacing(mono: np.ndarray, speech: np.ndarray) -> float | None:
    """c / 4L of the voice in `mono` (16 kHz) over its speech steps, in Hz; None if unsure."""
    steps = np.flatnonzero(speech)[::FRAME_STRIDE]
    if steps.size < MIN_FRAMES:
        return None
    if steps.size > MAX_FRAMES:
        steps = steps[np.linspace(0, steps.size - 1, MAX_FRAMES).astype(int)]
    x = np.asarray(mono, np.float64)
    x = np.append(x[:1], x[1:] - PRE_EMPHASIS * x[:-1])
    padded = np.pad(x, (FRAME // 2, FRAME // 2 + HOP))
    frames = padded[steps[:, None] * HOP + np.arange(FRAME)[None, :]] * np.hamming(FRAME)
    spectrum = np.fft.rfft(frames, 2 * FRAME, axis=1)
    r = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : LPC_ORDER + 1]
    # Drop near-silent frames, and add a little white noise so the recursion stays stable.
    r = r[r[:, 0] > 1e-9]
    if r.shape[0] < MIN_FRAMES:
        return None
    r[:, 0] *= 1.0 + 1e-9
    a = _levinson(r)
    companion = np.zeros((a.shape[0], LPC_ORDER, LPC_ORDER))
    companion[:, 0, :] = -a[:, 1:]
    companion[:, np.arange(1, LPC_ORDER), np.arange(LPC_ORDER - 1)] = 1.0
    poles = np.linalg.eigvals(companion)
    freq = np.angle(poles) * SAMPLE_RATE / (2 * np.pi)
    bandwidth = -np.log(np.maximum(np.abs(poles), 1e-12)) * SAMPLE_RATE / np.pi
    is_formant = (
        (poles.imag > 0)
        & (bandwidth < MAX_BANDWIDTH_HZ)
        & (freq > FORMANT_BAND_HZ[0])
        & (freq < FORMANT_BAND_HZ[1])
    )
    formants = np.sort(np.where(is_formant, freq, np.inf), axis=1)[:, :N_FORMANTS]
    found = np.isfinite(formants[:, -1])
    if found.sum() < MIN_FRAMES:
        return None
    per_frame = (formants[found] / (2.0 * np.arange(1, N_FORMANTS + 1) - 1.0)).mean(axis=1)
    return float(np.median(per_frame))


def warp_for_spacing(spacing: float | None) -> float:
    """Factor to scale the mel band edges by so a voice of this spacing meets the model's."""
    if spacing is None:
        return 1.0
    return float(np.clip(spacing / REFERENCE_SPACING_HZ, *WARP_LIMITS))


# Neighbouring warps read beside the measured one (`neighbouring_warps`): +-0.165 in log,
# 0.85-1.18 x, the spread of the training's vocal-tract augmentation.
NEIGHBOUR_LOG_SPREAD = 0.165


def neighbouring_warps(warp: float, copies: int) -> tuple[float, ...]:
    """`copies` warps spread evenly in log around `warp` (it among them when odd).

    The estimate of a voice's vocal-tract length is a few percent off, and the mouth model
    reads the same vowel a little differently at each warp; averaging its trunks over warps
    the training augmentation spans takes the guess out (see `MotionSettings.warp_copies`).
    """
    if copies <= 1:
        return (warp,)
    offsets = np.linspace(-NEIGHBOUR_LOG_SPREAD, NEIGHBOUR_LOG_SPREAD, copies)
    return tuple(float(warp * np.exp(o)) for o in offsets)


def voice_warp(mono: np.ndarray, speech: np.ndarray) -> float:
    """`warp_for_spacing` of the voice in `mono` (16 kHz) over its speech steps."""
    return warp_for_spacing(formant_spacing(mono, speech))
