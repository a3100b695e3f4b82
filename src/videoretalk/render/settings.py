"""Renderer options: one frozen dataclass, checked once (`VIDEORETALK_RENDER_*`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameter


@dataclass(frozen=True)
class RenderSettings:
    # Source frames kept as mouth-texture exemplars. 24 spans closed..wide-open and
    # rounded..spread shapes of a few-second clip; each is a lips-sized crop (~0.3 MB at 720p).
    bank_size: int = 24
    # Frames over which a change of exemplar is cross-faded (at 25 fps, 4 frames = 160 ms,
    # shorter than a syllable, long enough that teeth do not pop). Only between mouths open
    # alike; others are cut (`exemplars.CUT_OPENING_IOD`).
    crossfade_frames: int = 4
    # Frames over which the edit fades in where the face comes into view within a shot
    # (and out where it leaves): a mouth that jumps to another shape on the first frame
    # the face is found again pops. Not at cuts, where the picture changes anyway.
    appear_frames: int = 4
    # Extra shape distance (inter-ocular units, mean per lip point) a new exemplar must win
    # by before it replaces the current one: hysteresis against texture flicker.
    switch_cost: float = 0.012
    # Soft edges, in inter-ocular units (inter-ocular ~ 0.4 x face width).
    # Exemplar pasted this far beyond the outer lip line when the mouth is closed from an
    # open source frame (none when opening one: see the renderer), then faded over the feather.
    mouth_margin_iod: float = 0.05
    mouth_feather_iod: float = 0.05
    face_feather_iod: float = 0.15
    # Coarse-grid spacing of the warp map in output pixels (texture is always full resolution):
    # around the lips, and over the rest of the lower face (a smooth, small displacement).
    map_step_px: int = 3
    skin_map_step_px: int = 6
    colour_match: bool = True
    # Leave a hand or microphone in front of the mouth untouched (`render/occlusion.py`).
    keep_occluders: bool = True
    # Leave captions and logos burned in over the lower face unmoved (`render/overlay.py`).
    keep_overlays: bool = True
    synthesise_interior: bool = True
    # Add back the camera noise the re-drawing smooths away (`render/grain.py`).
    match_grain: bool = True

    def __post_init__(self) -> None:
        if self.bank_size < 1:
            raise InvalidParameter("render.bank_size must be at least 1 (try 24).")
        if self.crossfade_frames < 1:
            raise InvalidParameter("render.crossfade_frames must be at least 1 (1 = hard cut).")
        if self.appear_frames < 1:
            raise InvalidParameter(
                "render.appear_frames must be at least 1 (1: half the edit on the first frame)."
            )
        if self.switch_cost < 0:
            raise InvalidParameter("render.switch_cost must be >= 0.")
        for name in ("mouth_margin_iod", "mouth_feather_iod", "face_feather_iod"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise InvalidParameter(
                    f"render.{name} must be in [0, 1] inter-ocular units, got {value}."
                )
        for name in ("map_step_px", "skin_map_step_px"):
            if not 1 <= getattr(self, name) <= 16:
                raise InvalidParameter(f"render.{name} must be in 1..16.")
