"""Captions, logos and other graphics burned into the picture stay as they are.

A caption across the chin is part of the source pixels: the warp that moves the jaw
bends its letters and the pasted mouth cuts through them (talk4 with a caption at chin
height: "at the" sagged with the jaw). It is told from the face by how it moves: not at
all. A pixel on a strong edge (a letter's outline) that keeps its value while the face
under it moves *across* that edge cannot be the face's own: a face edge moved that far
would have changed the pixel. Motion along an edge changes nothing, so only the part
across it counts, and only the net motion since the pixel last changed, so the track's
jitter does not add up.

One pass over the source frames (`add`, each frame's luma) follows, per pixel of the
lower-face box, how long it has kept its value (its "still run") and, where it is on a
strong edge inside the face, how far the face has moved across the edge since the run
began. When a run ends (the caption changes, the face leaves, the video ends), pixels
that saw enough motion are an overlay, together with the pixels that appeared and
vanished with them (a letter's flat fill, next to its outline): one `Segment`, its
pixels over its frames. Nothing a frame at a time is kept but those pixels.

The renderer paints a segment's pixels out of the source before re-drawing (inpainting
thin strokes over skin), and puts them back on top afterwards, unmoved.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

from .topology import JAW, LIPS_OUTER
from .warp import Box, jaw_ring, lower_face_box, lower_face_polygon

# Grey levels a pixel may drift from the value its run began with and still count as
# unchanged: compression redraws a static caption over a moving face (a caption's white
# strokes on talk4, H.264 CRF 18: 90 / 99 % of them within 3 / 6 levels over 85 frames).
STILL_LEVELS = 12
# Edge strength (grey levels per pixel, Sobel / 8) of a pixel whose stillness is evidence:
# a white letter's black outline is far above it. The face has such edges too (measured on
# talk1-5, hill and congressman: 99 % of the lower face away from the lips under 4-33,
# the lip line's 95th percentile 8-44, maxima 44-89), so an edge alone proves nothing:
# the motion test below does.
EDGE_LEVELS = 40
# Net motion of the face across the edge since the run began (inter-ocular units, and at
# least `MOVED_MIN_PX`) that makes a still edge pixel an overlay's. The smoothed track's
# jitter moves a point 0.001-0.005; speech moves the chin 0.05-0.2.
MOVED_IOD = 0.03
MOVED_MIN_PX = 2.0
# Fewer evidence pixels than this in a run's group is noise, not a caption.
MIN_EVIDENCE_PIXELS = 12
# Pixels that appeared and vanished with the evidence join it: those on a still edge, or
# within `EDGE_REACH_PX` of one (a letter's fill), in one piece with the evidence when
# grown by `JOIN_IOD` (inter-ocular units; the gap between words). So the
# part of a caption over the background beside the face is kept with the part over it.
JOIN_IOD = 0.12
EDGE_REACH_PX = 2
# Only evidence this far inside the jaw line (inter-ocular units) counts: beyond it, the
# background and the collar are still and have edges of their own, and the mesh's jaw
# line can sit a little outside the real one.
INSIDE_IOD = 0.06
# Nor within this distance of the outer lip line (inter-ocular units): the teeth move with
# the skull, not with the lips around them, and the tongue on its own.
MOUTH_IOD = 0.05
# The box followed around the lower face, beyond the renderer's own.
BOX_MARGIN_PX = 8


@dataclass(frozen=True)
class Segment:
    """Overlay pixels (frame coordinates) that stay unchanged over frames first..last."""

    first: int
    last: int
    ys: np.ndarray  # int32
    xs: np.ndarray  # int32


class OverlayFinder:
    """Finds overlays over the lower face in one forward pass of frame lumas.

    `landmarks` (N, 478, >=2, image px) and `present` (N,) are the face track's.
    """

    def __init__(self, landmarks: np.ndarray, present: np.ndarray) -> None:
        self._landmarks = np.asarray(landmarks, np.float32)
        self._present = np.asarray(present, bool)
        self.segments: list[Segment] = []
        self._shape: tuple[int, int] | None = None
        self._previous: tuple[int, Box] | None = None  # the last frame's index and box

    # -- the pass ------------------------------------------------------------
    def add(self, index: int, luma: np.ndarray) -> None:
        """Offer source frame `index`'s grey levels (frames must come in order)."""
        if self._shape is None:
            self._allocate((luma.shape[0], luma.shape[1]))
        previous = self._previous
        if previous is not None and previous[0] != index - 1:
            self._end(previous[1], None, previous[0])  # a gap: every run ends
            previous = None
        if index >= len(self._present) or not self._present[index] or luma.shape != self._shape:
            if previous is not None:
                self._end(previous[1], None, previous[0])
            self._previous = None
            return
        points = self._landmarks[index, :, :2]
        ring = jaw_ring(points)
        polygon = lower_face_polygon(points, ring)
        box = lower_face_box([polygon], luma.shape, margin=BOX_MARGIN_PX)
        grey = luma[box.slice()]
        carried = np.zeros(box.shape, bool)  # pixels whose run went on from the last frame
        if previous is not None:
            both = _overlap(previous[1], box)
            if both is not None:
                carried[both.within(box)] = True
            self._end(previous[1], both, index - 1)  # runs leaving the box end
        anchor = self._anchor[box.slice()]
        still = carried & (np.abs(grey.astype(np.int16) - anchor) <= STILL_LEVELS)
        changed = carried & ~still
        if changed.any():
            self._close(np.nonzero(changed), box, index - 1)
        self._gather(index, grey, still, lower_face_polygon(points, points[JAW]), box)
        fresh = ~still
        anchor[fresh] = grey[fresh]
        self._start[box.slice()][fresh] = index
        self._moved[box.slice()][fresh] = 0.0
        self._edge[box.slice()][fresh] = False
        self._previous = (index, box)

    def finish(self) -> list[Segment]:
        """End every run (the video is over) and return the overlays found."""
        if self._previous is not None:
            self._end(self._previous[1], None, self._previous[0])
            self._previous = None
        return self.segments

    # -- at render time --------------------------------------------------------
    def mask(self, index: int, box: Box) -> np.ndarray | None:
        """uint8 mask over `box`, 255 on overlay pixels shown in frame `index`; None if none."""
        out: np.ndarray | None = None
        for seg in self.segments:
            if not seg.first <= index <= seg.last:
                continue
            inside = (seg.ys >= box.y0) & (seg.ys < box.y1) & (seg.xs >= box.x0) & (seg.xs < box.x1)
            if not inside.any():
                continue
            if out is None:
                out = np.zeros(box.shape, np.uint8)
            out[seg.ys[inside] - box.y0, seg.xs[inside] - box.x0] = 255
        return out

    # -- helpers -------------------------------------------------------------
    def _allocate(self, shape: tuple[int, int]) -> None:
        self._shape = shape
        self._anchor = np.zeros(shape, np.int16)
        self._start = np.zeros(shape, np.int32)
        self._moved = np.zeros(shape, np.float32)  # inter-ocular units
        self._edge = np.zeros(shape, bool)  # on a strong edge while still, this run

    def _gather(
        self, index: int, grey: np.ndarray, still: np.ndarray, face: np.ndarray, box: Box
    ) -> None:
        """Add the face's motion across each still edge pixel's edge to its evidence, for
        pixels inside the lower face's own outline `face`."""
        if not still.any():
            return
        f = grey.astype(np.float32)
        gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3) / 8
        gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3) / 8
        strength = np.hypot(gx, gy)
        candidates = still & (strength >= EDGE_LEVELS)
        self._edge[box.slice()] |= candidates
        points = self._landmarks[index, :, :2]
        iod = _outer_eye_distance(points)
        origin = (box.x0, box.y0)
        inside = np.zeros(box.shape, np.uint8)
        cv2.fillPoly(inside, [np.round(face - origin).astype(np.int32)], 1)
        inside = cv2.erode(inside, _disc(INSIDE_IOD * iod))
        mouth = np.zeros(box.shape, np.uint8)
        cv2.fillPoly(mouth, [np.round(points[LIPS_OUTER] - origin).astype(np.int32)], 1)
        mouth = cv2.dilate(mouth, _disc(MOUTH_IOD * iod))
        candidates &= inside.astype(bool) & ~mouth.astype(bool)
        ys, xs = np.nonzero(candidates)
        if ys.size == 0:
            return
        fy, fx = ys + box.y0, xs + box.x0
        nearest = cKDTree(points).query(np.column_stack([fx, fy]))[1]
        began = self._start[fy, fx]
        shift = points[nearest] - self._landmarks[began, nearest, :2]
        across = np.abs(shift[:, 0] * gx[ys, xs] + shift[:, 1] * gy[ys, xs]) / strength[ys, xs]
        across = np.where(across >= MOVED_MIN_PX, across / iod, 0.0)
        self._moved[fy, fx] = np.maximum(self._moved[fy, fx], across)

    def _end(self, box: Box, keep: Box | None, last: int) -> None:
        """End the runs of `box`'s pixels outside `keep` (a box within it; all without one)."""
        gone = np.ones(box.shape, bool)
        if keep is not None:
            gone[keep.within(box)] = False
        if gone.any():
            self._close(np.nonzero(gone), box, last)

    def _close(self, where: tuple[np.ndarray, ...], box: Box, last: int) -> None:
        """Runs of these pixels (indices into `box`) ended at frame `last`: keep overlays."""
        ys, xs = where[0] + box.y0, where[1] + box.x0
        evidence = self._moved[ys, xs] >= MOVED_IOD
        if evidence.sum() < MIN_EVIDENCE_PIXELS:
            return
        starts = self._start[ys, xs]
        iod = _outer_eye_distance(self._landmarks[last])
        join = _disc(JOIN_IOD * iod)
        for first in np.unique(starts[evidence]):
            group = starts == first
            seen = evidence & group
            if seen.sum() < MIN_EVIDENCE_PIXELS:
                continue
            gy, gx = ys[group], xs[group]
            y0, x0 = int(gy.min()), int(gx.min())
            shape = (int(gy.max()) - y0 + 1, int(gx.max()) - x0 + 1)
            members, edges = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
            members[gy - y0, gx - x0] = 1
            on_edge = self._edge[gy, gx]
            edges[gy[on_edge] - y0, gx[on_edge] - x0] = 1
            near = cv2.dilate(edges, _disc(EDGE_REACH_PX)) & members
            _, pieces = cv2.connectedComponents(cv2.dilate(near, join), connectivity=8)
            chosen = np.unique(pieces[ys[seen] - y0, xs[seen] - x0])
            joined = near[gy - y0, gx - x0].astype(bool) & np.isin(
                pieces[gy - y0, gx - x0], chosen[chosen > 0]
            )
            self.segments.append(
                Segment(int(first), last, gy[joined].astype(np.int32), gx[joined].astype(np.int32))
            )
        self._moved[ys, xs] = 0.0


def _outer_eye_distance(points: np.ndarray) -> float:
    """The unit of this module's `*_IOD` bounds: outer eye corner to outer eye corner (the
    benchmark's inter-ocular distance; `warp.face_axes` measures between eye centres)."""
    return float(np.linalg.norm(points[263, :2] - points[33, :2]))


def _disc(radius: float) -> np.ndarray:
    r = max(1, round(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _overlap(a: Box, b: Box) -> Box | None:
    x0, y0, x1, y1 = max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1)
    return Box(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def paint_out(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`pixels` (uint8 RGB) with the mask's pixels (and a pixel around them, the letters'
    anti-aliased edge) filled in from their surroundings."""
    grown = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return cv2.inpaint(np.ascontiguousarray(pixels), grown, 3, cv2.INPAINT_TELEA)


def put_back(result: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`result` with the mask's pixels (and their anti-aliased edge, softly) from `source`."""
    grown = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    alpha = cv2.GaussianBlur(grown.astype(np.float32) / 255, (0, 0), 0.7)
    alpha = np.maximum(alpha, mask.astype(np.float32) / 255)[..., None]
    mixed = result.astype(np.float32) * (1 - alpha) + source.astype(np.float32) * alpha
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


__all__ = ["OverlayFinder", "Segment", "paint_out", "put_back"]
