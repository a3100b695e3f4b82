"""Mouth motion for every output frame: the public entry point of the motion stage.

1. analyse the driving audio (10 ms log-mel, its bands warped to the voice's vocal-tract
   length, + voice activity);
2. run the trunk of the mouth model over it;
3. the person: their rest shape (lips brought together if the source never closes
   them) and range; the read-out adapted to the speaker when the source video carries
   their own speech, else the generic one scaled to how wide this person opens;
4. smooth (more where the sound holds steady), restore the range regression damps
   (`articulation`), then gate by voice activity
   (mouth at rest outside speech, opening `lead_s` early and closing smoothly);
5. sample at the exact frame times, never closing past the rest shape, and add to the
   person's rest shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio.features import STEP_SECONDS, AudioFeatures, sample_at
from ..audio.vad import widen
from ..media.decode import AudioTrack
from .adapt import adapt_to_speaker
from .model import MouthModel, analyse_for_model
from .settings import MotionSettings
from .shape import (
    CLOSED_SHARE_OF_RANGE,
    MOUTH_REGION,
    close_lips,
    mouth_opening,
    range_scale,
    rest_and_range,
)

if TYPE_CHECKING:
    from ..face import FaceTrack

MIN_PRESENT_FOR_REST = 10  # frames with a face needed to trust the person's rest shape
MAX_OPEN_FACTOR = 1.5  # x the 95th-percentile opening (the person's, else the training mean)


@dataclass(frozen=True)
class MouthMotion:
    frame_times: np.ndarray  # (T,) float64 seconds, exactly the times asked for
    shapes: np.ndarray  # (T, K, 3) float32 canonical coordinates of `point_indices`
    point_indices: np.ndarray  # (K,) mesh indices (MOUTH_REGION)
    opening: np.ndarray  # (T,) float32 inner-lip gap / inter-ocular distance
    speech: np.ndarray  # (T,) bool voice activity at each frame


@lru_cache(maxsize=4)
def load_model(path: str = "") -> MouthModel:
    return MouthModel.load(path or None)


def predict_mouth_motion(
    audio: AudioTrack,
    frame_times: np.ndarray,
    face_track: FaceTrack | None = None,
    source_audio: AudioTrack | None = None,
    settings: MotionSettings | None = None,
) -> MouthMotion:
    """Mouth shape for each of `frame_times` (s, on the driving audio's clock).

    `face_track` gives the person's rest shape and range; with `source_audio` (the
    source video's own track) the mapping is also adapted to the speaker.
    """
    settings = settings or MotionSettings()
    times = np.asarray(frame_times, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError("frame_times must be a 1-D array of seconds")
    model = load_model(settings.weights)

    feats = analyse_for_model(model, audio, settings)  # 1
    hidden = model.hidden_for(feats)  # 2
    rest, readout, scale, span = _person(model, face_track, source_audio, settings)  # 3
    coefs = model.coefficients(hidden, readout)
    coefs = _smooth_where_steady(model, coefs, feats.log_mel, settings)
    coefs = _articulate(coefs, feats.speech, settings.articulation)
    gate = speech_gate(feats, settings)
    coefs = coefs * gate[:, None]  # 4
    at_frames = _no_tighter_than_rest(model, sample_at(coefs, times))  # 5
    at_frames[times > feats.duration + settings.release_s] = 0.0  # past the audio: rest
    deform = model.deformation(at_frames) * scale
    full = np.broadcast_to(rest, (times.size,) + rest.shape).copy()
    full[:, model.points] += deform
    # Out-of-distribution sound (a pure tone, a scream) must not tear the mouth open:
    # no frame opens wider than MAX_OPEN_FACTOR x the person's own wide opening.
    excess = (mouth_opening(full) - mouth_opening(rest[None])[0]) / (MAX_OPEN_FACTOR * span)
    shrink = np.where(excess > 1.0, 1.0 / np.maximum(excess, 1.0), 1.0).astype(np.float32)
    full[:, model.points] = rest[model.points] + deform * shrink[:, None, None]
    gate_frames = sample_at(gate, times)
    gate_frames[times > feats.duration] = 0.0
    return MouthMotion(
        frame_times=times,
        shapes=full[:, MOUTH_REGION].astype(np.float32),
        point_indices=MOUTH_REGION.copy(),
        opening=mouth_opening(full),
        speech=gate_frames > 0.5,
    )


def speech_gate(feats: AudioFeatures, settings: MotionSettings) -> np.ndarray:
    """0..1 per 10 ms step: on from `lead_s` before speech to `release_s` after it.

    The gate rises and falls smoothly over `ramp_s` inside that window, so the mouth
    opens into speech and closes after it over a frame or two, as lips do, instead of
    snapping between the model's opening and rest in one frame. Audio that starts or
    ends mid-speech needs no ramp there.
    """
    lead = round(settings.lead_s / STEP_SECONDS)
    release = round(settings.release_s / STEP_SECONDS)
    window = widen(feats.speech, lead, release)
    ramp = settings.ramp_s / STEP_SECONDS
    if ramp <= 1:
        return window.astype(np.float32)
    x = np.clip(_steps_inside(window) / ramp, 0.0, 1.0)
    return (x * x * (3 - 2 * x)).astype(np.float32)


def _steps_inside(window: np.ndarray) -> np.ndarray:
    """Per step, 1 + how many steps it lies inside `window` from its nearest edge (0 outside);
    the ends of the array are not edges."""
    n = window.size
    index = np.arange(n)
    far = n + 1
    last_out = np.maximum.accumulate(np.where(window, -far, index))
    next_out = np.minimum.accumulate(np.where(window, n + far, index)[::-1])[::-1]
    return np.where(window, np.minimum(index - last_out, next_out - index), 0)


def _articulate(coefs: np.ndarray, speech: np.ndarray, gain: float) -> np.ndarray:
    """Scale each step's distance from the mean mouth in speech by `gain`.

    Only the range changes: the output already follows time as well as a re-reading of
    it can. Held out (3 folds), a linear filter over its neighbouring +-1 to +-6 frames,
    fitted on the other clips, moved r within speech by -0.002 to +0.000 per clip; a
    power law on the opening above rest (exponents 0.6-2.0) did not raise its mean over
    clips (0.664 at best, as without); nor did adding where the frame sits in its stretch
    of speech (time since it began, until it ends): -0.001 +- 0.001 per clip. Held out,
    the prediction's closings trail the real ones by a fraction of a frame, but taking
    the least opening within a quarter or half a frame either side (opening later and
    closing sooner) lowered r within speech by 0.003-0.018 per clip. Nor does a
    closed-lips classifier help (logistic regression over the embedding taps, fitted per
    fold on speech frames whose lips lie within a quarter of the speaker's range of rest),
    pulling the lip gap towards rest by half or all of its probability: r within speech
    -0.004 +- 0.005 / -0.020 +- 0.010 per clip, though over whole clips +0.016 +- 0.005 /
    +0.025 +- 0.010, and the prediction itself then closes 133 / 139 of 149 real closures
    (123 without). It is no bilabial detector: on espeak-ng's Mandarin, at half, it took
    bilabials closed from 22 % to 30-33 % but open vowels "closed" from 6 % to 15-17 %.
    Nor is there a bend left for a mapping of the opening to undo: held out, rank r
    within speech is 0.703 against Pearson's 0.674 (median, seed 1234), but the real
    opening's mean rises in step with the prediction's across +-2.5 SD (both z-scored
    per clip); only its spread grows with it, so the rank gain is the real opening's
    wide tail, not a curve.
    """
    if gain == 1.0 or not speech.any():
        return coefs
    mean = coefs[speech].mean(axis=0)
    return mean + gain * (coefs - mean)


def _no_tighter_than_rest(model: MouthModel, coefs: np.ndarray) -> np.ndarray:
    """Remove any closing past the rest shape (lips would press through each other).

    The vertical inner-lip gap is linear in the coefficients, so frames that go below
    the rest gap are moved back onto it along the gap direction alone; width and
    rounding are kept.
    """
    direction = model.gap_direction
    below = coefs @ direction
    fix = np.minimum(below, 0.0) / max(float(direction @ direction), 1e-12)
    return coefs - fix[:, None] * direction[None, :]


# Spectral change (mean |difference| of the normalised log-mel bands per 10 ms step,
# smoothed over 30 ms) below which the sound counts as held, and above which as moving.
# Measured in speech: median 0.29-0.34 on the shared clips, 0.17-0.20 with the same
# speech stretched to twice its length (a sung or drawn-out vowel).
STEADY_FLUX = (0.15, 0.28)


def _smooth_where_steady(
    model: MouthModel, coefs: np.ndarray, log_mel: np.ndarray, settings: MotionSettings
) -> np.ndarray:
    """Smooth by `smooth_s`, and by up to `steady_smooth_s` where the sound holds steady.

    While a vowel is held the lips hold too, but the model's output still wavers with the
    voice's small changes (a flicker on sung and drawn-out vowels). Heavier smoothing is
    blended in as the spectral change falls, and never where it would open the mouth
    more than the light smoothing does, so closures (a held /m/ is steady too) stay.
    """
    light = _smooth(coefs, settings.smooth_s)
    if settings.steady_smooth_s <= settings.smooth_s or log_mel.shape[0] < 2:
        return light
    heavy = _smooth(coefs, settings.steady_smooth_s)
    change = np.abs(np.diff(log_mel, axis=0)).mean(axis=1)
    change = _smooth(np.r_[change[:1], change][:, None], 0.03)[:, 0]
    low, high = STEADY_FLUX
    steady = np.clip((high - change) / (high - low), 0.0, 1.0)
    direction = model.gap_direction
    steady = steady * ((heavy @ direction) <= (light @ direction))
    return light + steady[:, None] * (heavy - light)


def _smooth(values: np.ndarray, sigma_s: float) -> np.ndarray:
    sigma = sigma_s / STEP_SECONDS
    if sigma < 0.3:
        return values
    radius = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    return np.stack(
        [np.convolve(padded[:, j], k, mode="valid") for j in range(values.shape[1])], axis=1
    )


def _person(
    model: MouthModel,
    face_track: Any | None,
    source_audio: AudioTrack | None,
    settings: MotionSettings,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None, float, float]:
    """Rest shape, read-out, deformation scale and opening range of the person."""
    generic = (model.rest_shape, None, 1.0, model.typical_range)
    if face_track is None:
        return generic
    present = np.asarray(face_track.present, bool)
    if present.sum() < MIN_PRESENT_FOR_REST:
        return generic
    canonical = np.asarray(face_track.canonical, np.float32)
    rest, opening_range = rest_and_range(canonical, present)
    rest = closed_rest(model, rest)
    # A mouth that barely moves in the source (a still, someone listening) shows little
    # of how wide it opens: the typical range takes over as that evidence thins (half the
    # typical range moved is full evidence; the shared clips' speakers move 0.34-1.9 x).
    evidence = min(1.0, opening_range / (2 * CLOSED_SHARE_OF_RANGE * model.typical_range))
    scale = evidence * range_scale(opening_range, model.typical_range) + (1 - evidence)
    span = model.typical_range * scale
    # One that moves less than a closure counts shows nothing to adapt to either: a
    # read-out fitted to it would hold the mouth still.
    still = opening_range < CLOSED_SHARE_OF_RANGE * model.typical_range
    if source_audio is None or not settings.adapt or still:
        return rest, None, scale, span
    readout = adapt_to_speaker(model, face_track, source_audio, rest, settings)
    return (rest, readout, 1.0, span) if readout is not None else (rest, None, scale, span)


def closed_rest(model: MouthModel, rest: np.ndarray) -> np.ndarray:
    """The person's rest, with the lips brought together if it leaves them apart.

    A person's rest comes from their most-closed frames, and on the shared clips it
    parts the lips by 0.000-0.016 of the eye distance. When even the most-closed frames
    are open by more than a closure counts (`CLOSED_SHARE_OF_RANGE` of the typical range:
    a still of an open mouth, or someone who never shuts it on camera), silence would
    hold the mouth open. The lips are then brought together as real mouths close
    (`shape.close_lips`: the upper lip down part of the way, the lower lip and the jaw
    up, the lips thickening a little). `benchmarks/closing_shape.py` closes each shared
    clip's widest frame so and compares it with the clip's own closed rest: heights off
    by a median 0.016 of the eye distance over the mouth region, 0.013 at the chin, lip
    thickness -0.001 / +0.005 (upper / lower). It was done in the model's 12 shape
    components before, as the smallest change that closed the lips with the upper lip's
    middle held: 0.042, 0.100 and -0.020 / -0.025 (both lips thinned, the mouth closed
    too high), and on talk4's widest frame the lips' middle moved 0.09 sideways
    (rendered: a thin, tilted line). Holding the lips' thickness and middle in those
    components too moved the chin 0.08-0.3 sideways.
    """
    closed_gap = float(mouth_opening(model.rest_shape[None])[0])
    if mouth_opening(rest[None])[0] - closed_gap <= CLOSED_SHARE_OF_RANGE * model.typical_range:
        return rest
    return close_lips(rest, model.rest_shape, model.points)
