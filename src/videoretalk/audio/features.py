"""Audio features on a fixed 10 ms grid, and sampling them at arbitrary video frame times.

Everything downstream works at `SAMPLE_RATE` mono: any input rate is resampled with a
polyphase filter and any channel count is averaged (`mix_down`). Features are log-mel
energies with per-utterance mean/variance normalisation, so the absolute loudness of the
recording (and microphone gain) does not reach the mouth model; only the spectral shape
does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from ..media.decode import AudioTrack

SAMPLE_RATE = 16_000  # Hz; webrtcvad and the mouth model both run at 16 kHz
HOP = 160  # samples = 10 ms: the feature / VAD grid step
STEP_SECONDS = HOP / SAMPLE_RATE  # 0.01 s
WINDOW = 400  # samples = 25 ms analysis window (standard for speech)
N_FFT = 512
N_MELS = 40
F_MIN, F_MAX = (
    60.0,
    7_600.0,
)  # Hz; below 60 Hz is hum, above 7.6 kHz is past 16 kHz Nyquist roll-off
POWER_FLOOR = 1e-10  # ~ -100 dB: keeps log finite on digital silence
DYNAMIC_RANGE = 1e-8  # 80 dB: floor relative to the loudest step, so gain cancels
MIN_SPEECH_STEPS_FOR_STATS = 50  # 0.5 s of speech before its own statistics are trusted
# A mix keeping less than this share of its loudest channel's power has cancelled itself.
# A voice on one channel only keeps a quarter; channels in opposite phase, next to none.
CANCELLED_MIX_SHARE = 0.1


def to_mono_16k(audio: AudioTrack) -> np.ndarray:
    """Mix down to mono and resample to `SAMPLE_RATE`; float32 samples."""
    mono = mix_down(np.asarray(audio.samples, dtype=np.float32))
    if audio.sample_rate != SAMPLE_RATE and mono.size:
        g = gcd(int(audio.sample_rate), SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, int(audio.sample_rate) // g)
    return np.ascontiguousarray(mono, dtype=np.float32)


def mix_down(samples: np.ndarray) -> np.ndarray:
    """The mean of (channels, n) samples, or the loudest channel where the mean cancels.

    A stereo recording with one channel in opposite phase (a miswired microphone, a
    "wide" effect) sounds like speech but averages to near silence, which closed the
    mouth for the whole video.
    """
    if samples.ndim == 1:
        return samples
    mono = samples.mean(axis=0)
    power = np.mean(np.square(samples, dtype=np.float64), axis=1)
    if power.size > 1 and np.mean(np.square(mono, dtype=np.float64)) < (
        CANCELLED_MIX_SHARE * power.max()
    ):
        return samples[int(np.argmax(power))]
    return mono


def n_steps(n_samples: int) -> int:
    """Grid steps covering `n_samples`: step i is centred at i * STEP_SECONDS."""
    return n_samples // HOP + 1


@lru_cache(maxsize=16)
def mel_filterbank(warp: float = 1.0) -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular mel filters, band edges scaled by `warp`.

    A warp above 1 moves every band up in frequency, so a voice whose formants are that
    much higher (a shorter vocal tract) fills the same bands as the reference voice.
    """

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = warp * mel_to_hz(
        np.linspace(hz_to_mel(np.array(F_MIN)), hz_to_mel(np.array(F_MAX)), N_MELS + 2)
    )
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    fb = np.zeros((N_MELS, bins.size), np.float32)
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        fb[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return fb


def power_spectrum(mono: np.ndarray) -> np.ndarray:
    """|FFT|^2 of 25 ms Hann windows, (n_steps, N_FFT // 2 + 1), step i centred at i * HOP."""
    steps = n_steps(mono.size)
    padded = np.pad(mono, (WINDOW // 2, WINDOW // 2 + HOP))
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(steps)[:, None]
    frames = padded[idx] * np.hanning(WINDOW)
    return (np.abs(np.fft.rfft(frames, n=N_FFT, axis=1)) ** 2).astype(np.float32)


def mel_power(spectrum: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """Linear mel power of a `power_spectrum`, (n_steps, N_MELS) float32."""
    return (spectrum @ mel_filterbank(round(warp, 3)).T).astype(np.float32)


def log_mel(power: np.ndarray) -> np.ndarray:
    """Log power with a floor 80 dB under the track's peak (not an absolute one), so a
    quiet recording of a clean signal gives the same features as a loud one."""
    peak = float(power.max()) if power.size else 0.0
    return np.log(np.maximum(power, max(POWER_FLOOR, peak * DYNAMIC_RANGE))).astype(np.float32)


def normalise(features: np.ndarray, speech: np.ndarray | None = None) -> np.ndarray:
    """Per-utterance mean/variance normalisation, statistics from speech steps when enough.

    Taking statistics over speech only keeps a clip that is mostly silence from pulling
    the mean towards the noise floor, which would make its speech look unusually loud.
    """
    rows = features
    if speech is not None and int(speech.sum()) >= MIN_SPEECH_STEPS_FOR_STATS:
        rows = features[speech]
    if rows.shape[0] == 0:
        return np.zeros_like(features)
    mean = rows.mean(axis=0)
    std = np.maximum(rows.std(axis=0), 1e-3)
    # A scalar std (not per band) keeps the spectral tilt, which tells vowels apart.
    return ((features - mean) / np.sqrt((std**2).mean())).astype(np.float32)


def step_energy_db(mono: np.ndarray) -> np.ndarray:
    """RMS level of each 10 ms step in dBFS, (n_steps,)."""
    steps = n_steps(mono.size)
    padded = np.pad(mono, (0, steps * HOP - mono.size + HOP))[: steps * HOP]
    rms = np.sqrt(np.mean(padded.reshape(steps, HOP).astype(np.float64) ** 2, axis=1))
    return (20.0 * np.log10(np.maximum(rms, 1e-6))).astype(np.float32)


def sample_at(values: np.ndarray, times: np.ndarray, step: float = STEP_SECONDS) -> np.ndarray:
    """Linearly interpolate a grid signal (n_steps, ...) at arbitrary times (s); clamps at the ends."""
    pos = np.clip(np.asarray(times, np.float64) / step, 0.0, values.shape[0] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, values.shape[0] - 1)
    w = (pos - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    return (values[lo] * (1.0 - w) + values[hi] * w).astype(values.dtype)


@dataclass(frozen=True)
class AudioFeatures:
    """A driving track on the 10 ms grid: normalised log-mel, speech mask and level."""

    log_mel: np.ndarray  # (S, N_MELS) float32, normalised
    speech: np.ndarray  # (S,) bool, voice activity
    energy_db: np.ndarray  # (S,) float32 dBFS
    duration: float  # seconds of audio
    phones: np.ndarray | None = None  # (S, N_PHONE_INPUTS) one-hot phone classes, if asked for
    embedding: np.ndarray | None = None  # (S, 96 per layer) speech embedding, if asked for
    voice_warp: float = 1.0  # mel band edges were scaled by this (vocal_tract.voice_warp)
    # The same log-mel at neighbouring warps (`analyse_audio(warp_copies=...)`), each
    # normalised as `log_mel` is; empty when only the measured warp was read.
    log_mel_copies: tuple[np.ndarray, ...] = ()

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.log_mel.shape[0]) * STEP_SECONDS
