"""The canonical (mean, frontal, symmetric) face that poses are fitted against.

The mediapipe wheel does not ship its canonical face model, so we build our own from the
mesh output on the shared talking-head clips (`python -m videoretalk.face.canonical`):
generalised Procrustes analysis over ~6,000 frames of 25 speakers, then axes set from
the face's own symmetry, then mirrored and averaged so yaw 0 means truly frontal.

It also chooses the *rigid* points: those that move least relative to the head once pose
is removed (forehead, nose, inner eye corners, temples). Only they are used to fit pose,
so speech and blinks do not leak into yaw/pitch/roll.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from .landmarks import (
    LEFT_EYE_OUTER,
    LEFT_IRIS,
    MOUTH_CORNERS,
    NOSE_BASE,
    NUM_POINTS,
    RIGHT_EYE_OUTER,
    RIGHT_IRIS,
)
from .pose import angles_from_rotation, fit_similarity, rotation_from_angles

_DATA_FILE = "canonical_face.npz"
NUM_RIGID = 120  # of ~170 candidates in the upper face; enough to average out noise
_MESH_POINTS = 468  # iris points (468-477) follow gaze, never rigid


@dataclass(frozen=True)
class CanonicalFace:
    points: np.ndarray  # (478, 3) float64, IOD = 1, origin between the outer eye corners
    rigid: np.ndarray  # (NUM_RIGID,) int64 indices
    mirror: np.ndarray  # (478,) int64: index of each point's left/right counterpart
    sources: tuple[str, ...]


@functools.cache
def canonical_face() -> CanonicalFace:
    with resources.files(__package__).joinpath(_DATA_FILE).open("rb") as fh:
        data = np.load(fh)
        return CanonicalFace(
            points=data["points"].astype(np.float64),
            rigid=data["rigid"].astype(np.int64),
            mirror=data["mirror"].astype(np.int64),
            sources=tuple(str(s) for s in data["sources"]),
        )


def interocular(points: np.ndarray) -> np.ndarray:
    """Outer-eye-corner distance of (..., 478, 2|3) points, in their units."""
    d = points[..., LEFT_EYE_OUTER, :2] - points[..., RIGHT_EYE_OUTER, :2]
    return np.asarray(np.linalg.norm(d, axis=-1))


# -- building ---------------------------------------------------------------------------
def build(shapes: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean face, rigid indices and mirror map from (F, 478, 3) image-pixel landmarks."""
    shapes = shapes.astype(np.float64)
    mean = _orient(_normalise(shapes[0]))
    use = _rigid_candidates(mean)
    for _ in range(iterations):
        aligned = _align_all(shapes, mean, use)
        mean = _orient(aligned.mean(axis=0))
        candidates = _rigid_candidates(mean)
        # Keep the candidates that move least about the mean once pose is removed.
        spread = np.sqrt(((aligned - mean) ** 2).sum(axis=2).mean(axis=0))
        use = np.sort(candidates[np.argsort(spread[candidates])[:NUM_RIGID]])
    mirror = _mirror_map(mean)
    flipped = mean[mirror] * np.array([-1.0, 1.0, 1.0])
    mean = _normalise((mean + flipped) / 2)
    # Symmetry fixes yaw and roll; "level" pitch is taken as the median over the clips,
    # whose speakers mostly face the camera (the eye-mouth plane alone reads ~10 deg up).
    pitches = [angles_from_rotation(fit_similarity(mean[use], x[use])[1])[1] for x in shapes]
    mean = mean @ rotation_from_angles(0.0, float(np.median(pitches)), 0.0).T
    return mean, use, mirror


def _rigid_candidates(mean: np.ndarray) -> np.ndarray:
    """Mesh points above the nostrils and away from eyelids and brows, which all move with
    expression; the jaw, lips and cheeks below the nose follow speech."""
    pts = mean[:_MESH_POINTS]
    above_mouth = pts[:, 1] < mean[NOSE_BASE, 1]
    eye_centres = mean[[RIGHT_IRIS[0], LEFT_IRIS[0]], :2]
    near_eye = np.min(np.linalg.norm(pts[:, None, :2] - eye_centres[None], axis=2), axis=1) < 0.3
    brow_band = (pts[:, 1] < -0.12) & (pts[:, 1] > -0.55) & (np.abs(pts[:, 0]) > 0.12)
    return np.flatnonzero(above_mouth & ~near_eye & ~brow_band)


def _align_all(shapes: np.ndarray, target: np.ndarray, use: np.ndarray) -> np.ndarray:
    out = np.empty_like(shapes)
    for i, shape in enumerate(shapes):
        s, r, t = fit_similarity(shape[use], target[use])
        out[i] = s * shape @ r.T + t
    return out


def _normalise(points: np.ndarray) -> np.ndarray:
    origin = (points[RIGHT_EYE_OUTER] + points[LEFT_EYE_OUTER]) / 2
    return (points - origin) / np.linalg.norm(points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER])


def _orient(points: np.ndarray) -> np.ndarray:
    """Rotate so x runs from the right eye to the left, y from the eyes down to the mouth."""
    x = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    x /= np.linalg.norm(x)
    eyes = (points[LEFT_EYE_OUTER] + points[RIGHT_EYE_OUTER]) / 2
    mouth = points[list(MOUTH_CORNERS)].mean(axis=0)
    y = mouth - eyes
    y -= x * (y @ x)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    basis = np.stack([x, y, z])
    return _normalise(points @ basis.T)


def _mirror_map(points: np.ndarray) -> np.ndarray:
    """Each point's counterpart across the mid-sagittal plane, as a one-to-one matching."""
    flipped = points * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(points[:, None, :] - flipped[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(cost)
    mirror = np.empty(len(points), np.int64)
    mirror[rows] = cols
    return mirror


def _collect(paths: list[Path], max_frames: int, step: int) -> np.ndarray:
    from ..media.decode import iter_frames
    from .analyser import FaceAnalyser
    from .settings import FaceSettings

    shapes = []
    for path in paths:
        analyser = FaceAnalyser(
            FaceSettings(smooth_pose_sigma_s=0, smooth_rigid_sigma_s=0, smooth_mouth_sigma_s=0)
        )
        for frame in iter_frames(path):
            if frame.index >= max_frames:
                break
            analyser.add(frame)
        track = analyser.finish()
        keep = np.flatnonzero(track.tracked)[::step]
        shapes.append(track.landmarks[keep])
        print(f"{path.name}: {len(keep)} frames", flush=True)
    return np.concatenate(shapes)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--max-frames", type=int, default=400)
    parser.add_argument("--step", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(_DATA_FILE))
    args = parser.parse_args()
    shapes = _collect(args.clips, args.max_frames, args.step)
    mean, rigid, mirror = build(shapes)
    assert mean.shape == (NUM_POINTS, 3)
    np.savez(
        args.out,
        points=mean.astype(np.float32),
        rigid=rigid,
        mirror=mirror,
        sources=np.array(sorted(p.name for p in args.clips)),
    )
    print(f"wrote {args.out} from {len(shapes)} frames")


if __name__ == "__main__":
    main()
