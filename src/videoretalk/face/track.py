"""`FaceTrack`: the face stage's result, one row per source frame, stored as NumPy arrays.

Everything the motion and rendering stages need about the target face:

* `present[i]`   the target is visible and editable in frame i (else leave it untouched);
* `status[i]`    why not, as a `FrameStatus`;
* `landmarks`    478 mesh points in image pixels (x, y, z; z relative, x's scale);
* `canonical`    the same points with head pose removed: inter-ocular distance 1, origin
                 midway between the outer eye corners, x right, y down, z into the head;
* `transform`    (3, 4) per frame with `landmarks = canonical @ A[:, :3].T + A[:, 3]`;
* `yaw`, `pitch`, `roll` in degrees (see `pose.py` for signs), `confidence` in 0..1.

Geometry is NaN on frames where the target was not tracked at all (`tracked` False).
Saved, only tracked frames' canonical points are kept, quantised to 1e-4 IOD and
delta-coded over time: a 120 s, 60 fps track is ~10 MB instead of ~80 MB of float32.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidParameter

_FORMAT_VERSION = 1
_QUANTUM = 1e-4  # canonical units (IOD) per int16 step when saved


class FrameStatus(enum.IntEnum):
    OK = 0  # target present and editable
    ABSENT = 1  # target not found in the frame (no face, other people only, black frame)
    TOO_SMALL = 2  # target tracked, but its face is too small to edit
    TURNED = 3  # target tracked, but turned beyond the yaw / pitch limit
    OCCLUDED = 4  # target tracked, but the mesh model doubts it sees a whole face
    UNVERIFIED = 5  # a face tracked after a cut whose identity could not be confirmed


@dataclass(frozen=True, eq=False)
class FaceTrack:
    frame_times: np.ndarray  # float64[N] seconds
    present: np.ndarray  # bool[N]
    status: np.ndarray  # uint8[N] FrameStatus
    tracked: np.ndarray  # bool[N] target's geometry is known (present or not editable)
    landmarks: np.ndarray  # float32[N, 478, 3] image pixels
    canonical: np.ndarray  # float32[N, 478, 3] pose-normalised
    transform: np.ndarray  # float32[N, 3, 4] canonical -> image
    yaw: np.ndarray  # float32[N] degrees
    pitch: np.ndarray  # float32[N]
    roll: np.ndarray  # float32[N]
    confidence: np.ndarray  # float32[N] 0..1
    shot_start: np.ndarray  # bool[N] a shot cut lands on this frame (smoothing restarts)
    frame_size: tuple[int, int]  # (width, height)
    info: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame_times)

    @property
    def interocular(self) -> np.ndarray:
        """Outer-eye-corner distance in pixels per frame (NaN where not tracked)."""
        return np.asarray(np.linalg.norm(self.transform[:, :, 0], axis=1), np.float32)

    @property
    def present_fraction(self) -> float:
        return float(self.present.mean()) if len(self) else 0.0

    def to_image(self, frame_index: int, canonical_points: np.ndarray) -> np.ndarray:
        """Map canonical points (..., 3) into frame `frame_index`'s pixels (..., 3).

        (..., 2) points are taken at z = 0 and come back as (..., 2)."""
        pts = np.asarray(canonical_points, np.float64)
        flat = pts.shape[-1] == 2
        if flat:
            pts = np.concatenate([pts, np.zeros(pts.shape[:-1] + (1,))], axis=-1)
        a = self.transform[frame_index].astype(np.float64)
        out = pts @ a[:, :3].T + a[:, 3]
        return (out[..., :2] if flat else out).astype(np.float32)

    def to_canonical(self, frame_index: int, image_points: np.ndarray) -> np.ndarray:
        """Inverse of `to_image` for (..., 3) image points."""
        a = self.transform[frame_index].astype(np.float64)
        return (
            (np.asarray(image_points, np.float64) - a[:, 3]) @ np.linalg.inv(a[:, :3]).T
        ).astype(np.float32)

    # -- storage -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        from .canonical import canonical_face  # lazily: `python -m ...canonical` runs it

        rows = np.flatnonzero(self.tracked)
        mean = canonical_face().points.astype(np.float32)
        q = np.rint((self.canonical[rows] - mean) / _QUANTUM)
        q = np.clip(q, -32767, 32767).astype(np.int16)
        # Landmarks move little between frames, so deltas compress several times better.
        delta = np.diff(q, axis=0, prepend=np.zeros((1,) + q.shape[1:], np.int16))
        np.savez_compressed(
            path,
            version=np.array(_FORMAT_VERSION),
            frame_times=self.frame_times,
            status=self.status,
            tracked=self.tracked,
            shot_start=self.shot_start,
            canonical_delta=delta,
            transform=self.transform[rows],
            angles=np.stack([self.yaw, self.pitch, self.roll])[:, rows],
            confidence=self.confidence,
            frame_size=np.array(self.frame_size, np.int64),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FaceTrack:
        from .canonical import canonical_face

        with np.load(path) as data:
            if int(data["version"]) != _FORMAT_VERSION:
                raise InvalidParameter(
                    f"{os.fspath(path)}: unsupported face-track version {int(data['version'])}"
                )
            tracked = data["tracked"].astype(bool)
            n, rows = len(tracked), np.flatnonzero(tracked)
            q = np.cumsum(data["canonical_delta"].astype(np.int32), axis=0, dtype=np.int32)
            canonical = _nan((n, 478, 3))
            canonical[rows] = (
                canonical_face().points.astype(np.float32) + q.astype(np.float32) * _QUANTUM
            )
            transform = _nan((n, 3, 4))
            transform[rows] = data["transform"]
            angles = _nan((3, n))
            angles[:, rows] = data["angles"]
            status = data["status"].astype(np.uint8)
            return cls(
                frame_times=data["frame_times"].astype(np.float64),
                present=status == FrameStatus.OK,
                status=status,
                tracked=tracked,
                landmarks=project(canonical, transform),
                canonical=canonical,
                transform=transform,
                yaw=angles[0],
                pitch=angles[1],
                roll=angles[2],
                confidence=data["confidence"].astype(np.float32),
                shot_start=data["shot_start"].astype(bool),
                frame_size=(int(data["frame_size"][0]), int(data["frame_size"][1])),
            )


def project(canonical: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Canonical (N, K, 3) points through per-frame (N, 3, 4) transforms into pixels."""
    out = np.einsum("nkj,nij->nki", canonical, transform[:, :, :3]) + transform[:, None, :, 3]
    return out.astype(np.float32)


def _nan(shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, np.nan, np.float32)
