"""Mouth geometry in the pose-normalised 478-point mesh space.

Index sets are the face stage's (`videoretalk.face.landmarks`), so the renderer and this
package always agree on which points form the mouth.

`canonicalise` is a stand-in for the face stage's own pose normalisation, used only
where no `FaceTrack` is at hand (training-data extraction, benchmarks): a 3-D similarity
fit on points that do not move when speaking, scaled so the outer eye corners are 1 apart.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..face import landmarks

LIPS_OUTER = np.array(landmarks.LIPS_OUTER)
LIPS_INNER = np.array(landmarks.LIPS_INNER)
JAW = np.array(landmarks.JAW)  # lower face oval, ear to ear through the chin
# Outer eye corners: the inter-ocular distance the space is scaled by.
EYE_OUTER = (landmarks.RIGHT_EYE_OUTER, landmarks.LEFT_EYE_OUTER)
# Upper / lower inner-lip pairs, middle and either side: their mean gap is "opening".
INNER_GAP_PAIRS = np.array([[13, 14], [82, 87], [312, 317], [81, 178], [311, 402]])
# Points that stay put while talking: eye corners, brow ridge, nose bridge, forehead.
RIGID = np.array([33, 133, 362, 263, 6, 168, 197, 195, 5, 10, 151, 9, 8, 107, 336, 70, 300])

LIPS = np.unique(np.concatenate([LIPS_OUTER, LIPS_INNER]))
# The points the motion stage predicts; the renderer moves the same set by default.
MOUTH_REGION = np.array(landmarks.MOUTH_REGION, dtype=np.int64)


def mouth_opening(points: np.ndarray) -> np.ndarray:
    """Inner-lip gap over inter-ocular distance, for (..., 478, 3) landmarks in any frame."""
    upper = points[..., INNER_GAP_PAIRS[:, 0], :2]
    lower = points[..., INNER_GAP_PAIRS[:, 1], :2]
    gap = np.linalg.norm(lower - upper, axis=-1).mean(axis=-1)
    eyes = np.linalg.norm(points[..., EYE_OUTER[0], :2] - points[..., EYE_OUTER[1], :2], axis=-1)
    return (gap / np.maximum(eyes, 1e-6)).astype(np.float32)


def down_sign(shape: np.ndarray) -> float:
    """+1 where a (478, 3) shape's y grows downwards (the lips lie below the eyes), else -1."""
    lips = shape[INNER_GAP_PAIRS].mean(axis=(0, 1))[1]
    return float(np.sign(lips - shape[list(EYE_OUTER)].mean(0)[1]))


def _eye_frame(points: np.ndarray) -> np.ndarray:
    """Similarity-normalise on the eye corners: midpoint at 0, eyes on +x, distance 1."""
    left, right = points[:, EYE_OUTER[0]], points[:, EYE_OUTER[1]]
    centre = (left + right) / 2
    axis = right[:, :2] - left[:, :2]
    scale = np.maximum(np.linalg.norm(axis, axis=1), 1e-6)
    c, s = axis[:, 0] / scale, axis[:, 1] / scale
    rel = points - centre[:, None]
    x = (rel[..., 0] * c[:, None] + rel[..., 1] * s[:, None]) / scale[:, None]
    y = (-rel[..., 0] * s[:, None] + rel[..., 1] * c[:, None]) / scale[:, None]
    z = rel[..., 2] / scale[:, None]
    return np.stack([x, y, z], axis=-1)


def training_reference(clips: Iterable[np.ndarray]) -> np.ndarray:
    """(478, 3) mean eye-normalised face over clips, each its (frames, 478, 3) landmarks
    with a face: the reference the training scripts canonicalise every clip to."""
    return np.mean([_eye_frame(np.asarray(c, np.float64)).mean(0) for c in clips], axis=0)


def canonicalise(landmarks: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """(N, 478, 3) image-space landmarks -> pose-normalised, inter-ocular distance 1.

    With the face stage installed this is exactly its per-frame pose removal (rigid-point
    similarity fit onto its canonical face), so training targets live in the same space
    as `FaceTrack.canonical`; `reference` is then ignored, and frames without a face
    (stored as zeros) come back as NaN. Otherwise:

    Eye-corner normalisation first (removes roll, scale, translation), then a rigid 3-D
    fit of the `RIGID` points onto `reference` (or the clip's own mean) to take out yaw
    and pitch, which would otherwise read as mouth deformation.
    """
    face_space = _face_stage_canonicaliser()
    if face_space is not None:
        return face_space(np.asarray(landmarks, np.float64))
    pts = _eye_frame(np.asarray(landmarks, np.float64))
    ref = (
        _eye_frame(reference[None].astype(np.float64))[0] if reference is not None else pts.mean(0)
    )
    target = ref[RIGID] - ref[RIGID].mean(0)
    out = np.empty_like(pts)
    for i, frame in enumerate(pts):
        src = frame[RIGID] - frame[RIGID].mean(0)
        u, sig, vt = np.linalg.svd(src.T @ target)
        d = np.sign(np.linalg.det(u @ vt))
        rot = u @ np.diag([1.0, 1.0, d]) @ vt
        scale = (sig * [1.0, 1.0, d]).sum() / max((src**2).sum(), 1e-12)
        out[i] = (frame - frame[RIGID].mean(0)) @ rot * scale + ref[RIGID].mean(0)
    return out.astype(np.float32)


# Lips within this share of a person's opening range above their rest count as closed: a
# p/b/m closure reached, for the benchmark's closure count and the training's closure weight.
CLOSED_SHARE_OF_RANGE = 0.25


def rest_and_range(
    canonical: np.ndarray, present: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """A person's relaxed closed mouth and how far they open it.

    Rest is the median shape over the 10 % most-closed frames (robust to one odd frame,
    and it keeps the person's own asymmetries); range is the 95th-percentile opening
    above that rest.
    """
    frames = canonical if present is None else canonical[present]
    opening = mouth_opening(frames)
    closed = opening <= np.percentile(opening, 10)
    rest = np.median(frames[closed], axis=0)
    return rest.astype(np.float32), float(np.percentile(opening, 95) - mouth_opening(rest[None])[0])


# How a mouth closes, from the 25 shared clips: per clip, the height of each point
# (pose-normalised, below the nose) regressed on the mouth's opening; medians over clips
# per unit of opening: upper lip's inner edge -0.31, its outer edge -0.21, lower lip's
# inner edge +0.79, its outer edge +0.74, chin +0.31. So the upper lip does 28 % of a
# closing, each lip's outer edge moves less than its inner one (the lips thicken as they
# close), and the jaw rises 39 % as far as the lower lip.
UPPER_LIP_SHARE = 0.28
UPPER_OUTER_FOLLOWS = 0.68
LOWER_OUTER_FOLLOWS = 0.94
JAW_FOLLOWS = 0.39
# Skin this far (inter-ocular units) under the lower lip's edge and further moves with
# the jaw; beside the mouth the jaw's rise fades over this distance beyond the corners
# (it pivots near the ears).
JAW_BODY_DEPTH_IOD = 0.2
JAW_FADE_BEYOND_CORNERS_IOD = 0.35


def close_lips(rest: np.ndarray, reference: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """`rest` (478, 3, canonical) with the lips brought together as real mouths close.

    Column by column, the lips close to the gap `reference` (a closed mouth) leaves
    there: the upper lip comes down `UPPER_LIP_SHARE` of the way and the lower lip up the
    rest, each lip's rings moving less toward its outer edge, so the lips thicken a
    little as they close. Skin between the upper lip and the nose follows the upper lip
    by how near it is; below the mouth, skin follows the lower lip near it and the jaw
    (which rises `JAW_FOLLOWS` as far) further down. Only `movable` points move, and only
    up or down: the mouth keeps its width and stays centred.
    """
    upper = np.array(landmarks.UPPER_LIP_RINGS)
    lower = np.array(landmarks.LOWER_LIP_RINGS)
    down = down_sign(rest)
    iod = float(np.linalg.norm(rest[EYE_OUTER[0], :2] - rest[EYE_OUTER[1], :2]))
    y = down * rest[:, 1].astype(np.float64)  # measured downwards
    ref = down * reference[:, 1].astype(np.float64)
    gap = (y[lower[3]] - y[upper[3]]) - (ref[lower[3]] - ref[upper[3]])
    gap[[0, -1]] = 0.0  # the corners are shared by both lips
    gap = np.maximum(gap, 0.0)
    ring = np.arange(4)[:, None] / 3  # 0 at the outer edge, 1 at the inner one
    move = np.zeros(len(rest))  # downwards
    move[upper] = UPPER_LIP_SHARE * gap * (UPPER_OUTER_FOLLOWS + (1 - UPPER_OUTER_FOLLOWS) * ring)
    rise = (1 - UPPER_LIP_SHARE) * gap
    move[lower] = -rise * (LOWER_OUTER_FOLLOWS + (1 - LOWER_OUTER_FOLLOWS) * ring)

    def across(points: np.ndarray, values: np.ndarray, x: np.ndarray) -> np.ndarray:
        order = np.argsort(rest[points, 0])
        return np.interp(x, rest[points, 0][order], values[order])

    skin = np.setdiff1d(np.asarray(movable), np.concatenate([upper.ravel(), lower.ravel()]))
    x, at = rest[skin, 0].astype(np.float64), y[skin]
    span = rest[upper[3], 0].min(), rest[upper[3], 0].max()
    corners = (y[upper[0][0]] + y[upper[0][-1]]) / 2
    upper_edge, lower_edge = across(upper[0], y[upper[0]], x), across(lower[0], y[lower[0]], x)
    nose = y[landmarks.NOSE_BASE]
    toward_lip = np.clip((at - nose) / np.maximum(upper_edge - nose, 1e-6), 0.0, 1.0)
    above = toward_lip * across(upper[0], move[upper[0]], x) * ((x >= span[0]) & (x <= span[1]))
    ramp = np.clip((at - corners) / np.maximum(lower_edge - corners, 1e-6), 0.0, 1.0)
    depth = np.clip((at - lower_edge) / (JAW_BODY_DEPTH_IOD * iod), 0.0, 1.0)
    lip = -across(lower[0], move[lower[0]], np.clip(x, *span))
    beyond = np.maximum(np.maximum(span[0] - x, x - span[1]), 0.0) / iod
    jaw = ((1 - depth) * lip + depth * JAW_FOLLOWS * rise[len(rise) // 2]) * np.exp(
        -0.5 * (beyond / JAW_FADE_BEYOND_CORNERS_IOD) ** 2
    )
    move[skin] = np.where(at < corners, above, -ramp * jaw)
    out = rest.astype(np.float64, copy=True)
    out[:, 1] += down * move
    return out.astype(np.float32)


# A speaker's deformation is scaled by at most this much either way to the typical range:
# a range measured on a few frames (or a face that barely moves) must not blow it up.
RANGE_SCALE_LIMITS = (0.5, 2.0)


def range_scale(opening_range: float, typical_range: float) -> float:
    """How much wider than typical this person opens (within `RANGE_SCALE_LIMITS`)."""
    return float(np.clip(opening_range / max(typical_range, 1e-6), *RANGE_SCALE_LIMITS))


def typical_deformation(
    canonical: np.ndarray,
    rest: np.ndarray,
    points: np.ndarray,
    opening_range: float,
    typical_range: float,
) -> np.ndarray:
    """(N, len(points) * 3) each frame's displacement from the person's rest, at `points`,
    scaled to the typical range: the space the mouth model's shape basis is fitted in."""
    scale = range_scale(opening_range, typical_range)
    deform = (canonical[:, points] - rest[points]) / scale
    return deform.reshape(len(canonical), -1)


def _face_stage_canonicaliser():  # type: ignore[no-untyped-def]
    try:
        from ..face.canonical import canonical_face
        from ..face.pose import fit_pose
    except ImportError:
        return None

    def run(landmarks: np.ndarray) -> np.ndarray:
        face = canonical_face()
        out = np.full_like(landmarks, np.nan)
        for i, frame in enumerate(landmarks):
            # A frame without a face is stored as zeros: it has no pose, so it stays NaN
            # (callers mask it out) rather than dividing by a zero scale.
            if np.ptp(frame[face.rigid], axis=0).any():
                out[i] = fit_pose(frame, face.points, face.rigid).to_canonical(frame)
        return out.astype(np.float32)

    return run
