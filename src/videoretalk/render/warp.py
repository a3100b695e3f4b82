"""Lower-face geometry: where every landmark goes, and the dense backward map that moves pixels.

The target mouth moves only the points the motion stage drives; the jaw line follows the
lower lip as a hinge (the chin moves as much as the lower lip, the ear-level ends not at
all), and every other lower-face point is Shepard-interpolated between the moving points
and fixed anchors (everything at or above the nose bottom, and a ring below the jaw line),
so an open mouth lowers the chin and stretches the cheeks without tearing.

Pixels are moved by a piecewise-affine map over a Delaunay triangulation of the *target*
points (backward mapping: every output pixel knows where to sample), evaluated on a coarse
grid and upsampled as a displacement field — the field is smooth, the texture is sampled
at full resolution by `cv2.remap`. The triangulation is kept from frame to frame while it
stays valid (`MeshTopology`), and grid nodes are located in it all at once (`_locate`).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from .topology import (
    CHIN,
    EYE_CORNERS,
    INNER_LOWER,
    INNER_UPPER,
    JAW,
    LIPS_OUTER,
    LOWER_LIP_MID,
    NOSE_BOTTOM,
    NUM_POINTS,
)

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


# How far around the outer lips (inter-ocular units) a frame must hold pixels for its mouth
# to be re-drawn or lent as an exemplar: the exemplar's paste reach (margin + feather).
IN_FRAME_MARGIN_IOD = 0.1


def lips_in_frame(landmarks: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """Per frame, whether the outer lips and `IN_FRAME_MARGIN_IOD` around them lie inside
    a frame of `frame_size` (width, height).

    Where the frame edge cuts the lips (a tight close-up, a face leaving the picture), the
    lips beyond it are not there to move: the warp and the exemplar's crop repeated the
    edge row into vertical streaks across the mouth.
    """
    points = np.asarray(landmarks, np.float64)[..., :2]
    eyes = [points[:, list(pair)].mean(axis=1) for pair in EYE_CORNERS]
    margin = IN_FRAME_MARGIN_IOD * np.linalg.norm(eyes[1] - eyes[0], axis=1)[:, None]
    lips = points[:, LIPS_OUTER]
    low, high = lips.min(axis=1) - margin, lips.max(axis=1) + margin
    width, height = frame_size
    with np.errstate(invalid="ignore"):  # frames without a face hold NaN: not inside
        return (low >= 0).all(axis=1) & (high[:, 0] <= width - 1) & (high[:, 1] <= height - 1)


def move_lower_face(
    current: np.ndarray, driven: np.ndarray, driven_target: np.ndarray
) -> np.ndarray:
    """All 478 points (x, y) of the current face after moving `driven` indices to `driven_target`."""
    cur = current[:, :2].astype(np.float64)
    down, iod = face_axes(current)
    disp = np.zeros_like(cur)
    known = np.zeros(len(cur), bool)
    disp[driven] = driven_target[:, :2] - cur[driven]
    known[driven] = True
    # Driven jaw points may not cross the band below the jaw that absorbs their motion:
    # past the ring the neck texture folds into a blotchy patch. Soft limit (tanh), so a
    # large drop saturates smoothly instead of sticking at a cap from frame to frame.
    jaw = np.intersect1d(driven, JAW)
    if len(jaw):
        limit = MAX_CHIN_DROP_IOD * iod
        length = np.linalg.norm(disp[jaw], axis=1, keepdims=True)
        disp[jaw] *= limit * np.tanh(length / limit) / np.maximum(length, 1e-9)

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

    ring_part = ring[first : last + 1]
    return np.concatenate(
        [[crossing(first, first - 1)], ring_part, [crossing(last, last + 1)]]
    ).astype(np.float32)


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

    def within(self, outer: Box) -> tuple[builtins.slice, builtins.slice]:
        """This box's pixels as a slice of an array holding `outer`'s (which contains it)."""
        return (
            slice(self.y0 - outer.y0, self.y1 - outer.y0),
            slice(self.x0 - outer.x0, self.x1 - outer.x0),
        )

    def intersect(self, other: Box) -> Box:
        """The overlap of two boxes (at least one pixel, at the corner where they meet)."""
        x0, y0 = max(self.x0, other.x0), max(self.y0, other.y0)
        return Box(x0, y0, max(min(self.x1, other.x1), x0 + 1), max(min(self.y1, other.y1), y0 + 1))


def lower_face_box(points: list[np.ndarray], image_shape: tuple[int, ...], margin: float) -> Box:
    pts = np.concatenate([p[:, :2] for p in points])
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    h, w = image_shape[:2]
    x0, y0 = int(max(0, np.floor(lo[0]))), int(max(0, np.floor(lo[1])))
    x1, y1 = int(min(w, np.ceil(hi[0]) + 1)), int(min(h, np.ceil(hi[1]) + 1))
    return Box(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


class MeshTopology:
    """Triangles over the target points, re-used from frame to frame while they stay valid.

    A triangulation whose triangles all keep a positive orientation inside a fixed outer
    boundary still tiles the plane exactly once, so the previous frame's triangles serve
    as long as no target point has crossed an edge; only then is Qhull run again (~2 ms
    for 500 points, more than the rest of the map). Keeping the topology also keeps the
    piecewise map from flipping edges between frames.
    """

    def __init__(self) -> None:
        self.simplices: np.ndarray | None = None
        self.rebuilds = 0

    def triangles(self, points: np.ndarray) -> np.ndarray:
        kept = self.simplices
        if (
            kept is not None
            and len(kept)
            and int(kept.max()) < len(points)
            and (_signed_area(points, kept) > -FOLD_AREA_PX2).all()
        ):
            return kept
        simplices = Delaunay(points).simplices.astype(np.int32)
        flip = _signed_area(points, simplices) < 0
        simplices[flip] = simplices[flip][:, [0, 2, 1]]
        self.simplices = simplices
        self.rebuilds += 1
        return simplices


# A kept triangle turned inside out by more than this (px^2, twice the area) triggers a fresh
# triangulation. Flat triangles are fine (a closed mouth puts both inner lips on one line:
# they cover no pixel); a fold this small moves no pixel visibly.
FOLD_AREA_PX2 = 0.05


def _signed_area(points: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    a, b, c = points[simplices[:, 0]], points[simplices[:, 1]], points[simplices[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity taking `src` points onto `dst` (closed form, no RANSAC)."""
    ms, md = src.mean(0), dst.mean(0)
    a = (src[:, 0] - ms[0]) + 1j * (src[:, 1] - ms[1])
    b = (dst[:, 0] - md[0]) + 1j * (dst[:, 1] - md[1])
    k = complex((np.conj(a) * b).sum() / max(float((np.abs(a) ** 2).sum()), 1e-9))
    rot = np.array([[k.real, -k.imag], [k.imag, k.real]])
    return np.hstack([rot, (md - rot @ ms)[:, None]])


class PiecewiseMap:
    """Barycentric coordinates of a coarse grid over `box` in a triangulation of target points.

    `sample_map(sources)` turns per-point source positions into full-resolution remap
    coordinates; one triangulation serves every source (current frame, exemplars).
    Grid node (j, k) sits at pixel (x0 + (j + 0.5) * step - 0.5, y0 + ...), the centre of a
    step x step cell, so `cv2.resize` by exactly `step` upsamples the coarse field.
    """

    def __init__(
        self,
        targets: np.ndarray,
        box: Box,
        step: int = MAP_STEP_PX,
        topology: MeshTopology | None = None,
    ) -> None:
        h, w = box.shape
        self.box, self.step = box, step
        nx, ny = -(-w // step), -(-h // step)
        self._grid_shape = (ny, nx)
        span = np.array([nx * step, ny * step], np.float64)
        lo = np.array([box.x0, box.y0], np.float64)
        # Corners well outside the box, so that the box moving by a pixel between frames
        # does not tip the thin triangles between the jaw ring and a corner over.
        far = float(span.sum()) / 2
        corners = np.array(
            [
                lo - far,
                [lo[0] + span[0] + far, lo[1] - far],
                [lo[0] - far, lo[1] + span[1] + far],
                lo + span + far,
            ]
        )
        self.targets = np.concatenate([np.asarray(targets, np.float64), corners])
        simplices = (topology or MeshTopology()).triangles(self.targets)
        # Target points in grid units (node j at j; pixel x = x0 + (j + 0.5) * step - 0.5).
        g = (self.targets - lo + 0.5) / step - 0.5
        node, tri, bary = _locate(g, simplices, nx, ny)
        self._verts = np.zeros((nx * ny, 3), np.int32)
        self._bary = np.zeros((nx * ny, 3), np.float32)
        self._inside = np.zeros(nx * ny, bool)
        self._verts[node], self._bary[node], self._inside[node] = simplices[tri], bary, True
        jx, jy = np.meshgrid(np.arange(nx), np.arange(ny))
        self._q = (np.stack([jx.ravel(), jy.ravel()], 1) * step + lo + (step - 1) / 2).astype(
            np.float32
        )

    def sample_map(
        self,
        sources: np.ndarray,
        offset: tuple[float, float] = (0.0, 0.0),
        region: Box | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(map_x, map_y) float32 over `region` (default: the whole box): where each output pixel
        samples `sources`' image.

        `sources` has one row per target point (corners excluded: they map by the best
        similarity of the points, so a source crop of any size is covered). `offset` is
        subtracted, for sources whose image is a crop.
        """
        src = np.asarray(sources, np.float64)
        n = len(src)
        m = similarity_fit(self.targets[:n], src)
        allsrc = np.concatenate([src, self.targets[n:] @ m[:, :2].T + m[:, 2]]).astype(np.float32)
        mapped = np.einsum("nk,nkc->nc", self._bary, allsrc[self._verts])
        out = ~self._inside
        if out.any():
            mapped[out] = self._q[out] @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
        disp = (mapped - self._q).reshape(*self._grid_shape, 2)
        region = region or self.box
        step, box = self.step, self.box
        # Grid window covering the region plus one node each side, upsampled by exactly `step`.
        j0 = max(0, (region.x0 - box.x0) // step - 1)
        k0 = max(0, (region.y0 - box.y0) // step - 1)
        j1 = min(self._grid_shape[1], -(-(region.x1 - box.x0) // step) + 1)
        k1 = min(self._grid_shape[0], -(-(region.y1 - box.y0) // step) + 1)
        window = np.ascontiguousarray(disp[k0:k1, j0:j1])
        up = cv2.resize(
            window, ((j1 - j0) * step, (k1 - k0) * step), interpolation=cv2.INTER_LINEAR
        )
        px, py = region.x0 - box.x0 - j0 * step, region.y0 - box.y0 - k0 * step
        h, w = region.shape
        up = up[py : py + h, px : px + w]
        xs = np.arange(region.x0, region.x1, dtype=np.float32) - np.float32(offset[0])
        ys = np.arange(region.y0, region.y1, dtype=np.float32) - np.float32(offset[1])
        # Upsampling a displacement (not absolute coordinates) keeps exact identity where it is 0.
        return up[..., 0] + xs[None, :], up[..., 1] + ys[:, None]


def _locate(
    g: np.ndarray, simplices: np.ndarray, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For grid nodes inside the triangles: (node index, triangle, barycentric weights).

    Vectorised: every triangle lists the nodes of its bounding box, all candidates get
    barycentric coordinates at once, and the ones inside (a small tolerance so shared
    edges are never missed) are kept; a node on an edge may take either neighbour, which
    is harmless for a continuous piecewise map.
    """
    v = g[simplices]  # (T, 3, 2)
    lo = np.clip(np.ceil(v.min(1) - 1e-6), 0, [nx, ny]).astype(np.int64)
    hi = np.clip(np.floor(v.max(1) + 1e-6), -1, [nx - 1, ny - 1]).astype(np.int64)
    size = np.maximum(hi - lo + 1, 0)
    counts = size[:, 0] * size[:, 1]
    tri = np.repeat(np.arange(len(simplices)), counts)
    local = np.arange(len(tri)) - np.repeat(np.cumsum(counts) - counts, counts)
    cx = lo[tri, 0] + local % size[tri, 0]
    cy = lo[tri, 1] + local // size[tri, 0]
    e1, e2 = v[:, 0] - v[:, 2], v[:, 1] - v[:, 2]
    det = e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    dx, dy = cx - v[tri, 2, 0], cy - v[tri, 2, 1]
    b0 = (e2[tri, 1] * dx - e2[tri, 0] * dy) / det[tri]
    b1 = (e1[tri, 0] * dy - e1[tri, 1] * dx) / det[tri]
    b2 = 1 - b0 - b1
    inside = np.minimum(np.minimum(b0, b1), b2) >= -1e-6
    node = (cy * nx + cx)[inside]
    return node, tri[inside], np.stack([b0, b1, b2], 1)[inside].astype(np.float32)


# Undriven mesh points closer than this to the lips (inter-ocular units) are left out of
# the warp: they sit in the lip body, and interpolating them from a closed mouth onto an
# open one (or the reverse) puts them on the wrong side of a lip line — the mapping folds
# and teeth and lips come out zig-zagged.
LIP_BODY_MARGIN_IOD = 0.04


# Points this far above the nose bottom (inter-ocular units) are left out too: they never
# move, lie outside the lower-face mask (whose top is the nose bottom), and blinking eyelids
# and irises would otherwise fold the kept triangulation and force a new one every few frames.
ABOVE_NOSE_IOD = 0.35


def control_points(
    landmarks: np.ndarray, canonical: np.ndarray, present: np.ndarray, driven: set[int]
) -> np.ndarray:
    """Indices into mesh_points()+ring that steer the warp: all but undriven lip-body points
    (and points well above the nose), judged on the track's mean canonical face."""
    n_mesh = len(mesh_points(np.zeros((NUM_POINTS, 2), np.float32)))  # with virtual points
    if not present.any():
        return np.arange(n_mesh)
    n_ring = len(jaw_ring(np.asarray(landmarks[int(np.argmax(present))], np.float32)))
    mean = np.asarray(canonical, np.float32)[present].mean(0)[:, :2]
    outer_lips = mean[LIPS_OUTER].astype(np.float32).reshape(-1, 1, 2)
    iod = float(np.linalg.norm(mean[263] - mean[33]))
    down, _ = face_axes(mean)
    level = (mean - mean[NOSE_BOTTOM]) @ down
    drop = [
        p
        for p in range(NUM_POINTS)
        if p not in driven
        and (
            cv2.pointPolygonTest(outer_lips, (float(mean[p, 0]), float(mean[p, 1])), True)
            > -LIP_BODY_MARGIN_IOD * iod
            or level[p] < -ABOVE_NOSE_IOD * iod
        )
    ]
    keep = np.setdiff1d(np.arange(NUM_POINTS), drop)
    return np.concatenate([keep, np.arange(NUM_POINTS, n_mesh + n_ring)])
