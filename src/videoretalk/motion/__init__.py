"""Audio -> mouth motion (issue 4): a trained model shipped with its weights and manifest.

`predict_mouth_motion` returns, for every output frame, the mouth and jaw shape in the
face stage's pose-normalised landmark space, with the person's own rest shape and range.
"""

from __future__ import annotations

from .._lazy import lazy_attributes
from .settings import MotionSettings

__all__ = [
    "JAW",
    "LIPS_INNER",
    "LIPS_OUTER",
    "MOUTH_REGION",
    "MotionSettings",
    "MouthModel",
    "MouthMotion",
    "load_model",
    "mouth_opening",
    "predict_mouth_motion",
]

# `config` imports `MotionSettings` through here: the model loads on first use.
_LAZY = {
    "MouthModel": "model",
    "MouthMotion": "predict",
    "load_model": "predict",
    "predict_mouth_motion": "predict",
    "JAW": "shape",
    "LIPS_INNER": "shape",
    "LIPS_OUTER": "shape",
    "MOUTH_REGION": "shape",
    "mouth_opening": "shape",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
