"""`MouthRenderer`: target mouth shapes -> pixels, in three calls the pipeline makes.

    renderer = MouthRenderer(settings.render)
    renderer.prepare(track)                  # 1. choose exemplar frames from mouth shapes
    for index, grey, frame in reader.scan(renderer.wanted_frames):  # 2. a pass of its own:
        renderer.observe_grey(index, grey)   #    every frame, for captions over the face
        if frame is not None:                #    (if `wants_every_frame`), and lips-sized
            renderer.observe(frame)          #    crops of the chosen frames
    for t, (frame, i) in enumerate(plan):    # 3. render pass, output frames in order
        out = renderer.render(frame, face_index=i, target_shape=motion.shapes[t])

Per frame (all in a box around the lower face, at full resolution):
  a. geometry  — move the driven mouth points to the target (placed in this frame's head
                 pose), the jaw and cheeks with them (`warp.move_lower_face`);
  b. skin      — warp the current frame's own lower face onto that geometry;
  c. mouth     — warp the chosen exemplar's lips, teeth and interior onto it, colour-
                 matched on a skin ring; cross-fade when the exemplar changes;
  d. interior  — where the target opens far wider than any exemplar, paint teeth/cavity;
                 where it shuts lips no exemplar shows shut, paint the closed seam;
  e. composite — under a feathered lower-face mask, with the camera grain the re-drawing
                 smoothed away added back (`grain`); every pixel outside it is untouched.
A caption or logo burned in over the lower face (`overlay`) is painted out of the frame
before a-e and put back, unmoved, after them.
A frame whose face is not tracked, or whose geometry is degenerate, comes back unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import cv2
import numpy as np
from scipy.spatial import QhullError

from ..media.decode import DecodedFrame
from . import composite, grain, interior, lips, occlusion, overlay
from .bank import MouthBank
from .exemplars import Exemplar, inner_gap, mouth_feature
from .settings import RenderSettings
from .topology import (
    INNER_LOWER,
    INNER_UPPER,
    LIPS_INNER,
    LIPS_OUTER,
    NUM_POINTS,
    OUTER_LOWER,
    OUTER_UPPER,
    default_mouth_region,
)
from .warp import (
    Box,
    MeshTopology,
    PiecewiseMap,
    control_points,
    face_axes,
    jaw_ring,
    lips_in_frame,
    lower_face_box,
    lower_face_polygon,
    mesh_points,
    move_lower_face,
)

log = logging.getLogger(__name__)

# Skin ring for colour matching, beyond the pasted mouth's feather (inter-ocular units).
COLOUR_RING_IOD = 0.12
# Source opening minus target opening (inter-ocular units) over which the exemplar's paste
# margin grows from none (opening a mouth) to the full `mouth_margin_iod` (closing one).
CLOSING_SPAN = 0.05


class FaceTrackLike(Protocol):
    """What the renderer reads from `videoretalk.face.FaceTrack`."""

    @property
    def present(self) -> np.ndarray: ...  # bool[N]
    @property
    def landmarks(self) -> np.ndarray: ...  # float32[N,478,3] image px
    @property
    def canonical(self) -> np.ndarray: ...  # float32[N,478,3] pose-normalised
    @property
    def shot_start(self) -> np.ndarray: ...  # bool[N] a shot cut lands on this frame
    @property
    def frame_size(self) -> tuple[int, int]: ...  # (width, height) of the frames

    def to_image(self, i: int, canonical_points: np.ndarray) -> np.ndarray: ...


class MouthRenderer:
    def __init__(
        self, settings: RenderSettings | None = None, mouth_indices: np.ndarray | None = None
    ) -> None:
        self.settings = settings or RenderSettings()
        self.mouth_indices = np.asarray(
            default_mouth_region() if mouth_indices is None else mouth_indices, np.int64
        )
        driven = set(self.mouth_indices.tolist())
        missing = [p for p in (*LIPS_OUTER, *LIPS_INNER) if p not in driven]
        if missing:
            raise ValueError(
                f"mouth_indices must contain both lip loops; missing mesh points {missing[:8]}"
            )
        inner = set(LIPS_INNER.tolist())
        outer = set(LIPS_OUTER.tolist())
        self._weights = np.array(
            [2.0 if p in inner else 1.0 if p in outer else 0.5 for p in self.mouth_indices],
            np.float32,
        )
        row = {p: k for k, p in enumerate(self.mouth_indices.tolist())}
        self._lip_rows = tuple(
            np.array([row[p] for p in pts])
            for pts in (OUTER_UPPER, INNER_UPPER, INNER_LOWER, OUTER_LOWER)
        )
        self._lip_limits: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (
            None  # down, thickness lo, hi
        )
        self._track: FaceTrackLike | None = None
        self._exemplars = MouthBank(self.settings, self.mouth_indices, self._weights)
        self._keep = np.arange(NUM_POINTS)
        self._topology = MeshTopology()
        self._covered = 0.0  # 1 while the mouth is covered, fading to 0 over crossfade_frames
        self._grain = grain.GrainMatcher()
        self._strength = np.ones(0, np.float32)  # per source frame: how much of the edit shows
        self._editable = np.zeros(0, bool)  # per source frame: tracked, lips inside the frame

    # -- 1. preparation ------------------------------------------------------
    def prepare(self, track: FaceTrackLike, exemplar_frames: Sequence[int] | None = None) -> None:
        """Choose exemplar frames from the track's mouth shapes (no pixels needed yet).

        `exemplar_frames` restricts the choice (e.g. to the frames the output will show);
        by default every frame with a tracked face is a candidate.
        """
        self._track = track
        tracked = np.asarray(track.present, bool)
        # Warp points and lip limits come from every tracked frame, exemplars from the allowed.
        self._keep = control_points(
            track.landmarks, track.canonical, tracked, set(self.mouth_indices.tolist())
        )
        self._lip_limits = lips.thickness_range(np.asarray(track.canonical)[tracked])
        # Only mouths the frame holds whole are re-drawn or lent (`warp.lips_in_frame`).
        self._editable = tracked & lips_in_frame(track.landmarks, track.frame_size)
        self._strength = composite.edit_strength(
            self._editable, track.shot_start, self.settings.appear_frames
        )
        self._exemplars.prepare(track, tracked, exemplar_frames, lendable=self._editable)

    @property
    def wanted_frames(self) -> frozenset[int]:
        """Source frames `observe` needs to see; others may be skipped."""
        return self._exemplars.wanted_frames

    @property
    def wants_every_frame(self) -> bool:
        """Whether `observe_grey` should see every source frame, in order."""
        return self._exemplars.wants_every_frame

    def observe_grey(self, index: int, grey: np.ndarray) -> None:
        """Offer every source frame's grey levels, in order (finds burned-in captions)."""
        self._exemplars.observe_grey(index, grey)

    def observe(self, frame: DecodedFrame) -> None:
        """Offer a source frame; crops of the chosen exemplar frames are kept, others ignored."""
        self._exemplars.observe(frame)

    @property
    def bank(self) -> list[Exemplar]:
        """The exemplars kept, once the source has been observed."""
        return self._exemplars.chooser().bank

    def reset(self) -> None:
        """Forget temporal state (exemplar choice, cross-fade) before rendering a new sequence."""
        self._exemplars.reset()
        self._covered = 0.0
        self._grain.reset()

    # -- 3. rendering --------------------------------------------------------
    def render(self, frame: DecodedFrame, face_index: int, target_shape: np.ndarray) -> np.ndarray:
        """The frame with its lower face re-drawn to `target_shape` (canonical MOUTH_REGION points)."""
        track = self._track
        if track is None:
            raise RuntimeError("MouthRenderer.render() before prepare(track)")
        target = np.asarray(target_shape, np.float32)
        if target.shape != (len(self.mouth_indices), 3):
            raise ValueError(
                f"target_shape must be ({len(self.mouth_indices)}, 3) canonical points of "
                f"the renderer's mouth_indices, got {target.shape}"
            )
        if not bool(self._editable[face_index]) or not np.isfinite(target).all():
            return frame.image
        if self._lip_limits is not None:
            target = lips.plausible_lips(target, self._lip_rows, *self._lip_limits)
        try:
            return self._render(frame.image, face_index, target)
        except (QhullError, cv2.error, np.linalg.LinAlgError) as exc:  # degenerate geometry
            log.warning("frame %d left unchanged: %s", frame.index, exc)
            return frame.image

    def _render(self, image: np.ndarray, i: int, target: np.ndarray) -> np.ndarray:
        track, s = self._track, self.settings
        assert track is not None
        cur = np.asarray(track.landmarks[i], np.float32)
        _, iod = face_axes(cur)
        # a. geometry
        moved = move_lower_face(cur, self.mouth_indices, track.to_image(i, target))
        ring = jaw_ring(cur)
        keep = self._keep
        targets = np.concatenate([mesh_points(moved), ring])[keep]
        face_poly = lower_face_polygon(cur, ring)
        box = lower_face_box([face_poly], image.shape, margin=2)
        chooser = self._exemplars.chooser()
        # A caption over the lower face: re-draw the face without it, put it back after.
        source = image
        overlays = self._exemplars.overlays
        caption = overlays.mask(i, box) if overlays is not None else None
        if caption is not None:
            image = image.copy()
            image[box.slice()] = overlay.paint_out(image[box.slice()], caption)
        # 0. a hand or a microphone in front of the mouth stays in front
        hidden: tuple[Box, np.ndarray] | None = None
        if s.keep_occluders and chooser.bank:
            hidden = self._occluder(image, i, cur, moved, iod, box)
            if self._covered >= 1.0:
                return source
        full = np.array(track.canonical[i], np.float32, copy=True)
        full[self.mouth_indices] = target
        t_open = inner_gap(full)
        # How far beyond the lip line the exemplar is pasted depends on which way the mouth
        # moves. Closing a mouth the source shows open squeezes the current frame's lip edges
        # into a ghost line just outside the new lip line: the exemplar must cover it. Opening
        # a closed mouth only stretches clean skin, while the exemplar's skin beside its lips
        # (lit or stretched differently in its own frame) would show as a pale arc: there the
        # exemplar stops at the lip line and fades out over the feather.
        closing_by = inner_gap(track.canonical[i]) - t_open
        closing = composite.ramp(closing_by, 0.0, CLOSING_SPAN)
        feather_px = max(s.mouth_feather_iod * iod, 1e-3)
        reach = closing * s.mouth_margin_iod * iod + feather_px
        # The map is sampled finely only in a box just around the lips (their feather and
        # the colour ring), where lip contours must land exactly; over the rest of the lower
        # face the displacement is smooth and a coarser grid gives the same pixels.
        ring_px = COLOUR_RING_IOD * iod if s.colour_match else 0.0
        cover_px = lips.LOWER_LIP_COVER_IOD * iod if closing_by > CLOSING_SPAN else 0.0
        margin = max(reach + ring_px, cover_px) + 2
        lip_box = lower_face_box([moved[LIPS_OUTER]], image.shape, margin=margin)
        mbox = lip_box.intersect(box)
        local = mbox.within(box)
        sources = np.concatenate([mesh_points(cur), ring])[keep]
        coarse = PiecewiseMap(targets, box, s.skin_map_step_px, topology=self._topology)
        pm = PiecewiseMap(targets, mbox, s.map_step_px, topology=self._topology)
        # b. skin: the current frame's own lower face, moved. Cubic, as bilinear resampling
        # averages fine detail away (re-drawn skin kept 0.78 of it, cubic 0.86: talk4 by
        # talk5 in benchmarks/render_quality.py), for about 2 ms a frame at 720p. Where the
        # face runs off the frame (a chin cut by a tight crop) a rising jaw samples beyond
        # the edge: the edge row repeated continues the skin, where a mirror of the frame
        # brought the chin's highlight back upside down as a pale notch.
        mx, my = coarse.sample_map(sources)
        out = cv2.remap(image, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        mx, my = pm.sample_map(sources)
        region = cv2.remap(image, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE).astype(
            np.float32
        )

        # c. mouth from exemplars
        dist = composite.outside_distance(moved[LIPS_OUTER], mbox.shape, (mbox.x0, mbox.y0))
        mouth_alpha = composite.smoothstep((reach - dist) / feather_px)
        look: tuple[np.ndarray, np.ndarray] | None = None
        ex_open = 0.0
        if chooser.bank:
            cur_k, prev_k, fade = chooser.choose(mouth_feature(target, self._weights), t_open, iod)
            mouth = self._warp_exemplar(pm, chooser.bank[cur_k], mbox)
            ex_open = chooser.bank[cur_k].opening
            if prev_k is not None:
                mouth = composite.blend(
                    self._warp_exemplar(pm, chooser.bank[prev_k], mbox),
                    mouth,
                    np.full(mbox.shape, fade, np.float32),
                )
                ex_open = fade * ex_open + (1 - fade) * chooser.bank[prev_k].opening
            if s.colour_match:
                ring_mask = np.clip(reach + ring_px - dist, 0, 1) * (dist >= reach)
                look = composite.colour_transfer(region, mouth, ring_mask, sigma_px=0.25 * iod)
                mouth = mouth * look[0] + look[1]
            if cover_px > 0:  # the frame's own lower lip showing below the new one
                cover = lips.lower_lip_cover(region, mouth, moved, (mbox.x0, mbox.y0), dist, iod)
                mouth_alpha = np.maximum(mouth_alpha, cover)
            region = composite.blend(region, mouth, mouth_alpha)
        else:
            ex_open = inner_gap(track.canonical[i])

        # d. painted interior where no exemplar opens wide enough (only inside the inner
        # lips), or a closed seam where the target shuts lips no exemplar shows shut
        if s.synthesise_interior:
            looks = self._exemplars
            for weight, contour, painter in (
                (
                    interior.interior_weight(ex_open, t_open),
                    LIPS_INNER,
                    lambda shape, at, _: interior.paint_interior(
                        moved, shape, looks.teeth, looks.lips, at, looks.blur_px
                    ),
                ),
                (
                    interior.seam_weight(ex_open, t_open),
                    LIPS_OUTER,
                    lambda shape, at, under: interior.paint_seam(
                        moved, shape, looks.lips, at, under
                    ),
                ),
            ):
                if weight > 0:
                    pbox = lower_face_box([moved[contour]], image.shape, margin=3)
                    self._paint(region, look, mbox, pbox, weight, painter)
        # e. composite under the lower-face mask, with the grain the re-drawing smoothed away
        face_alpha = composite.feathered_polygon(
            face_poly, box.shape, (box.x0, box.y0), s.face_feather_iod * iod
        )
        out = out.astype(np.float32)
        out[local] = region
        if s.match_grain:  # the pasted mouth and the warped skin, each topped up apart
            in_mouth = np.zeros(box.shape, np.float32)
            in_mouth[local] = mouth_alpha if chooser.bank else 0.0
            out = self._grain.restore(image, box, i, out, [in_mouth, face_alpha * (1 - in_mouth)])
        out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        if hidden is not None:
            obox, kept = hidden
            part = face_alpha[obox.within(box)]
            part *= 1 - kept
        if i < len(self._strength):
            face_alpha *= self._strength[i]
        result = source.copy()
        result[box.slice()] = composite.blend(image[box.slice()], out, face_alpha)
        if caption is not None:
            result[box.slice()] = overlay.put_back(
                result[box.slice()], source[box.slice()], caption
            )
        return result

    def _paint(
        self,
        region: np.ndarray,
        look: tuple[np.ndarray, np.ndarray] | None,
        mbox: Box,
        pbox: Box,
        weight: float,
        painter: Callable[
            [tuple[int, int], tuple[int, int], np.ndarray], tuple[np.ndarray, np.ndarray]
        ],
    ) -> None:
        """Blend `painter(shape, origin, pixels)`'s (image, alpha) over `pbox` into `region` (the
        pixels of `mbox`), in place, colour-matched as the pasted exemplar is."""
        pbox = pbox.intersect(mbox)
        part = pbox.within(mbox)
        painted, alpha = painter(pbox.shape, (pbox.x0, pbox.y0), region[part])
        if look is not None:
            painted = painted * look[0] + look[1][part]
        region[part] = composite.blend(region[part], painted, alpha * weight)

    def _occluder(
        self, image: np.ndarray, i: int, cur: np.ndarray, moved: np.ndarray, iod: float, box: Box
    ) -> tuple[Box, np.ndarray] | None:
        """Where the source pixels must stay (weights over a box), updating the covered fade."""
        assert self._track is not None
        chooser = self._exemplars.chooser()
        near = [
            chooser.bank[k]
            for k in chooser.nearest(
                mouth_feature(self._track.canonical[i][self.mouth_indices], self._weights),
                OCCLUSION_EXEMPLARS,
            )
        ]
        # The warp pulls pixels at most this far: grow the kept area by it, so no piece of the
        # occluder is dragged out from under the kept pixels.
        pull = (
            float(
                np.linalg.norm(
                    moved[self.mouth_indices] - cur[self.mouth_indices, :2], axis=1
                ).max()
            )
            + 2
        )
        feather = OCCLUDER_FEATHER_IOD * iod
        margin = (occlusion.TEST_REACH_IOD * iod) + pull + feather + 2
        obox = lower_face_box([cur[LIPS_OUTER]], image.shape, margin=margin).intersect(box)
        found = occlusion.detect(image, cur, near, iod, obox)
        step = 1.0 / self.settings.crossfade_frames
        if found.fraction >= occlusion.FRAME_COVERED:
            self._covered = 1.0
        else:
            self._covered = max(0.0, self._covered - step)
        if self._covered >= 1.0:
            return None
        kept = occlusion.keep_mask(found, pull, feather)
        if self._covered > 0:
            kept = np.maximum(kept, np.float32(self._covered))
        return (obox, kept) if kept.any() else None

    def _warp_exemplar(self, pm: PiecewiseMap, ex: Exemplar, region: Box) -> np.ndarray:
        mx, my = pm.sample_map(ex.points[self._keep], region=region)
        return cv2.remap(ex.image, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE).astype(
            np.float32
        )


# Exemplars nearest in shape that a covered mouth must disagree with, all of them.
OCCLUSION_EXEMPLARS = 3
# Feather (inter-ocular units) between kept occluder pixels and the re-drawn mouth.
OCCLUDER_FEATHER_IOD = 0.05


__all__ = ["FaceTrackLike", "MouthRenderer"]
