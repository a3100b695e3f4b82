"""Soft masks shaped to the face, colour matching, and blending back into the frame.

Masks are polygons from the landmarks feathered *inward* with a distance transform, so
alpha is exactly 0 outside the polygon (those pixels stay bit-identical) and rises
smoothly inside — no rectangle, no hard edge.

Colour: an exemplar comes from another frame, whose light can differ. Its ratio to the
current (warped) frame is measured on a ring of skin around the lips and spread as a
smooth gain field per channel (normalised convolution), so the pasted lips meet the skin
with no seam even when the light changes across the face or the frame fades.
"""

from __future__ import annotations

import cv2
import numpy as np

# The colour gain reads (reference + floor) / (patch + floor), in 0-255 units, so that
# near-black pixels on the ring cannot swing it; and it is kept within 1/MAX_GAIN..MAX_GAIN.
GAIN_FLOOR = 4.0
MAX_GAIN = 8.0


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


def colour_gain(
    reference: np.ndarray, patch: np.ndarray, ring: np.ndarray, sigma_px: float
) -> np.ndarray:
    """Smooth per-channel gain field (H, W, 3) taking `patch` to `reference` on `ring`.

    Light scales colour: a frame fading from black, or lit less than the exemplar's, is
    the exemplar times a factor. An additive shift measured on skin instead took the dark
    lips and mouth of a bright exemplar below black in a frame at 30 % brightness (black
    lips with a blue cast). The ratio of the two images' local means on the ring, spread
    by normalised convolution, scales each channel instead.
    """
    ring = ring.astype(np.float32)
    h, w = ring.shape
    total = float(ring.sum())
    if total < 1:
        return np.ones((h, w, 3), np.float32)
    # Blur at reduced size: the field is low-frequency and large crops are common at 2K.
    f = max(1, int(sigma_px // 4))
    small = (max(1, w // f), max(1, h // f))

    def local_mean(values: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(
            cv2.resize(values, small, interpolation=cv2.INTER_AREA), (0, 0), sigma_px / f
        )

    weighted_ref = reference.astype(np.float32) * ring[..., None]
    weighted_patch = patch.astype(np.float32) * ring[..., None]
    ref_mean, patch_mean = local_mean(weighted_ref), local_mean(weighted_patch)
    den = local_mean(ring)
    floor = GAIN_FLOOR * den[..., None]
    field = (ref_mean + floor) / (patch_mean + floor)
    overall = (weighted_ref.reshape(-1, 3).sum(0) + GAIN_FLOOR * total) / (
        weighted_patch.reshape(-1, 3).sum(0) + GAIN_FLOOR * total
    )
    # Where the ring is far away the local estimate is noise: fall back to the ring's own.
    trust = np.clip(den / 0.05, 0, 1)[..., None]
    field = field * trust + overall * (1 - trust)
    field = np.clip(field, 1 / MAX_GAIN, MAX_GAIN)
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base * (1 - alpha) + top * alpha, per pixel; uint8 in, rounded uint8 out (one C pass)."""
    alpha = np.ascontiguousarray(alpha, np.float32)
    if base.dtype != top.dtype:
        base, top = base.astype(np.float32), top.astype(np.float32)
    return cv2.blendLinear(np.ascontiguousarray(top), np.ascontiguousarray(base), alpha, 1 - alpha)
