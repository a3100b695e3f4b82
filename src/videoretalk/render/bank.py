"""`MouthBank`: the person's own mouths, gathered before rendering.

Three steps, driven by `MouthRenderer`:
  1. `prepare` picks exemplar frames from the face track's mouth shapes alone (no pixels);
  2. `observe` keeps a lips-sized crop of each picked frame as the source is decoded, and
     `observe_grey` feeds every frame to the search for burned-in captions (`overlay`);
  3. `chooser()` ends both: captions are painted out of the crops, each slot keeps its
     best candidate (`lips.consistent_bank`), and the lip colour, teeth colour and
     softness that painted lips and teeth must match are read from the kept crops.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..media.decode import DecodedFrame
from . import interior, lips, overlay
from .exemplars import (
    Exemplar,
    ExemplarChooser,
    capture,
    crop_sharpness,
    inner_gap,
    mouth_feature,
    select_frames,
)
from .settings import RenderSettings
from .warp import Box, jaw_ring

if TYPE_CHECKING:
    from .renderer import FaceTrackLike

log = logging.getLogger(__name__)


class MouthBank:
    """Exemplar frames of one face track, their crops, and the looks read from them."""

    def __init__(
        self, settings: RenderSettings, mouth_indices: np.ndarray, weights: np.ndarray
    ) -> None:
        self.settings = settings
        self.mouth_indices = mouth_indices
        self.weights = weights  # per mouth point, for `mouth_feature`
        self.teeth = interior.DEFAULT_TEETH_RGB
        self.lips = np.array([0.6, 0.35, 0.35], np.float32)
        self.blur_px = 0.0  # how soft the person's exemplars are (painted teeth match it)
        self.overlays: overlay.OverlayFinder | None = None
        self._track: FaceTrackLike | None = None
        self._wanted: dict[int, int] = {}  # frame index -> slot
        self._captured: dict[int, list[Exemplar]] = {}
        self._chooser: ExemplarChooser | None = None
        self._overlays_done = False

    def prepare(
        self,
        track: FaceTrackLike,
        tracked: np.ndarray,
        exemplar_frames: Sequence[int] | None = None,
        lendable: np.ndarray | None = None,
    ) -> None:
        """Choose exemplar frames among the `lendable` ones (default: `tracked`), all or
        those in `exemplar_frames`. Captions are looked for over every tracked frame."""
        self._track = track
        self._captured, self._chooser = {}, None
        self.overlays = (
            overlay.OverlayFinder(track.landmarks, tracked) if self.settings.keep_overlays else None
        )
        self._overlays_done = False
        present = tracked if lendable is None else lendable
        if exemplar_frames is not None:
            allowed = np.zeros_like(tracked)
            allowed[np.asarray(list(exemplar_frames), np.int64)] = True
            present = present & allowed
        candidates = np.flatnonzero(present)
        if len(candidates) == 0:
            self._wanted = {}
            return
        feats = np.stack([self._feature(i) for i in candidates])
        gaps = np.array([inner_gap(track.canonical[i]) for i in candidates])
        slots = select_frames(feats, candidates, self.settings.bank_size, int(np.argmin(gaps)))
        self._wanted = {i: s for s, slot in enumerate(slots) for i in slot}

    @property
    def wanted_frames(self) -> frozenset[int]:
        return frozenset(self._wanted)

    @property
    def wants_every_frame(self) -> bool:
        return self.overlays is not None

    def observe_grey(self, index: int, grey: np.ndarray) -> None:
        if self.overlays is not None and not self._overlays_done:
            self.overlays.add(index, grey)

    def observe(self, frame: DecodedFrame) -> None:
        slot = self._wanted.get(frame.index)
        if slot is None or self._track is None:
            return
        i = frame.index
        lm = self._track.landmarks[i]
        ex = capture(i, frame.image, lm, self._feature(i), inner_gap(self._track.canonical[i]))
        ex = dataclasses.replace(
            ex, points=np.concatenate([ex.points, jaw_ring(lm) - np.array(ex.origin, np.float32)])
        )
        self._captured.setdefault(slot, []).append(ex)
        self._chooser = None

    def chooser(self) -> ExemplarChooser:
        """The kept exemplars, ready to choose from (built on first use after `observe`)."""
        if self._chooser is None:
            self._finish_overlays()
            bank = lips.consistent_bank([c for _, c in sorted(self._captured.items())])
            self._chooser = ExemplarChooser(
                bank, self.settings.switch_cost, self.settings.crossfade_frames
            )
            if bank:
                self._read_looks(bank)
            log.debug("mouth exemplar bank: %d frames %s", len(bank), [e.index for e in bank])
        return self._chooser

    def reset(self) -> None:
        if self._chooser is not None:
            self._chooser.reset()

    def _feature(self, i: int) -> np.ndarray:
        assert self._track is not None
        return mouth_feature(self._track.canonical[i][self.mouth_indices], self.weights)

    def _read_looks(self, bank: list[Exemplar]) -> None:
        self.lips = np.median([lips.lip_colour(e.image, e.points) for e in bank], axis=0).astype(
            np.float32
        )
        # Teeth from the widest exemplar that shows them, else matched to the lighting.
        found = (
            interior.teeth_colour(e.image, e.points) for e in sorted(bank, key=lambda e: -e.opening)
        )
        teeth = next((t for t in found if t is not None), None)
        skins = [c for e in bank if (c := lips.skin_colour(e.image, e.points)) is not None]
        skin = np.median(skins, axis=0) if skins else None
        self.teeth = teeth if teeth is not None else interior.fallback_teeth(self.lips, skin)
        self.blur_px = float(np.median([interior.edge_blur_px(e.image) for e in bank]))

    def _finish_overlays(self) -> None:
        """End the caption search and paint captions out of the exemplars' mouths, so a
        pasted mouth carries no piece of the caption shown in its own frame."""
        if self.overlays is None or self._overlays_done:
            return
        segments = self.overlays.finish()
        self._overlays_done = True
        if segments:
            log.info("%d burned-in overlay segments over the lower face kept", len(segments))
        for found in self._captured.values():
            for k, ex in enumerate(found):
                h, w = ex.image.shape[:2]
                crop = Box(ex.origin[0], ex.origin[1], ex.origin[0] + w, ex.origin[1] + h)
                mask = self.overlays.mask(ex.index, crop)
                if mask is not None:
                    # Sharpness again without the caption: its hard edges made a captioned
                    # crop look 20-100x sharper than its uncaptioned self (talk4), and
                    # the slot kept the one with the most caption to paint out.
                    painted = overlay.paint_out(ex.image, mask)
                    found[k] = dataclasses.replace(
                        ex, image=painted, sharpness=crop_sharpness(painted, ex.scale)
                    )


__all__ = ["MouthBank"]
