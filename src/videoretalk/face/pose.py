"""Head pose from mesh landmarks: a 3-D similarity fit of the canonical face to each frame.

Conventions. Image frame: x right, y down, z away from the camera (pixels; MediaPipe's
z shares x's scale). Canonical frame: the same axes for a face looking straight at the
camera, unit = inter-ocular distance (outer eye corners), origin midway between them.
A frame's pose maps canonical -> image: `p_img = scale * R @ p_can + t`.

Angles (degrees), decomposed as R = Ry(-yaw) Rx(-pitch) Rz(roll):
yaw > 0 when the face turns toward the image's right, pitch > 0 when it tilts up,
roll > 0 when the head tilts clockwise in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class Pose:
    scale: float
    rotation: np.ndarray  # (3, 3) float64
    translation: np.ndarray  # (3,) float64

    def matrix(self) -> np.ndarray:
        """(3, 4) affine [scale*R | t] taking canonical points to image pixels."""
        return np.concatenate([self.scale * self.rotation, self.translation[:, None]], axis=1)

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        return ((points - self.translation) @ self.rotation) / self.scale

    def angles(self) -> tuple[float, float, float]:
        return angles_from_rotation(self.rotation)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares `dst ≈ s R src + t` for (K, 3) point sets (Umeyama, 1991)."""
    src = src.astype(np.float64)
    dst = dst.astype(np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, d, vt = np.linalg.svd(b.T @ a / len(src))
    fix = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[2] = -1.0  # a reflection fits better than any rotation: take the best rotation
    rot = (u * fix) @ vt
    var_s = (a**2).sum() / len(src)
    scale = float((d * fix).sum() / var_s) if var_s > 0 else 1.0
    return scale, rot, mu_d - scale * rot @ mu_s


def fit_pose(points: np.ndarray, canonical: np.ndarray, rigid: np.ndarray) -> Pose:
    """Pose of one frame from its (478, 3) image-pixel landmarks; only rigid points vote,
    so an open mouth or a blink does not tilt the head."""
    s, r, t = fit_similarity(canonical[rigid], points[rigid])
    return Pose(s, r, t)


def angles_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    ry, rx, rz = Rotation.from_matrix(rotation).as_euler("YXZ", degrees=True)
    return float(-ry), float(-rx), float(rz)


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    return Rotation.from_euler("YXZ", [-yaw, -pitch, roll], degrees=True).as_matrix()
