"""Stand-in face track and mouth motion for renderer tests, benchmarks and strips.

Until the face stage (`videoretalk.face`) and the motion stage land, the renderer is
exercised by *self-reenactment*: MediaPipe FaceMesh gives the 478 landmarks of every
frame, a similarity fit gives a pose-normalised ("canonical") copy, and a clip is
re-driven with mouth shapes taken from its own frames or from another clip. That is
exactly what the renderer must do in production, and the real mouth is ground truth.

`MeshTrack` offers the part of the `FaceTrack` contract the renderer reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from videoretalk.media.decode import DecodedFrame, VideoReader
from videoretalk.render.topology import LIPS_INNER, LIPS_OUTER, default_mouth_region

# Points that move little with expression: eye corners, nose bridge, forehead, temples.
_STABLE = np.array([33, 133, 263, 362, 6, 168, 197, 195, 10, 151, 9, 8, 234, 454, 127, 356])
_EYE_CENTRES = ((33, 133), (263, 362))


@dataclass
class MeshTrack:
    present: np.ndarray  # bool[N]
    landmarks: np.ndarray  # float32[N,478,3] image px
    canonical: np.ndarray  # float32[N,478,3] pose-normalised, inter-ocular = 1
    scale: np.ndarray  # float32[N] image px per canonical unit
    rotation: np.ndarray  # float32[N,3,3] canonical -> image
    offset: np.ndarray  # float32[N,3]
    frame_size: tuple[int, int]  # (width, height)
    shot_start: np.ndarray = field(init=False)  # bool[N]; a stand-in track sees no cuts

    def __post_init__(self) -> None:
        self.shot_start = np.zeros(len(self.present), bool)

    def to_image(self, i: int, canonical_points: np.ndarray) -> np.ndarray:
        pts = np.asarray(canonical_points, np.float32)
        return (self.scale[i] * pts @ self.rotation[i].T + self.offset[i]).astype(np.float32)


def _landmarks(images: Iterable[np.ndarray]) -> tuple[list[np.ndarray | None], tuple[int, int]]:
    """Each image's 478 landmarks (None where no face), and the images' (width, height)."""
    import mediapipe as mp

    out: list[np.ndarray | None] = []
    size = (0, 0)
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False,
        max_num_faces=1,
        refine_landmarks=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    ) as mesh:
        for image in images:
            h, w = image.shape[:2]
            size = (w, h)
            result = mesh.process(image)
            if not result.multi_face_landmarks:
                out.append(None)
                continue
            lm = result.multi_face_landmarks[0].landmark
            out.append(np.array([[p.x * w, p.y * h, p.z * w] for p in lm], np.float32))
    return out, size


def _umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) with dst ~ s R src + t (least squares)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    r = u @ np.diag(d) @ vt
    s = float((sig * d).sum() / a.var(0).sum())
    return s, r, mu_d - s * r @ mu_s


def track_from_landmarks(raw: list[np.ndarray | None], frame_size: tuple[int, int]) -> MeshTrack:
    n = len(raw)
    present = np.array([r is not None for r in raw])
    landmarks = np.zeros((n, 478, 3), np.float32)
    for i, r in enumerate(raw):
        if r is not None:
            landmarks[i] = r
    if not present.any():
        z = np.zeros((n,), np.float32)
        return MeshTrack(
            present,
            landmarks,
            landmarks.copy(),
            z,
            np.tile(np.eye(3, dtype=np.float32), (n, 1, 1)),
            np.zeros((n, 3), np.float32),
            frame_size,
        )
    first = landmarks[np.flatnonzero(present)[0]]
    eyes = [first[list(pair)].mean(0) for pair in _EYE_CENTRES]
    iod = float(np.linalg.norm(eyes[1] - eyes[0]))
    ref = (first - (eyes[0] + eyes[1]) / 2) / iod
    canonical = np.zeros_like(landmarks)
    scale = np.zeros(n, np.float32)
    rot = np.tile(np.eye(3, dtype=np.float32), (n, 1, 1))
    off = np.zeros((n, 3), np.float32)
    for i in np.flatnonzero(present):
        s, r, t = _umeyama(ref[_STABLE], landmarks[i][_STABLE])
        scale[i], rot[i], off[i] = s, r, t
        canonical[i] = ((landmarks[i] - t) @ r) / s
    return MeshTrack(present, landmarks, canonical, scale, rot, off, frame_size)


def track_video(path: str | os.PathLike[str], max_frames: int | None = None) -> MeshTrack:
    with VideoReader(path) as reader:
        images = (f.image for f in reader.frames() if max_frames is None or f.index < max_frames)
        return track_from_landmarks(*_landmarks(images))


def track_images(images: Iterable[np.ndarray]) -> MeshTrack:
    return track_from_landmarks(*_landmarks(images))


def read_frames(path: str | os.PathLike[str], max_frames: int | None = None) -> list[DecodedFrame]:
    """Small clips only (benchmarks): the product streams."""
    with VideoReader(path) as reader:
        return [f for f in reader.frames() if max_frames is None or f.index < max_frames]


def inner_opening(canonical: np.ndarray) -> np.ndarray:
    """Lip gap in canonical units (inter-ocular = 1): mean over the 5 central inner pairs."""
    up = canonical[..., [82, 81, 13, 311, 312], :2]
    lo = canonical[..., [87, 178, 14, 402, 317], :2]
    return np.linalg.norm(up - lo, axis=-1).mean(-1)


def mouth_shapes(track: MeshTrack, indices: np.ndarray | None = None) -> np.ndarray:
    idx = default_mouth_region() if indices is None else indices
    return track.canonical[:, idx].copy()


def retarget(
    driver: MeshTrack, target: MeshTrack, length: int, indices: np.ndarray | None = None
) -> np.ndarray:
    """Driver's mouth motion as deltas from its most-closed shape, on the target's rest mouth."""
    idx = default_mouth_region() if indices is None else indices
    d_ok = np.flatnonzero(driver.present)
    t_ok = np.flatnonzero(target.present)
    d_open = inner_opening(driver.canonical[d_ok])
    t_open = inner_opening(target.canonical[t_ok])
    d_rest = np.median(driver.canonical[d_ok[d_open <= np.percentile(d_open, 15)]][:, idx], axis=0)
    t_rest = np.median(target.canonical[t_ok[t_open <= np.percentile(t_open, 15)]][:, idx], axis=0)

    def width(shape: np.ndarray) -> float:
        pos = {int(p): k for k, p in enumerate(idx)}
        return float(np.linalg.norm(shape[pos[61], :2] - shape[pos[291], :2]))

    ratio = width(t_rest) / width(d_rest)
    shapes = np.zeros((length, len(idx), 3), np.float32)
    for t in range(length):
        src = d_ok[t % len(d_ok)]
        shapes[t] = t_rest + ratio * (driver.canonical[src][idx] - d_rest)
    return shapes


def mouth_patches(track: MeshTrack, images: list[np.ndarray]) -> np.ndarray:
    """200x140 mouth patches in the head's frame (pose removed with the track's similarity),
    so frame-to-frame differences measure mouth motion, not head motion."""
    import cv2

    centre = track.canonical[0][[61, 291], :2].mean(0)
    out = []
    for k, im in enumerate(images):
        a = np.linalg.inv(track.scale[k] * track.rotation[k][:2, :2])
        m = np.hstack([150 * a, (150 * (-a @ track.offset[k][:2] - centre) + [100, 60])[:, None]])
        out.append(cv2.warpAffine(im, m, (200, 140)).astype(np.float32))
    return np.stack(out)


__all__ = [
    "LIPS_INNER",
    "LIPS_OUTER",
    "MeshTrack",
    "inner_opening",
    "mouth_patches",
    "mouth_shapes",
    "read_frames",
    "retarget",
    "track_images",
    "track_video",
]
