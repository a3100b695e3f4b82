"""Mouth rendering and compositing (issue 5): target mouth shapes -> pixels.

Public API: `MouthRenderer` (prepare / observe / render) and `RenderSettings`.
`MouthRenderer` is imported lazily so `config` can read `RenderSettings` without
pulling in OpenCV and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .settings import RenderSettings

if TYPE_CHECKING:
    from .renderer import FaceTrackLike, MouthRenderer

__all__ = ["FaceTrackLike", "MouthRenderer", "RenderSettings"]


__getattr__ = lazy_attributes(__name__, {"MouthRenderer": "renderer", "FaceTrackLike": "renderer"})
