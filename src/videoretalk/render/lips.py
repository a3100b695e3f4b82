"""The person's lips, as the renderer keeps them plausible and recognisable.

- `consistent_bank`: exemplar frames whose lips look like the person's (a hand or a
  microphone over the lips in a chosen frame must never be pasted);
- `thickness_range` / `plausible_lips`: a target mouth shape is kept within the lip
  thickness the person shows, with its inner lip lines in order, so the warp never folds;
- `lip_colour`: the lips' median colour, for the bank check and the painted interior;
- `skin_colour`: the skin around them, which tells the exposure painted teeth need;
- `lower_lip_cover`: where a mouth closed from a wide-open frame would show that frame's
  own lower lip below the new one.
"""

from __future__ import annotations

import cv2
import numpy as np

from .composite import outside_distance
from .exemplars import UPSCALE_FREE, Exemplar
from .interior import LUMA
from .topology import (
    INNER_LOWER,
    INNER_UPPER,
    LIPS_INNER,
    LIPS_OUTER,
    OUTER_CORNERS,
    OUTER_LOWER,
    OUTER_UPPER,
)
from .warp import face_axes

# An exemplar whose lip colour is this far (RGB, 0..1) from the bank's median shows
# something else on the lips (a hand, a microphone): it is never pasted.
LIP_COLOUR_TOLERANCE = 0.15
# Nor one whose lips are this many times darker or brighter than the bank's median: a
# frame of a fade from black or to white. Colour matching would scale it back, with its
# noise and blocking (talk2 faded in over 1.5 s put frames at 55 % into the bank, within
# the colour tolerance of a person with dark lips).
LIP_LEVEL_RATIO = 1.3
# A wide-open lower lip can reach further below the mesh's outer-lip points than the
# exemplar's paste margin (speaker_seated_vertical_20s, a 1080x1920 phone video, 120 px
# between the eye corners: its edge showed as an arc 0.10-0.12 inter-ocular under the new
# lip when the mouth was closed to half). Within this distance below the new lip, where
# the warped frame is redder (LAB a*) than the pasted exemplar by the first of
# LOWER_LIP_REDNESS over a ramp of the second, the exemplar covers it, grown and feathered
# by LOWER_LIP_GROW_IOD. Only where the frame is the redder: pasting the exemplar further
# below the lips everywhere also removed the arc, but carried the exemplar's own lower lip
# below the line on talk4 driven by talk5 (a thicker lip; the opening re-measured on the
# output followed the drive at r 0.931 against 0.945).
LOWER_LIP_COVER_IOD = 0.22
LOWER_LIP_REDNESS = (1.0, 3.0)
LOWER_LIP_GROW_IOD = 0.02


def consistent_bank(slots: list[list[Exemplar]]) -> list[Exemplar]:
    """Per slot the sharpest candidate whose lips look like the person's lips, in colour
    and in level, among those whose face is about as large as the slot's largest."""
    every = [e for slot in slots for e in slot]
    if not every:
        return []
    colours = {id(e): lip_colour(e.image, e.points) for e in every}
    median = np.median(np.stack(list(colours.values())), axis=0)
    level = max(float(median.mean()), 1e-3)

    def looks_like_the_lips(e: Exemplar) -> bool:
        colour = colours[id(e)]
        ratio = max(float(colour.mean()), 1e-3) / level
        return (
            float(np.abs(colour - median).max()) <= LIP_COLOUR_TOLERANCE
            and 1 / LIP_LEVEL_RATIO <= ratio <= LIP_LEVEL_RATIO
        )

    bank = []
    for slot in slots:
        ok = [e for e in slot if looks_like_the_lips(e)]
        if ok:
            # The sharper of those the largest face shows: a smaller one would be enlarged.
            largest = max(e.scale for e in ok)
            near = [e for e in ok if e.scale * UPSCALE_FREE >= largest]
            bank.append(max(near, key=lambda e: e.sharpness))
    return bank


# Lip thickness (outer to inner lip line) allowed in a target, as a factor on the range the
# person shows in the source (2nd..98th percentile per point): lips stretch thinner and
# purse thicker a little beyond what a short clip shows, not twice as thick.
LIP_THICKNESS_SLACK = (0.8, 1.25)


def thickness_range(canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(canonical down vector, per-pair lower / upper thickness bounds), upper lip pairs
    first, from the person's canonical landmarks on the frames that show them (N, 478, 3)."""
    if len(canonical) == 0:
        return None
    canon = np.asarray(canonical, np.float32)[..., :2]
    down, _ = face_axes(canon.mean(0))
    upper = (canon[:, INNER_UPPER] - canon[:, OUTER_UPPER]) @ down
    lower = (canon[:, OUTER_LOWER] - canon[:, INNER_LOWER]) @ down
    both = np.concatenate([upper, lower], axis=1)
    lo = np.maximum(np.percentile(both, 2, axis=0), 0) * LIP_THICKNESS_SLACK[0]
    hi = np.percentile(both, 98, axis=0) * LIP_THICKNESS_SLACK[1]
    return down.astype(np.float32), lo.astype(np.float32), hi.astype(np.float32)


def plausible_lips(
    target: np.ndarray,
    rows: tuple[np.ndarray, ...],
    down: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """The target with its inner lips in order and its lips no thinner or thicker than the person's.

    A target whose inner upper lip dips below the inner lower one, or whose lip is far
    thicker than the person's, folds the warp or stretches the exemplar's lip and the skin
    above it into pale streaks; inner points (the opening) stay, outer points move.
    """
    uo, ui, li, lo_ = rows
    out = np.array(target, np.float32, copy=True)
    xy = out[:, :2]
    gap = (xy[li] - xy[ui]) @ down
    crossed = np.minimum(gap, 0)[:, None] * down / 2
    xy[ui] += crossed
    xy[li] -= crossed
    n = len(uo)
    upper = (xy[ui] - xy[uo]) @ down
    xy[uo] -= (np.clip(upper, lo[:n], hi[:n]) - upper)[:, None] * down
    lower = (xy[lo_] - xy[li]) @ down
    xy[lo_] += (np.clip(lower, lo[n:], hi[n:]) - lower)[:, None] * down
    return out


def lip_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Median RGB (0..1) between the outer and inner lip lines of `points` (image px)."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[LIPS_OUTER, :2]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(points[LIPS_INNER, :2]).astype(np.int32)], 0)
    pix = image[mask > 0]
    if len(pix) == 0:
        return np.array([0.6, 0.35, 0.35], np.float32)
    return (np.median(pix, axis=0) / 255.0).astype(np.float32)


# Skin around the lips: a ring from this many px to this many inter-ocular distances
# outside the outer lip line, its lit part (70th-95th percentile of luma), so shadows, a
# lip's own edge or a moustache do not darken it (a dark moustache over all the skin
# above talk1's lips, 27 % of the ring, darkened it by 9 %; the median, by 13 %).
SKIN_RING = (2.0, 0.15)
SKIN_LUMA_PERCENTILES = (70, 95)


def skin_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Mean RGB (0..1) of the lit skin just around the lips of `points` (image px)."""
    _, iod = face_axes(points)
    dist = outside_distance(points[LIPS_OUTER], (image.shape[0], image.shape[1]), (0, 0))
    pix = image[(dist > SKIN_RING[0]) & (dist <= SKIN_RING[1] * iod)].astype(np.float32) / 255.0
    if len(pix) < 30:
        return None
    luma = pix @ LUMA
    low, high = np.percentile(luma, SKIN_LUMA_PERCENTILES)
    return pix[(luma >= low) & (luma <= high)].mean(axis=0).astype(np.float32)


def lower_lip_cover(
    frame: np.ndarray,
    exemplar: np.ndarray,
    points: np.ndarray,
    origin: tuple[int, int],
    dist: np.ndarray,
    iod: float,
) -> np.ndarray:
    """0..1 over a region at `origin` (x, y): where the warped frame still shows lip colour
    below the new lower lip (`points`, `dist` outside its outer line) and the pasted
    exemplar shows skin, grown and feathered, for the exemplar to cover."""
    redness = [
        cv2.cvtColor(np.clip(x, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 1]
        for x in (frame, exemplar)
    ]
    excess = redness[0].astype(np.float32) - redness[1].astype(np.float32)
    down, _ = face_axes(points)
    centre = points[list(OUTER_CORNERS), :2].mean(0) - np.asarray(origin, np.float32)
    ys, xs = np.mgrid[0 : dist.shape[0], 0 : dist.shape[1]].astype(np.float32)
    below = (xs - centre[0]) * down[0] + (ys - centre[1]) * down[1] > 0
    near = below & (dist > 0) & (dist < LOWER_LIP_COVER_IOD * iod)
    low, ramp = LOWER_LIP_REDNESS
    found = np.where(near, np.clip((excess - low) / ramp, 0, 1), 0).astype(np.float32)
    grow = max(int(LOWER_LIP_GROW_IOD * iod), 1)
    found = cv2.dilate(found, np.ones((2 * grow + 1,) * 2, np.uint8))
    # Feathering by the grown width lowers a thin band's core to about 0.68: x1.5 keeps it
    # fully covered.
    return np.clip(cv2.GaussianBlur(found, (0, 0), LOWER_LIP_GROW_IOD * iod) * 1.5, 0, 1)
