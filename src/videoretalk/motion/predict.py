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

from ..audio.analyse import analyse_audio
from ..audio.features import STEP_SECONDS, AudioFeatures, sample_at
from ..audio.vad import widen
from ..media.decode import AudioTrack
from .model import MouthModel, adapt_readout
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

MIN_ADAPT_SECONDS = 2.0  # less own speech than this: adaptation would only add noise
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


def analyse_for_model(
    model: MouthModel, audio: AudioTrack, settings: MotionSettings
) -> AudioFeatures:
    """A track's features, with the extra inputs this model reads (phones, embeddings)."""
    return analyse_audio(
        audio,
        settings.vad,
        model.uses_phones and settings.phones,
        settings.normalise_voice,
        embedding_layers=model.embedding_layers if model.uses_embedding else (),
        warp_copies=settings.warp_copies,
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


def adapt_to_speaker(
    model: MouthModel,
    face_track: Any,
    source_audio: AudioTrack,
    rest: np.ndarray,
    settings: MotionSettings,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fit the read-out on the source video's own frame/audio pairs (a few ms of algebra).

    Pauses are fitted too, though their output is gated closed: fitting speech frames only
    (VAD steps, or widened by 100 ms) moved held-out r within speech by -0.004 +- 0.007 /
    +0.000 +- 0.003 per clip (3 folds) and lowered r over whole clips (0.460 -> 0.42-0.43).
    Nor does a non-linear correction on top: adding to each predicted frame the mean error
    (real minus adapted) of the 10 source speech frames nearest to it in the model's
    features moved held-out r within speech by +0.003 +- 0.007 per clip (half of it:
    +0.007 +- 0.004), within noise; with the neighbours found among the adapted outputs
    or along 16 principal directions of the features, -0.005 +- 0.004 / -0.001 +- 0.003.
    Nor does fitting it on the source's faster motion alone (features and target less
    their moving mean over +-0.5 s or +-1 s, so slow drifts of pose or mood do not bend
    it): -0.003 +- 0.010 / -0.004 +- 0.006 per clip. Nor averaging read-outs fitted at
    the measured shift and 20 or 40 ms either side of it: +0.000 +- 0.002 / -0.003 +-
    0.004 (r over whole clips -0.003 / -0.012). The re-fit also moves the output's timing
    by 10-30 ms on about 11 of 25 clips, and that too is the speaker's: shifting the
    adapted output back onto the generic one's timing (the shift within +-30 ms at which
    the two agree best on the driving audio) moved held-out r within speech by -0.006 +-
    0.007 / -0.005 +- 0.006 per clip (seeds 1234 / 99, 6 of 25 better on each). Nor
    does more timing freedom help: a read-out re-fitted over the features at t - 20 ms,
    t and t + 20 ms together (the side copies pulled towards zero as hard as the rows,
    or 4 x harder) moved it by -0.007 +- 0.004 / -0.001 +- 0.001 per clip (seed 1234),
    lip error worse on 24 of 25 clips at the first. Nor a per-speaker weighting of the
    output's slow and fast parts (split at an 80 or 160 ms Gaussian), though gains fitted
    on the scored frames themselves would add +0.018 to +0.023 per clip: fitted on the
    source from cross-fitted halves, -0.030 +- 0.013 / -0.021 +- 0.010, and with the
    ratio's log halved -0.012 +- 0.006 / -0.007 +- 0.004 (seed 1234, 11 / 10 of 25 better).
    Nor does choosing how hard to adapt per clip, though adaptation's effect varies widely
    (held out, against the generic read-out: -0.19 to +0.33 within speech per clip, mean
    +0.031 +- 0.020): the pull x0.5 / 1 / 3 or none, whichever best predicted each of 4
    contiguous blocks of the source's frames from the other 3 (r within speech), moved it
    by -0.012 +- 0.017 per clip (10 of 25 better; none chosen on 13), over whole clips
    -0.029 +- 0.009 (seed 1234).
    """
    times = np.asarray(face_track.frame_times, np.float64)
    present = np.asarray(face_track.present, bool)
    if source_audio.duration > settings.adapt_max_source_s:
        kept = round(settings.adapt_max_source_s * source_audio.sample_rate)
        source_audio = AudioTrack(source_audio.samples[:, :kept], source_audio.sample_rate)
    keep = present & (times <= source_audio.duration)
    frame_step = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    if keep.sum() * frame_step < MIN_ADAPT_SECONDS:
        return None  # too few frames with the face: skip analysing the source's audio
    feats = analyse_for_model(model, source_audio, settings)
    if feats.speech.sum() * STEP_SECONDS < MIN_ADAPT_SECONDS:
        return None
    hidden = model.hidden_for(feats)
    canonical = np.asarray(face_track.canonical, np.float32)
    real_open = mouth_opening(canonical[keep])
    # The source's own A/V offset: shift that best lines up the generic prediction.
    gap = generic_opening_grid(model, hidden)
    lag = best_lag(gap, times[keep], real_open, settings.adapt_max_lag_s)
    target = (canonical[keep][:, model.points] - rest[model.points]).reshape(
        keep.sum(), -1
    ) @ model.basis.T
    h = sample_at(hidden, times[keep] + lag)
    return adapt_readout(model, h, target, settings.adapt_strength, settings.adapt_branch_strength)


def generic_opening_grid(model: MouthModel, hidden: np.ndarray) -> np.ndarray:
    """Mouth opening of the generic (unadapted) read-out at every 10 ms step."""
    deform = model.deformation(model.coefficients(hidden))
    full = np.broadcast_to(model.rest_shape, (deform.shape[0],) + model.rest_shape.shape).copy()
    full[:, model.points] += deform
    return mouth_opening(full)


def best_lag(
    grid_values: np.ndarray,
    times: np.ndarray,
    real: np.ndarray,
    max_lag_s: float,
    penalty_per_s: float = 0.0,
) -> float:
    """Shift (s) of the video onto the audio clock that maximises Pearson r, less
    `penalty_per_s` per second of shift.

    Training's first pass sets a penalty (its briefly trained net's r is flat over
    shifts). Inference sets none: penalising r by 0.25 or 1.0 per second of shift moved
    held-out r within speech by -0.001 / -0.001 (seed 1234) and -0.003 / -0.008 (seed
    99) per clip. Nor is the curve of r over shifts smoothed (a 20 or 40 ms Gaussian:
    -0.007 +- 0.004 per clip). Searching +-300 ms instead of the +-200 ms of
    `adapt_max_lag_s` and the benchmark moved only one of 25 clips, whose recording is
    offset by +230 ms (+0.003). Nor does cross-fitting refine it: taking, within +-60 ms
    of this shift, the one at which a read-out adapted on either half of the source best
    predicts the other half moved r within speech by -0.009 +- 0.005 per clip (5 of 25
    better): halves of a short source are too few frames to fit. Nor does correlating
    something else: frame-to-frame changes, that plus the levels, or the levels less
    their 0.5 s moving mean moved it by -0.001 +- 0.002 / -0.000 +- 0.001 / +0.001 +-
    0.002 per clip; they pick the same shift on most clips. Nor the whole mouth: the 12
    shape coefficients' r weighted by their variance, alone or averaged with the
    opening's (-0.002 +- 0.003 / -0.003 +- 0.002, seed 1234; -0.006 / -0.007 +- 0.005,
    seed 99). Nor refining it within +-40 ms by how well a read-out adapted at each
    shift fits the source (in sample): -0.013 +- 0.005 / -0.020 +- 0.006 per clip (2 / 5
    of 25 better). Nor a shift between the 10 ms steps (the vertex of a parabola through
    r at the best step and its neighbours): -0.010 +- 0.005 per clip (10 of 25 better,
    seed 1234). The generic prediction is already aligned: held out, shifting every
    prediction by 10 or 20 ms either way after this lag lowered r within speech (-0.008
    to -0.038 per clip on both seeds), and a 10 ms shift moves a clip's r by 0.024 on
    average, either way: so sharp a peak is why the best lag within +-4 frames, chosen
    on the scored part, scores higher than this one. Is the shift one number per
    recording? Held out (seed 1234), the generic prediction's best shift on a clip's
    last 40 % (speech) differs from the one on its first 60 % by a median of 10 ms, and
    by 30-40 ms on 7 of 25 clips; over 3 s windows it wanders by 20-60 ms on the longer
    clips (60 s: +20 to +120 ms). But over 6 s windows the 60 s clip stays at +40 to +80
    ms (SD 11 ms, trend -0.4 ms per second) and the other long clips within 0-30 ms: the
    wander is mostly the estimate's own noise on short stretches, not the recording
    drifting. So a shift measured per stretch would be noisier, not truer, and much of
    that gap is the best lag fitting noise on the scored part itself. Nor would a truer
    estimate of the recording's shift help: measured on the whole clip (the scored part
    too) instead of the first 60 %, it moved held-out r within speech by +0.003 +- 0.007
    per clip (3 folds; 11 of 25 clips moved 10-30 ms).
    """
    best_lag, best_score = 0.0, -np.inf
    for lag in np.arange(-max_lag_s, max_lag_s + 1e-9, STEP_SECONDS):
        score = pearson(sample_at(grid_values, times + lag), real) - penalty_per_s * abs(lag)
        if score > best_score + 1e-9 or (
            abs(score - best_score) <= 1e-9 and abs(lag) < abs(best_lag)
        ):
            best_lag, best_score = float(lag), score
    return best_lag


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two equal-length series; 0 where either is constant (the benchmark's
    and training's r, so both score alike)."""
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0
