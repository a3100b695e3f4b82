"""What the mouth-motion benchmark measures on one clip, beside r: silence, closures,
mouth width, phone classes, and how far landmark noise caps r.

They read the clip's audio (16 kHz mono) or its predicted and real mouth opening
(inter-ocular units) on its video frames; `benchmarks/motion_benchmark.py` scores the
clips and `motion_summary.py` prints the figures.
"""

from __future__ import annotations

import numpy as np
import webrtcvad

from videoretalk.audio.features import HOP, SAMPLE_RATE, STEP_SECONDS, n_steps, step_energy_db
from videoretalk.audio.vad import widen
from videoretalk.motion.adapt import pearson
from videoretalk.motion.predict import MouthMotion
from videoretalk.motion.shape import CLOSED_SHARE_OF_RANGE

MAX_LAG_FRAMES = 4  # the data README scores at the best lag within ±4 frames
CLOSED_ABOVE_REST = 0.02  # opening within 2 % of inter-ocular of rest = closed
MOUTH_CORNERS = [61, 291]  # outer lip corners in the 478-point mesh
# English phone classes (pocketsphinx labels) for the articulation table.
PHONE_CLASSES = {
    "bilabial": ("M", "B", "P"),
    "open": ("AA", "AE", "AY", "AW"),
    "rounded": ("UW", "OW", "UH", "AO"),
    "spread": ("IY", "IH", "EY"),
}
SILENT_WINDOW_S = 0.1  # a frame is silent if no speech within ±100 ms (webrtcvad mode 3)
# Closures are timed in seconds (2, 6 and 8 frames at 25 fps): a closure is the least
# opening within ±80 ms with an opening on either side within 240 ms, and a prediction
# hits it if it dips into the lower half of its own range within ±320 ms.
CLOSURE_LOCAL_S = 0.08
CLOSURE_SIDES_S = 0.24
HIT_AROUND_S = 0.32
_TIME_SLACK = 1e-3  # frame times are rounded: a frame 80 ms away counts as within 80 ms


def silent_frames(mono: np.ndarray, times: np.ndarray) -> np.ndarray:
    vad = webrtcvad.Vad(3)
    steps = n_steps(mono.size)
    pcm = (np.clip(np.pad(mono, (0, steps * HOP - mono.size + HOP)), -1, 1) * 32767).astype(
        np.int16
    )
    energy = step_energy_db(mono)
    speech = np.array(
        [
            energy[i] > -60 and vad.is_speech(pcm[i * HOP : (i + 1) * HOP].tobytes(), SAMPLE_RATE)
            for i in range(steps)
        ]
    )
    w = int(SILENT_WINDOW_S / STEP_SECONDS)
    idx = np.clip(np.round(times / STEP_SECONDS).astype(int), 0, steps - 1)
    return ~widen(speech, w, w)[idx]


def predicted_width(motion: MouthMotion) -> np.ndarray:
    """Corner-to-corner mouth width per frame, inter-ocular units (narrows when rounding)."""
    corners = [int(np.flatnonzero(motion.point_indices == p)[0]) for p in MOUTH_CORNERS]
    return np.linalg.norm(np.diff(motion.shapes[:, corners, :2], axis=1)[:, 0], axis=-1)


def best_shift_r(pred: np.ndarray, real: np.ndarray, mask: np.ndarray) -> float:
    """r at the best lag within ±`MAX_LAG_FRAMES` (the data README's protocol): the
    recording's A/V offset in the scored part may differ from the one measured on the
    adaptation part. The protocol counts frames, as its clips run at 25-30 fps (±133-160
    ms); at 60 fps it spans ±67 ms, a stricter search, and is left so.

    Frame i of `real` is paired with frame i - k of `pred`; frames whose partner would lie
    outside the clip drop out rather than wrap around (a roll would pair the scored part's
    last frames with the clip's first)."""
    index = np.flatnonzero(mask)
    best = -np.inf
    for k in range(-MAX_LAG_FRAMES, MAX_LAG_FRAMES + 1):
        inside = index[(index - k >= 0) & (index - k < pred.size)]
        best = max(best, pearson(pred[inside - k], real[inside]))
    return float(best)


def noise_cap(real: np.ndarray, mask: np.ndarray) -> float:
    """The highest r any prediction can reach against `real` on `mask`, given the frame-to-
    frame noise of the measured landmarks (a lower bound on that cap).

    A frame's residual from the mean of its two neighbours has 1.5 x the variance of white
    noise; real motion only adds to it, so this bounds the noise from above. A measurement
    x = s + n correlates with the true s at sqrt(1 - var(n) / var(x)).
    """
    triples = mask[1:-1] & mask[:-2] & mask[2:]
    if triples.sum() <= 10:
        return float("nan")
    residual = real[1:-1] - (real[:-2] + real[2:]) / 2
    noise = float(residual[triples].var()) / 1.5
    spread = max(float(real[1:-1][triples].var()), 1e-12)
    return float(np.sqrt(max(0.0, 1.0 - noise / spread)))


def closures(real: np.ndarray, times: np.ndarray, rest_open: float, span: float) -> np.ndarray:
    """Frames where the lips close between two openings (mostly p/b/m), from the real video.

    `real` is NaN where the face is missing: such frames are neither a closure nor an
    opening beside one. The windows are in seconds, so a clip at 60 fps or with a variable
    frame rate is judged over the same stretch of time as one at 25 fps. Lips held shut at
    one level over several frames are one closure, timed at its first frame.
    """
    out = []
    for i in range(real.size):
        if (
            times[i] - times[0] < CLOSURE_LOCAL_S - _TIME_SLACK
            or times[-1] - times[i] < CLOSURE_LOCAL_S - _TIME_SLACK
            or not np.isfinite(real[i])
            or real[i] > rest_open + CLOSED_SHARE_OF_RANGE * span
        ):
            continue
        local = _around(times, i, CLOSURE_LOCAL_S, CLOSURE_LOCAL_S)
        if real[i] != np.nanmin(real[local]) or (real[local.start : i] == real[i]).any():
            continue
        left = real[_around(times, i, CLOSURE_SIDES_S, 0.0)][:-1]
        right = real[_around(times, i, 0.0, CLOSURE_SIDES_S)][1:]
        if np.isnan(left).all() or np.isnan(right).all():
            continue
        if min(np.nanmax(left), np.nanmax(right)) - real[i] >= 0.3 * span:
            out.append(i)
    return np.array(out, int)


def closure_reached(
    pred: np.ndarray, times: np.ndarray, i: int, rest_open: float, span: float
) -> bool:
    """The prediction itself closes (as far as a real closure must) within ±80 ms."""
    return bool(_least_near(pred, times, i) <= rest_open + CLOSED_SHARE_OF_RANGE * span)


def closure_hit(pred: np.ndarray, times: np.ndarray, i: int) -> bool:
    """The prediction dips at a real closure: its least opening within ±80 ms lies in the
    lower half of its range within ±320 ms."""
    around = pred[_around(times, i, HIT_AROUND_S, HIT_AROUND_S)]
    return bool(_least_near(pred, times, i) <= 0.5 * np.nanmax(around) + 0.5 * np.nanmin(around))


def _least_near(pred: np.ndarray, times: np.ndarray, i: int) -> float:
    """Least opening within ±80 ms of frame i, where a closure is looked for."""
    return float(np.nanmin(pred[_around(times, i, CLOSURE_LOCAL_S, CLOSURE_LOCAL_S)]))


def _around(times: np.ndarray, i: int, before_s: float, after_s: float) -> slice:
    """Frames from `before_s` before frame i to `after_s` after it, both ends included."""
    lo = int(np.searchsorted(times, times[i] - before_s - _TIME_SLACK, side="left"))
    hi = int(np.searchsorted(times, times[i] + after_s + _TIME_SLACK, side="right"))
    return slice(lo, hi)


def phone_class_openings(
    mono: np.ndarray,
    times: np.ndarray,
    frames: np.ndarray,
    pred: np.ndarray,
    real: np.ndarray,
    rest_open: float,
    span: float,
) -> dict:
    """Per phone class: frames, and summed predicted and real opening (speaker's range units).

    Labels come from pocketsphinx's English phone recogniser; empty without it.
    """
    from videoretalk.audio.phones import PHONES, phone_inputs

    labels = phone_inputs(mono)
    if labels is None:
        return {}
    step = np.clip(np.round(times / STEP_SECONDS).astype(int), 0, labels.shape[0] - 1)
    phone = np.array(PHONES)[labels[step, : len(PHONES)].argmax(axis=1)]
    out = {}
    for name, members in PHONE_CLASSES.items():
        sel = frames & np.isin(phone, members)
        out[name] = [
            int(sel.sum()),
            float(((pred[sel] - rest_open) / span).sum()),
            float(((real[sel] - rest_open) / span).sum()),
        ]
    return out
