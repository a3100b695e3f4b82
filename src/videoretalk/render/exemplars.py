"""Mouth-texture exemplars: the person's own lips, teeth and mouth interior, from their own frames.

Selection happens before any pixel is seen (from the face track's canonical mouth
shapes): farthest-point sampling over mouth shape covers closed, half-open, wide-open,
rounded and spread mouths. Each slot keeps two candidates (the centre and its nearest
shape) and, once their pixels are seen, the sharper one — talking mouths are often
motion-blurred, and a blurry exemplar is a blurry mouth on screen.

At render time `ExemplarChooser` picks the exemplar nearest to the target shape with a
switching cost (hysteresis) and reports a cross-fade between the previous and the new one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .topology import INNER_LOWER, INNER_UPPER, LIPS_OUTER
from .warp import face_axes, mesh_points

# Exemplar crop margin around the outer lips, inter-ocular units: covers the pasted lips,
# their feather and the colour-matching ring around them.
CROP_MARGIN_IOD = 0.4
# Shape cost added per inter-ocular unit of lip-gap mismatch when choosing an exemplar. The
# shape feature dilutes the gap over every driven point (jaw, outer lips): on its own it
# differs by ~0.01 between a barely open and a wide exemplar, less than `switch_cost`, so
# hysteresis kept a closed mouth under a wide target and stretched its lips and teeth into
# streaks (issue 5, talk4 driven by talk5: gap 0.026 under a 0.083 target). At 0.5 a gap
# 0.024 iod beyond the tolerance outweighs the switching cost. Within the tolerance the warp
# stretches the exemplar invisibly, and a gap-driven switch would only add cross-fades.
OPENING_COST = 0.5
OPENING_TOLERANCE_IOD = 0.02
# Exemplars whose openings differ by more than this (inter-ocular units) are cut, not
# cross-faded. Mouths that far apart differ inside: one shows teeth, the other a dark gap
# or other teeth, and a fade lays both over each other for several frames (talk5 driven
# by speech2, frames 5-7 and 80-82: mottled grey ghost teeth where either exemplar alone
# is crisp), while the mouth itself moves a lot on the frame of a cut, which hides it.
# At 0.05 (earlier) against this value, benchmarks/render_quality.py: mouth PSNR against
# the real frames (own drive) 28.51 -> 28.79 dB in the mean over the dev clips (talk3
# +1.0 dB), frame-to-frame change in the mouth 1.078 -> 1.088 x the input's, lip gap
# re-measured on the output follows the drive as closely (mean r 0.971 -> 0.972).
CUT_OPENING_IOD = OPENING_TOLERANCE_IOD
# An exemplar from a frame where the face is smaller is enlarged to fit, and blurred by it:
# a video cutting between a wide shot and a close-up pasted the wide shot's mouths, 2.2x
# enlarged, into the close-up (soft teeth and lips). Up to this ratio of face sizes the
# enlargement is not seen; beyond it each unit of log ratio costs `UPSCALE_COST`, about
# as much as a shape a few switching costs away.
UPSCALE_FREE = 1.25
UPSCALE_COST = 0.1


@dataclass(frozen=True)
class Exemplar:
    index: int  # source frame
    image: np.ndarray  # RGB uint8 crop around the mouth, full source resolution
    origin: tuple[int, int]  # crop's top-left in the source frame (x, y)
    points: np.ndarray  # mesh_points() of the source frame, in crop coordinates
    feature: np.ndarray  # mouth shape descriptor (see `mouth_feature`)
    opening: float  # inner-lip gap, inter-ocular units
    sharpness: float
    scale: float = 0.0  # inter-ocular distance in its frame, px (0: unknown)


def mouth_feature(shape: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Centred (x, y) of the driven mouth points, weighted; distances are mean per point."""
    xy = shape[:, :2].astype(np.float32)
    return (xy - xy.mean(0)) * weights[:, None]


def inner_gap(points: np.ndarray) -> float:
    """Mean distance between facing inner-lip points, in the points' own units."""
    return float(np.linalg.norm(points[INNER_UPPER, :2] - points[INNER_LOWER, :2], axis=1).mean())


def select_frames(
    features: np.ndarray, candidates: np.ndarray, bank_size: int, seed_index: int
) -> list[list[int]]:
    """Slots of candidate frames (≤ 2 each) by farthest-point sampling over mouth features."""
    if len(candidates) == 0:
        return []
    flat = features.reshape(len(features), -1)
    chosen = [seed_index]
    dist = np.linalg.norm(flat - flat[seed_index], axis=1)
    while len(chosen) < min(bank_size, len(candidates)):
        nxt = int(np.argmax(dist))
        if dist[nxt] <= 1e-6:
            break
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(flat - flat[nxt], axis=1))
    slots: list[list[int]] = []
    taken = set(chosen)
    for c in chosen:
        d = np.linalg.norm(flat - flat[c], axis=1)
        d[list(taken)] = np.inf
        slot = [int(candidates[c])]
        alt = int(np.argmin(d))
        if np.isfinite(d[alt]):
            slot.append(int(candidates[alt]))
            taken.add(alt)
        slots.append(slot)
    return slots


def capture(
    index: int, image: np.ndarray, landmarks: np.ndarray, feature: np.ndarray, opening: float
) -> Exemplar:
    _, iod = face_axes(landmarks)
    lips = landmarks[LIPS_OUTER, :2]
    lo = np.floor(lips.min(0) - CROP_MARGIN_IOD * iod).astype(int)
    hi = np.ceil(lips.max(0) + CROP_MARGIN_IOD * iod).astype(int)
    h, w = image.shape[:2]
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(w, hi[0] + 1), min(h, hi[1] + 1)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    pts: np.ndarray = mesh_points(landmarks) - np.array([x0, y0], np.float32)
    sharp = crop_sharpness(crop, float(iod))
    return Exemplar(index, crop, (x0, y0), pts, feature, opening, sharp, float(iod))


def crop_sharpness(crop: np.ndarray, iod: float) -> float:
    """Variance of the crop's Laplacian per unit of face size, so slots compare like with
    like."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var()) * (100.0 / max(iod, 1.0)) ** 2


class ExemplarChooser:
    """Nearest exemplar with hysteresis; a change cross-fades over `crossfade_frames`."""

    def __init__(self, bank: list[Exemplar], switch_cost: float, crossfade_frames: int) -> None:
        self.bank = bank
        self._features = np.stack([e.feature for e in bank]) if bank else np.zeros((0, 1, 2))
        self._openings = np.array([e.opening for e in bank], np.float32)
        self._scales = np.array([e.scale for e in bank], np.float32)
        self.switch_cost = switch_cost
        self.crossfade_frames = crossfade_frames
        self.reset()

    def reset(self) -> None:
        self.current: int | None = None
        self.previous: int | None = None
        self.fade = 1.0

    def _cost(
        self, feature: np.ndarray, opening: float | None, scale: float | None = None
    ) -> np.ndarray:
        cost = np.linalg.norm(self._features - feature, axis=2).mean(1)
        if opening is not None:
            cost = cost + OPENING_COST * np.maximum(
                np.abs(self._openings - opening) - OPENING_TOLERANCE_IOD, 0
            )
        if scale is not None and scale > 0:
            known = self._scales > 0
            enlarged = np.log(scale / np.where(known, self._scales, scale))
            cost = cost + UPSCALE_COST * np.maximum(enlarged - np.log(UPSCALE_FREE), 0)
        return cost

    def nearest(self, feature: np.ndarray, count: int = 1) -> list[int]:
        """The `count` exemplars nearest in shape, nearest first (no hysteresis, no state)."""
        cost = self._cost(feature, None)
        return [int(k) for k in np.argsort(cost, kind="stable")[:count]]

    def choose(
        self, feature: np.ndarray, opening: float | None = None, scale: float | None = None
    ) -> tuple[int, int | None, float]:
        """(current, previous, weight of current); previous is None when not fading.

        `opening` is the target's inner-lip gap (the exemplars' `opening` units): exemplars
        whose gap differs cost more, so a mouth is not stretched far open or squashed shut.
        `scale` is the face's inter-ocular distance in the frame (px): exemplars from
        frames where it was much smaller cost more (`UPSCALE_COST`).
        """
        cost = self._cost(feature, opening, scale)
        best = int(np.argmin(cost))
        if self.current is None:
            self.current, self.fade = best, 1.0
        elif (
            best != self.current
            and self.previous is None
            and cost[best] + self.switch_cost < cost[self.current]
        ):
            # No switch while a cross-fade runs: switching every frame or two kept the mouth
            # a blend of two exemplars' teeth (ghosted, smeared teeth in talk4 frame 238).
            jump = abs(self.bank[best].opening - self.bank[self.current].opening)
            self.previous, self.current = self.current, best
            self.fade = 1.0 if jump > CUT_OPENING_IOD else 0.0
        self.fade = min(1.0, self.fade + 1.0 / self.crossfade_frames)
        if self.fade >= 1.0:
            self.previous = None
        return self.current, self.previous, self.fade
