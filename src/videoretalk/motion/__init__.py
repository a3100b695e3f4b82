"""Audio -> mouth motion (issue 4): a trained model shipped with its weights and manifest.

`predict_mouth_motion` returns, for every output frame, the mouth and jaw shape in the
face stage's pose-normalised landmark space, with the person's own rest shape and range.
"""

from .model import MouthModel
from .predict import MotionSettings, MouthMotion, load_model, predict_mouth_motion
from .shape import JAW, LIPS_INNER, LIPS_OUTER, MOUTH_REGION, mouth_opening

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
