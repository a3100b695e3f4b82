"""Mouth rendering and compositing (issue 5): target mouth shapes -> pixels.

Public API: `MouthRenderer` (prepare / observe / render) and `RenderSettings`.
`MouthRenderer` is imported lazily so `config` can read `RenderSettings` without
pulling in OpenCV and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import RenderSettings

if TYPE_CHECKING:
    from .renderer import FaceTrackLike, MouthRenderer

__all__ = ["FaceTrackLike", "MouthRenderer", "RenderSettings"]


def __getattr__(name: str) -> Any:
    if name in ("MouthRenderer", "FaceTrackLike"):
        from . import renderer

        return getattr(renderer, name)
    raise AttributeError(name)
