"""The cached clips as training data for the mouth model.

Each clip's landmarks are put in the face stage's canonical space, with the speaker's rest
shape and range, and its audio becomes several log-mel copies: as recorded, then with
vocal-tract warps, noise, a synthetic music bed and a higher pitch, so the trunk learns to
read voices and backgrounds it has not heard. Every copy is warped to the reference voice,
as inference reads audio (`videoretalk.audio.analyse`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from synthetic_music import accompaniment  # in scripts/, on the path as the script runs
from voice_effects import shift_pitch

from videoretalk.audio.features import (
    SAMPLE_RATE,
    STEP_SECONDS,
    log_mel,
    mel_filterbank,
    normalise,
    power_spectrum,
)
from videoretalk.audio.phones import phone_inputs
from videoretalk.audio.vad import detect_speech, widen
from videoretalk.audio.vocal_tract import formant_spacing, voice_warp, warp_for_spacing
from videoretalk.motion.shape import (
    CLOSED_SHARE_OF_RANGE,
    canonicalise,
    mouth_opening,
    rest_and_range,
    training_reference,
)

from .config import TrainConfig

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "motion"  # filled by scripts/extract_mouth_landmarks.py


@dataclass
class Clip:
    name: str
    times: np.ndarray  # video frame times (s), corrected to the audio clock
    present: np.ndarray
    canonical: np.ndarray  # (N, 478, 3)
    opening: np.ndarray
    rest: np.ndarray  # (478, 3)
    range_: float
    feats: list[np.ndarray]  # [clean, augmented...] each (S, N_MELS)
    phones: np.ndarray  # (S, N_PHONE_INPUTS) from the clean audio; zero-width if unused
    talking: np.ndarray  # (S,) bool: speech within ±talk_margin_s of the step
    formant_spacing: float | None  # c / 4L of this copy's voice (Hz), None if unmeasured
    coefs: np.ndarray | None = None
    lag: float = 0.0
    tempo: float = 1.0  # audio played this much faster; frame times divide by it

    @cached_property
    def closed(self) -> np.ndarray:
        """Frames whose lips are within `CLOSED_SHARE_OF_RANGE` of the range of the rest shape
        (read for every training window: computed once)."""
        rest_open = float(mouth_opening(self.rest[None])[0])
        return self.opening <= rest_open + CLOSED_SHARE_OF_RANGE * self.range_

    def steps_at_frames(self) -> np.ndarray:
        """Each video frame's position on this copy's 10 ms feature grid."""
        return (self.times + self.lag) / self.tempo / STEP_SECONDS


def _cached_phones(name: str, mono: np.ndarray) -> np.ndarray:
    """Phone classes of a clip's clean audio; decoding is ~5 % of real time, so cache it."""
    path = CACHE.parent / "motion_phones" / f"{name}.npy"
    if path.exists():
        return np.load(path)
    phones = phone_inputs(mono)
    if phones is None:
        raise SystemExit("pocketsphinx is needed to train a phone model (pip install pocketsphinx)")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, phones)
    return phones


def load_clips(
    names: list[str], cfg: TrainConfig, rng: np.random.Generator
) -> tuple[list[Clip], np.ndarray]:
    raw = [np.load(CACHE / f"{n}.npz") for n in names]
    reference = training_reference(r["landmarks"][r["present"]] for r in raw)
    clips = []
    for name, r in zip(names, raw):
        canon = canonicalise(r["landmarks"], reference)
        present = r["present"].astype(bool)
        rest, rng_ = rest_and_range(canon, present)
        mono = r["audio"].astype(np.float32)
        margin = round(cfg.talk_margin_s / STEP_SECONDS)
        for tempo in (1.0, *cfg.tempos):
            sped = _speed_up(mono, tempo)
            speech = detect_speech(sped)
            spacing = formant_spacing(sped, speech)
            warp = warp_for_spacing(spacing) if cfg.normalise_voice else 1.0
            clips.append(
                Clip(
                    name,
                    r["frame_times"] - float(r["stream_offset"]),
                    present,
                    canon,
                    mouth_opening(canon),
                    rest,
                    rng_,
                    _augmented_features(sped, speech, cfg.variants, rng, warp, cfg.music_variants)
                    + (_pitch_copies(name, sped, speech, cfg) if tempo == 1.0 else []),
                    _cached_phones(name, mono)
                    if cfg.phones and tempo == 1.0
                    else np.zeros((len(speech), 0)),
                    widen(speech, margin, margin),
                    spacing,
                    tempo=tempo,
                )
            )
    return clips, reference


def _speed_up(mono: np.ndarray, tempo: float) -> np.ndarray:
    """The recording played `tempo` times faster (pitch and formants rise with it)."""
    if tempo == 1.0:
        return mono
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(1 / tempo).limit_denominator(50)
    return resample_poly(mono, ratio.numerator, ratio.denominator).astype(np.float32)


def _features(spectrum: np.ndarray, warp: float, speech: np.ndarray) -> np.ndarray:
    """Normalised log-mel of a power spectrum, its bands warped by `warp` (as inference)."""
    return normalise(log_mel(spectrum @ mel_filterbank(warp).T), speech)


def _augmented_features(
    mono: np.ndarray,
    speech: np.ndarray,
    variants: int,
    rng: np.random.Generator,
    own: float = 1.0,
    music_variants: int = 0,
) -> list[np.ndarray]:
    """Clean log-mel, then `variants` copies with a vocal-tract warp and added noise, and
    `music_variants` with a warp and a synthetic music bed (`synthetic_music.py`).

    Every copy starts from the clip's own warp `own` (to the reference voice, as
    inference does in `analyse_audio`; 1 = as recorded). Backgrounds add in power.
    """
    spec = power_spectrum(mono)
    feats = [_features(spec, own, speech)]
    sig_power = float(spec[speech].mean()) if speech.any() else float(spec.mean())
    noise_spec = power_spectrum(rng.standard_normal(mono.size).astype(np.float32))
    backgrounds = [(noise_spec, rng.uniform(10, 40)) for _ in range(variants)]
    for _ in range(music_variants):
        music = accompaniment(mono.size / SAMPLE_RATE + 0.1, int(rng.integers(2**31)))
        backgrounds.append((power_spectrum(music[: mono.size]), rng.uniform(0, 20)))
    for background, snr_db in backgrounds:
        alpha = float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))
        mixed = spec + background * (sig_power / background.mean()) * 10 ** (-snr_db / 10)
        feats.append(_features(mixed, own * alpha, speech))
    return feats


def _pitch_copies(name: str, mono: np.ndarray, speech: np.ndarray, cfg: TrainConfig) -> list:
    """Log-mel of `cfg.pitch_variants` copies of the clip at a higher pitch, same formants.

    Drawn from their own generator, so the other copies stay as they are with or without.
    """
    rng = np.random.default_rng([cfg.seed, zlib.crc32(name.encode())])
    feats = []
    for _ in range(cfg.pitch_variants):
        raised = shift_pitch(mono, float(np.exp(rng.uniform(np.log(1.15), np.log(2.0)))))
        warp = voice_warp(raised, speech) if cfg.normalise_voice else 1.0
        feats.append(_features(power_spectrum(raised), warp, speech))
    return feats
