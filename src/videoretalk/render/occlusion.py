"""Something in front of the mouth (a hand, a microphone) stays in front.

The face tracker keeps predicting lips under a hand, so the landmarks cannot tell. The
pixels can: the person's own exemplar whose mouth shape is nearest to this frame's, laid
onto the frame by a similarity fit, shows what the mouth and the skin around it look like
here when nothing is in the way. Where the frame disagrees with it strongly and over a
solid area (not along a lip edge that moved a little), something covers the mouth.

The renderer then leaves those pixels as they are (the mask is grown by how far the warp
may pull pixels, so no piece of the hand is dragged over the new mouth) and, when most of
the mouth is covered, leaves the whole frame alone, fading back in over a few frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .exemplars import Exemplar
from .topology import JAW, LIPS_INNER, LIPS_OUTER, NOSE_BOTTOM
from .warp import Box, similarity_fit

# Points that place an exemplar on the frame (mouth, jaw line, nose bottom).
_ALIGN = np.concatenate([LIPS_OUTER, JAW, [NOSE_BOTTOM]])
# Colour difference (max over R, G, B, after removing the median offset for the light)
# above which a pixel disagrees with the exemplar. Lips against skin differ by ~25-40
# levels on the dev clips; a hand, a microphone or a sleeve over the lips by more.
DIFF_LEVELS = 48
# Blur (inter-ocular units) before comparing, so a lip contour a pixel or two off is no
# disagreement; and the opening that removes thin disagreeing slivers along contours. The
# opening is wider than any band a misplaced lip line or a change of lip colour leaves along
# the lips (up to ~0.08 iod on the dev clips: talk3's upper lip), narrower than a finger.
BLUR_IOD = 0.025
OPEN_IOD = 0.1
# A cover lies over the lips *and* the skin beside them: a disagreeing area must reach this
# far beyond the outer lip line (a lip colour change, a shadow under the lower lip do not).
# Kept source pixels are the source's mouth in its own shape, pasted over the new one: a
# false alarm tears the lip (issue 5, talk3 output frame 165), so the test is strict.
BEYOND_LIPS_IOD = 0.06
# ... and cover at least a square this size (a finger across the lips is ~0.25 x 0.5 iod);
# talk3's first frames, whose lip landmarks miss the upper lip, leave ~0.14 iod squares.
MIN_COVER_IOD = 0.2
# How far beyond the outer lip line the comparison reaches (skin a hand would cover too).
TEST_REACH_IOD = 0.12
# Fraction of the lips disagreeing at which the whole mouth counts as covered.
FRAME_COVERED = 0.3


# The test runs at a scale where the inter-ocular distance is about this many pixels: it
# looks for hand-sized areas, and full resolution would cost more than the rendering.
DETECT_IOD_PX = 40.0


@dataclass(frozen=True)
class Occlusion:
    mask: np.ndarray  # uint8 over `box` at `scale`: 255 where something covers the mouth area
    fraction: float  # share of the lips (outer lip line, less the opening) that is covered
    box: Box
    scale: float


def detect(
    image: np.ndarray, points: np.ndarray, exemplars: list[Exemplar], iod: float, box: Box
) -> Occlusion:
    """Pixels of `box` (frame coordinates) where `image` is none of the faces `exemplars` predict.

    Several exemplars (the nearest few in mouth shape): a lip line that sits a little
    differently disagrees with one of them, an occluder with all of them.
    """
    scale = min(1.0, DETECT_IOD_PX / iod)
    h, w = max(1, round(box.shape[0] * scale)), max(1, round(box.shape[1] * scale))
    iod *= scale
    local: np.ndarray = np.multiply(points[:, :2] - np.array([box.x0, box.y0], np.float32), scale)
    crop = image[box.slice()]
    src = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA) if scale < 1 else crop
    sigma = max(0.8, BLUR_IOD * iod)
    src = cv2.GaussianBlur(src, (0, 0), sigma).astype(np.int16)
    dist = _outside_distance(local[LIPS_OUTER], (h, w))
    beyond = dist > (TEST_REACH_IOD + 0.05) * iod
    reach = dist <= TEST_REACH_IOD * iod
    best: np.ndarray | None = None
    valid = np.full((h, w), 255, np.uint8)
    for exemplar in exemplars:
        m = similarity_fit(
            exemplar.points[_ALIGN, :2].astype(np.float64), local[_ALIGN].astype(np.float64)
        )
        d, v = _disagreement(src, exemplar.image, m, sigma, beyond)
        best = d if best is None else np.minimum(best, d)
        valid &= v
        # Most frames: fewer pixels disagree with this exemplar than the smallest cover
        # has, so with every exemplar (their minimum, on fewer valid pixels) too. The
        # answer is already "nothing", and the other exemplars need not be laid on.
        if ((best > DIFF_LEVELS) & reach & (valid > 0)).sum() < (MIN_COVER_IOD * iod) ** 2:
            return Occlusion(np.zeros((h, w), np.uint8), 0.0, box, scale)
    assert best is not None
    mask, fraction = _decide(best, valid > 0, dist, local, iod)
    return Occlusion(mask, fraction, box, scale)


def _outside_distance(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    outside = np.full(shape, 255, np.uint8)
    cv2.fillPoly(outside, [np.round(polygon).astype(np.int32)], 0)
    return cv2.distanceTransform(outside, cv2.DIST_L2, 3)


def _disagreement(
    src: np.ndarray, exemplar: np.ndarray, m: np.ndarray, sigma: float, beyond: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    h, w = src.shape[:2]
    ref = cv2.warpAffine(exemplar, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    valid = cv2.warpAffine(
        np.full(exemplar.shape[:2], 255, np.uint8),
        m,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
    )
    diff = src - cv2.GaussianBlur(ref, (0, 0), sigma).astype(np.int16)
    # The light may differ between the exemplar's frame and this one: take the offset on
    # the skin beyond the mouth (an occluder over the mouth would shift a median taken
    # inside it by its own colour).
    around = (valid > 0) & beyond
    if around.sum() >= 30:
        diff -= np.median(diff[around], axis=0).astype(np.int16)
    return np.abs(diff).max(axis=2), valid


def _decide(
    disagree: np.ndarray, valid: np.ndarray, dist: np.ndarray, local: np.ndarray, iod: float
) -> tuple[np.ndarray, float]:
    h, w = disagree.shape
    # The opening itself (teeth, tongue, dark) differs from any exemplar by nature.
    opening = _outside_distance(local[LIPS_INNER], (h, w)) <= 0.03 * iod
    tested = (dist <= TEST_REACH_IOD * iod) & valid & ~opening
    lips = (dist <= 0) & valid & ~opening
    if tested.sum() < 10 or lips.sum() < 5:
        return np.zeros((h, w), np.uint8), 0.0
    bad = ((disagree > DIFF_LEVELS) & tested).astype(np.uint8) * 255
    k = max(3, round(OPEN_IOD * iod) | 1)
    bad = cv2.morphologyEx(
        bad, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    )
    bad = _over_lips_and_skin(bad, lips, dist, BEYOND_LIPS_IOD * iod, (MIN_COVER_IOD * iod) ** 2)
    # The lips are what a cover hides first and what differs most from skin, hands and
    # microphones alike: how much of them disagrees decides "covered".
    return bad, float((bad[lips] > 0).sum()) / float(lips.sum())


def _over_lips_and_skin(
    bad: np.ndarray, lips: np.ndarray, dist: np.ndarray, beyond_px: float, min_area_px: float
) -> np.ndarray:
    """Only the disagreeing areas of `min_area_px` or more that cover lip pixels and reach
    `beyond_px` out onto the skin."""
    count, labels = cv2.connectedComponents(bad, connectivity=8)
    if count <= 1:
        return bad
    on_lips = np.bincount(labels[lips], minlength=count) > 0
    reach = np.zeros(count, np.float32)
    np.maximum.at(reach, labels.ravel(), dist.ravel())
    keep = (
        on_lips
        & (reach >= beyond_px)
        & (np.bincount(labels.ravel(), minlength=count) >= min_area_px)
    )
    keep[0] = False
    return (keep[labels] * 255).astype(np.uint8)


def keep_mask(occlusion: Occlusion, grow_px: float, feather_px: float) -> np.ndarray:
    """float32 weight of the *source* pixel over the box: 1 on the occluder grown by
    `grow_px`, feathered out over `feather_px` (full-resolution pixels)."""
    bad = occlusion.mask
    h, w = occlusion.box.shape
    if not bad.any():
        return np.zeros((h, w), np.float32)
    s = occlusion.scale
    # Distance to the occluder; the occluder itself, the warp's reach and a feather beyond.
    dist = cv2.distanceTransform(255 - bad, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    t = np.clip((grow_px * s + feather_px * s - dist) / max(feather_px * s, 1e-3), 0, 1)
    weight = (t * t * (3 - 2 * t)).astype(np.float32)
    return cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR) if s < 1 else weight
