"""Voice activity on the 10 ms grid: webrtcvad, checked against the track's own levels.

webrtcvad (a GMM over sub-band energies, compiled into the wheel) decides speech vs not;
a steady pure tone as loud as the track (a censor bleep over a word, a test tone) counts
as voice too, since webrtcvad takes or drops tones by frequency almost at random. Two
level checks then reject what it lets through between words: steps far below the
track's loud speech (breaths, lip smacks, room tone) and steps close to the noise floor
(hum, fans). Short gaps inside a word are bridged and isolated blips dropped, so the
mouth does not flutter.
"""

from __future__ import annotations

import numpy as np
import webrtcvad

from .features import HOP, N_FFT, SAMPLE_RATE, n_steps, power_spectrum, step_energy_db
from .settings import VadSettings

DIGITAL_SILENCE_DBFS = (
    -90.0
)  # a track whose loud steps are below this is silence (16-bit noise floor)
TARGET_LEVEL_DBFS = (
    -20.0
)  # loud steps are brought to this level before webrtcvad, which is level-dependent
MAX_GAIN_DB = 40.0
SILENCE_DBFS = -60.0  # after levelling: 40 dB under speech is silent whatever webrtcvad says
TONE_BAND_HZ = (80.0, 7600.0)  # up to near the 8 kHz Nyquist limit
# A step is a pure tone when one sinusoid (its peak FFT bin ±2) carries this share of the band's
# power. Measured: a sine 1.00 (0.995 under white noise 20 dB down); real clips' speech
# 0.55 median, and their non-speech within 10 dB of the loud level never held it 0.15 s.
TONE_PEAK_SHARE = 0.95
TONE_BELOW_LOUD_DB = 10.0  # a bleep replaces a word: about as loud as the track gets


def detect_speech(
    mono16k: np.ndarray, settings: VadSettings | None = None, spectrum: np.ndarray | None = None
) -> np.ndarray:
    """Speech mask on the 10 ms grid, (n_steps(len),) bool; step i is centred at i * 10 ms.

    `spectrum` is `power_spectrum(mono16k)` when the caller has it already (the tone check
    reads it; its level does not matter).
    """
    settings = settings or VadSettings()
    steps = n_steps(mono16k.size)
    energy = step_energy_db(mono16k)
    loud_raw = float(np.percentile(energy, 95)) if energy.size else DIGITAL_SILENCE_DBFS
    if loud_raw <= DIGITAL_SILENCE_DBFS:
        return np.zeros(steps, bool)
    # Level the track first so the same speech gives the same decisions at any loudness.
    gain_db = min(TARGET_LEVEL_DBFS - loud_raw, MAX_GAIN_DB)
    mono16k = mono16k * np.float32(10 ** (gain_db / 20))
    energy = energy + gain_db
    # webrtcvad frames start at i*HOP - HOP/2 so each decision is centred on grid step i.
    pcm = np.clip(mono16k, -1.0, 1.0) * 32767.0
    pcm = np.pad(pcm, (HOP // 2, steps * HOP - mono16k.size + HOP)).astype(np.int16)
    vad = webrtcvad.Vad(settings.aggressiveness)
    raw = np.zeros(steps, bool)
    for i in range(steps):
        if energy[i] > SILENCE_DBFS:
            raw[i] = vad.is_speech(pcm[i * HOP : (i + 1) * HOP].tobytes(), SAMPLE_RATE)
    if spectrum is None:
        spectrum = power_spectrum(mono16k)
    raw |= sustained_tones(spectrum, energy, settings.min_tone_s)
    if not raw.any():
        return raw
    loud = float(np.percentile(energy[raw], 90))
    floor = float(np.percentile(energy, 5))
    threshold = max(SILENCE_DBFS, loud - settings.below_speech_db, floor + settings.above_floor_db)
    speech = raw & (energy > threshold)
    speech = _fill_runs(speech, False, round(settings.bridge_gap_s / 0.01))
    return _fill_runs(speech, True, round(settings.min_speech_s / 0.01) - 1)


def sustained_tones(spectrum: np.ndarray, energy: np.ndarray, min_seconds: float) -> np.ndarray:
    """Steps inside a pure tone at least `min_seconds` long and near the track's loudest.

    `spectrum` is the track's `power_spectrum`, `energy` its `step_energy_db` (levelled).
    """
    power = spectrum[: energy.size].astype(np.float64)
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    band = power[:, (bins >= TONE_BAND_HZ[0]) & (bins <= TONE_BAND_HZ[1])]
    # The strongest bin and two either side: a Hann-windowed sine spreads over about 4.
    top = band.argmax(axis=1)[:, None] + np.arange(5)[None, :]  # in the band padded by 2
    peak = np.take_along_axis(np.pad(band, ((0, 0), (2, 2))), top, axis=1).sum(axis=1)
    share = peak / np.maximum(band.sum(axis=1), 1e-20)
    loud = float(np.percentile(energy, 95))
    tone = (share >= TONE_PEAK_SHARE) & (energy > max(SILENCE_DBFS, loud - TONE_BELOW_LOUD_DB))
    return _fill_runs(tone, True, round(min_seconds / 0.01) - 1)


def widen(mask: np.ndarray, before: int, after: int) -> np.ndarray:
    """Step i is on if `mask` is on anywhere in [i - after, i + before].

    That is, each run of speech grows `before` steps earlier and `after` steps later.
    """
    cs = np.r_[0, np.cumsum(mask)]
    i = np.arange(mask.size)
    return (cs[np.minimum(i + before + 1, mask.size)] - cs[np.maximum(i - after, 0)]) > 0


def _fill_runs(mask: np.ndarray, value: bool, max_len: int) -> np.ndarray:
    """Flip interior runs of `value` no longer than `max_len` steps (edges kept for gaps)."""
    out = mask.copy()
    if max_len <= 0:
        return out
    d = np.diff(np.r_[0, (mask == value).astype(np.int8), 0])
    for start, stop in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        interior = start > 0 and stop < mask.size
        if stop - start <= max_len and (interior or value):
            out[start:stop] = not value
    return out
