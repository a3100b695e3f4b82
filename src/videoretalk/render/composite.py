"""Soft masks shaped to the face, colour matching, and blending back into the frame.

Masks are polygons from the landmarks feathered *inward* with a distance transform, so
alpha is exactly 0 outside the polygon (those pixels stay bit-identical) and rises
smoothly inside — no rectangle, no hard edge.

Colour: an exemplar comes from another frame, whose light can differ. How it maps onto
the current (warped) frame is measured on a ring of skin around the lips: a contrast per
channel and an offset spread as a smooth field (normalised convolution), so the pasted
lips meet the skin with no seam even when the light changes across the face or the
frame fades to black or to white.
"""

from __future__ import annotations

import cv2
import numpy as np

# Colour transfer (`colour_transfer`): levels (0-255) added to means and spreads before
# their ratios, so a near-black or flat ring cannot swing them; how sharply the spread's
# change picks between a fade towards black and one towards white (in log units); and the
# largest contrast change allowed either way (log 8).
LEVEL_FLOOR = 2.0
CHOICE_SOFTNESS = 0.1
MAX_LOG_CONTRAST = float(np.log(8.0))


def feathered_polygon(
    polygon: np.ndarray,
    shape: tuple[int, int],
    origin: tuple[int, int],
    feather_px: float,
    grow_px: float = 0.0,
) -> np.ndarray:
    """float32 alpha in [0, 1]: 0 outside `polygon` (grown by `grow_px`), 1 deeper than `feather_px`."""
    h, w = shape
    mask = np.zeros((h + 2, w + 2), np.uint8)  # 1-px frame so the edge of the box counts as outside
    pts = np.round(polygon[:, :2] - np.array(origin, np.float32) + 1).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_8)
    if grow_px >= 1:
        k = int(grow_px + 0.5)  # grow_px may be a NumPy float
        mask = cv2.dilate(
            mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        )
        mask[0, :] = mask[-1, :] = 0
        mask[:, 0] = mask[:, -1] = 0
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5)[1:-1, 1:-1]
    t = np.clip(dist / max(feather_px, 1e-3), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep: no visible ramp ends


def outside_distance(
    polygon: np.ndarray, shape: tuple[int, int], origin: tuple[int, int]
) -> np.ndarray:
    """float32 distance (px) from each pixel to `polygon` (0 inside), over a box of `shape`.

    One distance transform gives every soft mask around the lips at once: grown, feathered,
    and the colour ring beyond — cheaper than a dilation per mask.
    """
    h, w = shape
    outside = np.full((h, w), 255, np.uint8)
    pts = np.round(polygon[:, :2] - np.array(origin, np.float32)).astype(np.int32)
    cv2.fillPoly(outside, [pts], 0, lineType=cv2.LINE_8)
    return cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below `lo`, 1 at or above `hi`, a smoothstep between (one number)."""
    t = min(1.0, max(0.0, (x - lo) / (hi - lo)))
    return t * t * (3 - 2 * t)


def edit_strength(present: np.ndarray, shot_start: np.ndarray, appear_frames: int) -> np.ndarray:
    """Per frame, the share of the edit shown: ramps over `appear_frames` where the face
    comes into view or leaves it within a shot, 1 elsewhere.

    A run of frames with the face that starts at the video's first frame or on a cut needs
    no fade in (nothing unedited of it was just on screen); likewise at its end.
    """
    present = np.asarray(present, bool)
    n = len(present)
    cuts = np.append(np.asarray(shot_start, bool), True)
    strength = np.ones(n, np.float32)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], present.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):  # frames start..stop-1
        k = np.arange(stop - start, dtype=np.float32)
        shown = np.ones_like(k)
        if start > 0 and not cuts[start]:
            shown = np.minimum(shown, (k + 1) / (appear_frames + 1))
        if stop < n and not cuts[stop]:
            shown = np.minimum(shown, (stop - start - k) / (appear_frames + 1))
        strength[start:stop] = shown
    return strength


def colour_transfer(
    reference: np.ndarray, patch: np.ndarray, ring: np.ndarray, sigma_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """(contrast (3,), offset field (H, W, 3)) taking `patch` to `reference` as measured on
    `ring`: reference ~ contrast * patch + offset, per channel.

    Light changes more than the level. A frame fading from black is the exemplar times a
    factor (its mean ratio on the ring); one fading to white, or a flash, is the exemplar
    squeezed towards white (the ratio of the means' distances from white). A pure shift
    took a bright exemplar's dark lips below black in a frame at 30 % (black lips with a
    blue cast); a pure gain left them dark on a face faded 80 % to white. Which of the two
    applies is read from how the ring's spread changed, which alone is too noisy to use
    (on talk4 it wanders by 0.4-0.6 in log between frames where the light is the same).
    Where the means agree, both give a contrast of 1 and the match is the plain offset.
    The offset is spread by normalised convolution, so light changing across the face
    still meets the skin.
    """
    ring = ring.astype(np.float32)
    h, w = ring.shape
    total = float(ring.sum())
    if total < 1:
        return np.ones(3, np.float32), np.zeros((h, w, 3), np.float32)
    ref, pat = reference.astype(np.float32), patch.astype(np.float32)
    on = ring > 0  # the statistics need only the ring's pixels, a band of the box
    weights = (ring[on] / total)[:, None]
    ref_on, pat_on = ref[on], pat[on]
    ref_mean, pat_mean = (ref_on * weights).sum(0), (pat_on * weights).sum(0)
    ref_spread = np.sqrt((((ref_on - ref_mean) ** 2) * weights).sum(0))
    pat_spread = np.sqrt((((pat_on - pat_mean) ** 2) * weights).sum(0))
    spread = np.log((ref_spread + LEVEL_FLOOR) / (pat_spread + LEVEL_FLOOR))
    towards_black = np.log((ref_mean + LEVEL_FLOOR) / (pat_mean + LEVEL_FLOOR))
    towards_white = np.log((255 - ref_mean + LEVEL_FLOOR) / (255 - pat_mean + LEVEL_FLOOR))
    nearer_white = (np.abs(spread - towards_black) - np.abs(spread - towards_white)) / (
        CHOICE_SOFTNESS
    )
    black_share = 1 / (1 + np.exp(np.clip(nearer_white, -50.0, 50.0)))
    log_contrast = black_share * towards_black + (1 - black_share) * towards_white
    contrast = np.exp(np.clip(log_contrast, -MAX_LOG_CONTRAST, MAX_LOG_CONTRAST)).astype(np.float32)
    # Blur at reduced size: the field is low-frequency and large crops are common at 2K.
    f = max(1, int(sigma_px // 4))
    small = (max(1, w // f), max(1, h // f))
    diff = (ref - contrast * pat) * ring[..., None]
    num = cv2.GaussianBlur(
        cv2.resize(diff, small, interpolation=cv2.INTER_AREA), (0, 0), sigma_px / f
    )
    den = cv2.GaussianBlur(
        cv2.resize(ring, small, interpolation=cv2.INTER_AREA), (0, 0), sigma_px / f
    )
    field = num / np.maximum(den, 1e-3)[..., None]
    mean = diff.reshape(-1, 3).sum(0) / total
    # Where the ring is far away the local estimate is noise: fall back to the ring mean.
    trust = np.clip(den / 0.05, 0, 1)[..., None]
    field = field * trust + mean * (1 - trust)
    return contrast, cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base * (1 - alpha) + top * alpha, per pixel; uint8 in, rounded uint8 out (one C pass)."""
    alpha = np.ascontiguousarray(alpha, np.float32)
    if base.dtype != top.dtype:
        base, top = base.astype(np.float32), top.astype(np.float32)
    return cv2.blendLinear(np.ascontiguousarray(top), np.ascontiguousarray(base), alpha, 1 - alpha)
