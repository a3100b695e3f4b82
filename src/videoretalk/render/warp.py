"""Lower-face geometry: where every landmark goes, and the dense backward map that moves pixels.

The target mouth moves only the points the motion stage drives; the jaw line follows the
lower lip as a hinge (the chin moves as much as the lower lip, the ear-level ends not at
all), and every other lower-face point is Shepard-interpolated between the moving points
and fixed anchors (everything at or above the nose bottom, and a ring below the jaw line),
so an open mouth lowers the chin and stretches the cheeks without tearing.

Pixels are moved by a piecewise-affine map over a Delaunay triangulation of the *target*
points (backward mapping: every output pixel knows where to sample), evaluated on a coarse
grid and upsampled as a displacement field — the field is smooth, the texture is sampled
at full resolution by `cv2.remap`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from .topology import CHIN, EYE_CORNERS, INNER_LOWER, INNER_UPPER, JAW, LOWER_LIP_MID, NOSE_BOTTOM

# Jaw ring (zero displacement) distance below/outside the jaw line, in inter-ocular units:
# must exceed the largest chin drop (below) so the neck band never folds.
RING_DISTANCE_IOD = 0.45
MAX_CHIN_DROP_IOD = 0.32
# Fractions across the mouth opening where virtual interior points are placed, so teeth
# are mapped by a grid rather than by long thin triangles fanning from the lip contour.
INTERIOR_FRACTIONS = (1 / 3, 2 / 3)
# Output pixels per map sample; the map is piecewise-linear so upsampling it is nearly exact.
MAP_STEP_PX = 3


def face_axes(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Unit 'down' vector (eyes -> chin) in image space and the inter-ocular distance."""
    eyes = [points[list(pair), :2].mean(0) for pair in EYE_CORNERS]
    iod = float(np.linalg.norm(eyes[1] - eyes[0]))
    down = points[CHIN, :2] - (eyes[0] + eyes[1]) / 2
    return down / max(float(np.linalg.norm(down)), 1e-6), max(iod, 1e-6)


def move_lower_face(current: np.ndarray, driven: np.ndarray, driven_target: np.ndarray) -> np.ndarray:
    """All 478 points (x, y) of the current face after moving `driven` indices to `driven_target`."""
    cur = current[:, :2].astype(np.float64)
    down, iod = face_axes(current)
    disp = np.zeros_like(cur)
    known = np.zeros(len(cur), bool)
    disp[driven] = driven_target[:, :2] - cur[driven]
    known[driven] = True

    # Jaw hinge: chin follows the lower lip, ear-level ends stay.
    if LOWER_LIP_MID in set(driven.tolist()):
        drop = disp[LOWER_LIP_MID].copy()
    else:
        lower = np.intersect1d(driven, INNER_LOWER)
        drop = disp[lower].mean(0) if len(lower) else np.zeros(2)
    norm = float(np.linalg.norm(drop))
    if norm > MAX_CHIN_DROP_IOD * iod:
        drop *= MAX_CHIN_DROP_IOD * iod / norm
    hinge = (cur[JAW[0]] + cur[JAW[-1]]) / 2
    span = max(float((cur[CHIN] - hinge) @ down), 1e-6)
    for j in JAW:
        if not known[j]:
            g = np.clip(float((cur[j] - hinge) @ down) / span, 0.0, 1.0)
            disp[j] = drop * g
            known[j] = True

    # Anchors: everything at or above the nose bottom stays put.
    level = (cur - cur[NOSE_BOTTOM]) @ down
    anchors = (level <= 0.02 * iod) & ~known
    known |= anchors
    free = np.flatnonzero(~known)
    if len(free):
        src = np.flatnonzero(known)
        d2 = ((cur[free, None, :] - cur[None, src, :]) ** 2).sum(-1) + (1e-3 * iod) ** 2
        w = 1.0 / d2
        disp[free] = (w @ disp[src]) / w.sum(1, keepdims=True)
    return (cur + disp).astype(np.float32)


def jaw_ring(points: np.ndarray) -> np.ndarray:
    """Fixed points pushed outward from the jaw line (neck/background side)."""
    _, iod = face_axes(points)
    centre = points[NOSE_BOTTOM, :2]
    jaw = points[JAW, :2]
    out = jaw - centre
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    return (jaw + out * RING_DISTANCE_IOD * iod).astype(np.float32)


def lower_face_polygon(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Region that may change: below the nose bottom, out to the jaw ring (closed polygon).

    The top edge runs across the face at the nose-bottom level between the two places the
    jaw line crosses it, so cheeks at eye level, the nose and everything above stay untouched.
    """
    down, _ = face_axes(points)
    jaw = points[JAW, :2]
    level = (jaw - points[NOSE_BOTTOM, :2]) @ down
    below = np.flatnonzero(level >= 0)
    if len(below) < 2:
        return np.concatenate([ring, jaw[::-1]])
    first, last = below[0], below[-1]

    def crossing(inside: int, outside: int) -> np.ndarray:
        if outside < 0 or outside >= len(jaw):
            return jaw[inside]
        a, b = level[inside], level[outside]
        t = a / (a - b) if a != b else 0.0
        return jaw[inside] + (jaw[outside] - jaw[inside]) * t

    ring_part = ring[first:last + 1]
    return np.concatenate([[crossing(first, first - 1)], ring_part, [crossing(last, last + 1)]]).astype(np.float32)


def interior_points(points: np.ndarray) -> np.ndarray:
    """Virtual points across the mouth opening, between facing inner-lip points."""
    up, lo = points[INNER_UPPER, :2], points[INNER_LOWER, :2]
    return np.concatenate([up + (lo - up) * a for a in INTERIOR_FRACTIONS]).astype(np.float32)


def mesh_points(points2d: np.ndarray) -> np.ndarray:
    """The 478 points plus virtual interior points, in the order every source must follow."""
    return np.concatenate([points2d[:, :2], interior_points(points2d)]).astype(np.float32)


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def slice(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def lower_face_box(points: list[np.ndarray], image_shape: tuple[int, ...], margin: float) -> Box:
    pts = np.concatenate([p[:, :2] for p in points])
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    h, w = image_shape[:2]
    x0, y0 = int(max(0, np.floor(lo[0]))), int(max(0, np.floor(lo[1])))
    x1, y1 = int(min(w, np.ceil(hi[0]) + 1)), int(min(h, np.ceil(hi[1]) + 1))
    return Box(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


class PiecewiseMap:
    """Barycentric coordinates of a coarse grid over `box` in a triangulation of target points.

    `sample_map(sources)` turns per-point source positions into full-resolution remap
    coordinates; one triangulation serves every source (current frame, exemplars).
    """

    def __init__(self, targets: np.ndarray, box: Box, step: int = MAP_STEP_PX) -> None:
        h, w = box.shape
        corners = np.array([[box.x0 - 2, box.y0 - 2], [box.x1 + 2, box.y0 - 2],
                            [box.x0 - 2, box.y1 + 2], [box.x1 + 2, box.y1 + 2]], np.float32)
        self.box = box
        self.targets = np.concatenate([targets, corners]).astype(np.float64)
        gx = np.linspace(0, w - 1, max(2, int(np.ceil((w - 1) / step)) + 1))
        gy = np.linspace(0, h - 1, max(2, int(np.ceil((h - 1) / step)) + 1))
        self._grid_shape = (len(gy), len(gx))
        xx, yy = np.meshgrid(gx + box.x0, gy + box.y0)
        q = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)
        tri = Delaunay(self.targets)
        simplex = _rasterise(tri, self.targets, box, gx, gy).ravel()
        # Barycentric coordinates from each triangle's 2x2 edge matrix (Delaunay.transform
        # is the same thing but orders of magnitude slower to build).
        v = self.targets[tri.simplices]
        e1, e2 = v[:, 0] - v[:, 2], v[:, 1] - v[:, 2]
        det = e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]
        det = np.where(np.abs(det) < 1e-9, 1e-9, det)

        def bary(idx: np.ndarray, s: np.ndarray) -> np.ndarray:
            d = q[idx] - v[s, 2]
            b0 = (e2[s, 1] * d[:, 0] - e2[s, 0] * d[:, 1]) / det[s]
            b1 = (e1[s, 0] * d[:, 1] - e1[s, 1] * d[:, 0]) / det[s]
            return np.stack([b0, b1, 1 - b0 - b1], 1)

        every = np.arange(len(q))
        self._bary = bary(every, np.maximum(simplex, 0))
        # Nodes the raster missed or put in the wrong (thin) triangle: exact lookup, few of them.
        # Walk them to the neighbouring triangle that contains them best (a few steps suffice).
        for _ in range(4):
            bad = np.flatnonzero((simplex >= 0) & (self._bary.min(1) < -0.02))
            if not len(bad):
                break
            best_s, best_b = simplex[bad], self._bary[bad]
            for k in range(3):
                nb = tri.neighbors[simplex[bad], k]
                cand = bary(bad, np.maximum(nb, 0))
                better = (nb >= 0) & (cand.min(1) > best_b.min(1))
                best_s = np.where(better, nb, best_s)
                best_b = np.where(better[:, None], cand, best_b)
            simplex[bad], self._bary[bad] = best_s, best_b
        missed = np.flatnonzero(simplex < 0)
        if len(missed):
            simplex[missed] = tri.find_simplex(q[missed], bruteforce=False, tol=1e-6)
            self._bary[missed] = bary(missed, np.maximum(simplex[missed], 0))
        inside = simplex >= 0
        s = np.where(inside, simplex, 0)
        self._bary[~inside] = 0.0
        self._verts = tri.simplices[s]
        self._inside = inside
        self._q = q
        self._pix = np.meshgrid(np.arange(box.x0, box.x1, dtype=np.float32),
                                np.arange(box.y0, box.y1, dtype=np.float32))
        # Where each output pixel falls on the coarse grid (end points aligned).
        self._up = np.meshgrid(np.arange(w, dtype=np.float32) * ((len(gx) - 1) / max(w - 1, 1)),
                               np.arange(h, dtype=np.float32) * ((len(gy) - 1) / max(h - 1, 1)))

    def sample_map(self, sources: np.ndarray, offset: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
        """(map_x, map_y) float32 of the box's shape: where each output pixel samples `sources`' image.

        `sources` has one row per target point (corners excluded: they map by the best
        similarity of the points, so a source crop of any size is covered). `offset` is
        subtracted, for sources whose image is a crop.
        """
        src = np.asarray(sources, np.float64)
        n = len(src)
        tgt = self.targets[:n]
        m, _ = cv2.estimateAffinePartial2D(tgt.astype(np.float32), src.astype(np.float32))
        if m is None:
            m = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
        corners = self.targets[n:] @ m[:, :2].T + m[:, 2]
        allsrc = np.concatenate([src, corners])
        mapped = (self._bary[:, :, None] * allsrc[self._verts]).sum(1)
        mapped[~self._inside] = self._q[~self._inside] @ m[:, :2].T + m[:, 2]
        disp = (mapped - self._q).reshape(*self._grid_shape, 2).astype(np.float32)
        disp = cv2.remap(disp, self._up[0], self._up[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Upsampling a displacement (not absolute coordinates) keeps exact identity where it is 0.
        map_x = self._pix[0] + disp[..., 0] - np.float32(offset[0])
        map_y = self._pix[1] + disp[..., 1] - np.float32(offset[1])
        return map_x, map_y


def _rasterise(tri: Delaunay, points: np.ndarray, box: Box, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Triangle index at every grid node (-1 outside), by drawing the triangles.

    `Delaunay.find_simplex` walks the mesh per query and is ~100x slower for 10^4 nodes; a
    node on a shared edge may get either neighbour, harmless for a continuous piecewise map.
    """
    sx = (gx[-1] - gx[0]) / max(len(gx) - 1, 1) or 1.0
    sy = (gy[-1] - gy[0]) / max(len(gy) - 1, 1) or 1.0
    grid = (points - np.array([box.x0, box.y0])) / np.array([sx, sy])
    shift = 4  # sub-pixel vertex precision: 1/16 of a grid cell
    fixed = np.round(grid * (1 << shift)).astype(np.int32)
    labels = np.full((len(gy), len(gx)), -1, np.int32)
    for k, simplex in enumerate(tri.simplices):
        cv2.fillConvexPoly(labels, fixed[simplex], k, lineType=cv2.LINE_8, shift=shift)
    return labels
