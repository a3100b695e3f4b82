"""Adapting the mouth model to the speaker, from the source video's own speech.

When the source video carries the person's own voice, its frames and audio are pairs
of the very mapping the model guesses at: `adapt_to_speaker` measures the recording's
A/V offset (`best_lag`) and re-fits the model's read-out on those pairs, pulled towards
the generic one (`model.adapt_readout`), before the driving audio is predicted.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..audio.features import STEP_SECONDS, sample_at
from ..media.decode import AudioTrack
from .model import MouthModel, adapt_readout, analyse_for_model
from .settings import MotionSettings
from .shape import mouth_opening

log = logging.getLogger(__name__)

MIN_ADAPT_SECONDS = 2.0  # less own speech than this: adaptation would only add noise
# The generic prediction must follow the source's real mouth at least this well (Pearson r
# at the best shift) for its audio to count as the speaker's own. Held out (3 folds, each
# clip's first 60 %): own speech scored 0.25-0.86 (median 0.65; only podium, 3 s with a
# 1.2 s pause, under 0.47), other speech (the dev speech clips in its place, as under a
# voice-over, a dub or an off-camera interviewer) -0.37-0.54 (median 0.11; only one clip
# of 5 s over 0.34).
MIN_OWN_SPEECH_R = 0.4


def adapt_to_speaker(
    model: MouthModel,
    face_track: Any,
    source_audio: AudioTrack,
    rest: np.ndarray,
    settings: MotionSettings,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fit the read-out on the source video's own frame/audio pairs (a few ms of algebra);
    None where there are too few, or where the source's audio is not the speaker's voice.

    A source whose track is another voice (a voice-over, a dub, an interviewer off
    camera) taught the read-out that speech leaves these lips still: held out (3 folds,
    the dev speech clips in place of each clip's own first 60 %), r within speech fell
    from 0.674 to 0.457 (-0.235 +- 0.025 per clip), far below no adaptation (0.666).
    With the `MIN_OWN_SPEECH_R` check it is 0.666 (+0.199 +- 0.027, 23 of 25 better);
    on the clips' own speech only podium changes (r within speech -0.009). Its cost: under
    a music bed 10 dB down (the benchmark's --music 10) the child's own voice falls under
    the check too, and its r within speech drops 0.559 -> 0.401 (no other clip changes).
    (A check at r 0.3 kept less of the gain: 0.646, +0.176 +- 0.029, 20 of 25 better.)

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
    -0.029 +- 0.009 (seed 1234). Nor does weighting the source's frames towards its latest
    ones (the speaker's mood and posture drift, and the scored frames follow them): an
    exponential weight over a frame's age of 5 or 15 s moved it by -0.005 +- 0.005 /
    -0.001 +- 0.002 per clip (3 folds; the median rose by 0.019 / 0.009 all the same, as
    clips near it moved).
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
    fit = pearson(sample_at(gap, times[keep] + lag), real_open)
    if fit < MIN_OWN_SPEECH_R:  # the track is not this speaker's voice: it would teach noise
        log.info(
            "not adapting to the speaker: the source's audio follows its lips at r %.2f, "
            "under %.2f (another voice, music or a dub?)",
            fit,
            MIN_OWN_SPEECH_R,
        )
        return None
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
