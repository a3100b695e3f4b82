"""Zero-phase temporal smoothing of pose and pose-normalised landmarks.

The whole track is known before rendering, so we can smooth symmetrically in time: a
Gaussian kernel centred on each frame removes the model's frame-to-frame jitter without
the lag a causal filter (One-Euro, Kalman) would add. Weights use real timestamps, so
variable-frame-rate video is handled, and smoothing never crosses a segment boundary
(shot cut, or a gap where the target was not tracked).

Pose and shape are smoothed separately: head motion is smoothed as rotation vectors,
log-scale and translation; the face shape in the canonical frame with a per-point width,
narrow for lips and eyelids (fast, meaningful motion) and wide for the rigid upper face.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

_TRUNCATE = 3.0  # kernel support in sigmas


def gaussian(values: np.ndarray, times: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth (T, ...) `values` along axis 0 with a Gaussian of `sigma` seconds (float64)."""
    values = np.asarray(values, np.float64)
    if len(values) < 2 or sigma <= 0:
        return values.copy()
    step = float(np.median(np.diff(times)))
    reach = int(np.ceil(_TRUNCATE * sigma / max(step, 1e-6)))
    reach = max(1, min(reach, len(values) - 1))
    acc = values.copy()
    norm = np.ones(len(values))
    n = len(values)
    for off in range(1, reach + 1):
        # Frame i gets frame i+off and frame i+off gets frame i, with the same weight.
        w = np.exp(-((times[off:] - times[: n - off]) ** 2) / (2.0 * sigma**2))
        wb = w.reshape((n - off,) + (1,) * (values.ndim - 1))
        acc[: n - off] += wb * values[off:]
        acc[off:] += wb * values[: n - off]
        norm[: n - off] += w
        norm[off:] += w
    return acc / norm.reshape((n,) + (1,) * (values.ndim - 1))


def smooth_rotations(rotations: np.ndarray, times: np.ndarray, sigma: float) -> np.ndarray:
    """(T, 3, 3) rotations smoothed as rotation vectors about their mean (no wrap-around
    trouble: head rotation within one shot stays far from 180 degrees of its mean)."""
    rots = Rotation.from_matrix(rotations)
    mean = rots.mean()
    rel = (mean.inv() * rots).as_rotvec()
    smoothed = gaussian(rel, times, sigma)
    return (mean * Rotation.from_rotvec(smoothed)).as_matrix()


def segments(breaks: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs between the True entries of `breaks` (a run starts at each)."""
    starts = list(np.flatnonzero(breaks))
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    ends = starts[1:] + [len(breaks)]
    return [(s, e) for s, e in zip(starts, ends) if e > s]


def blend_rotations(a: np.ndarray, b: np.ndarray, share: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations a turned towards b by `share` (T,) of the way between them."""
    ra, rb = Rotation.from_matrix(a), Rotation.from_matrix(b)
    step = (ra.inv() * rb).as_rotvec()
    return (ra * Rotation.from_rotvec(step * np.asarray(share)[:, None])).as_matrix()
