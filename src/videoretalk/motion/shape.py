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
