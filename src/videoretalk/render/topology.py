"""MediaPipe face-mesh (478 points) index sets the renderer needs.

The face stage owns the shared index sets (`videoretalk.face.landmarks`); this module
gives them as arrays and adds the few the renderer alone uses (lip pairs across the
opening and across each lip's thickness).
"""

from __future__ import annotations

import numpy as np

from ..face import landmarks

# Closed loops, starting at the subject's right mouth corner, lower lip first.
LIPS_OUTER = np.array(landmarks.LIPS_OUTER)
LIPS_INNER = np.array(landmarks.LIPS_INNER)
# Upper / lower inner-lip points facing each other across the mouth opening.
INNER_UPPER = np.array([191, 80, 81, 82, 13, 312, 311, 310, 415])
INNER_LOWER = np.array([95, 88, 178, 87, 14, 317, 402, 318, 324])
# Outer-lip points above / below those, in the same order (lip thickness pairs).
OUTER_UPPER = np.array([185, 40, 39, 37, 0, 267, 269, 270, 409])
OUTER_LOWER = np.array([146, 91, 181, 84, 17, 314, 405, 321, 375])
INNER_CORNERS = landmarks.MOUTH_INNER_CORNERS
OUTER_CORNERS = landmarks.MOUTH_CORNERS
LOWER_LIP_MID = landmarks.LOWER_LIP_OUTER_MID
UPPER_LIP_MID = landmarks.UPPER_LIP_OUTER_MID
# Lower half of the face oval, ear level (234) round the chin (152) to ear level (454).
JAW = np.array(landmarks.JAW)
CHIN = landmarks.CHIN
NOSE_BOTTOM = landmarks.NOSE_BASE
EYE_CORNERS = (
    (landmarks.RIGHT_EYE_OUTER, landmarks.RIGHT_EYE_INNER),
    (landmarks.LEFT_EYE_OUTER, landmarks.LEFT_EYE_INNER),
)
NUM_POINTS = landmarks.NUM_POINTS


def default_mouth_region() -> np.ndarray:
    """The points the renderer moves unless told otherwise: the face stage's `MOUTH_REGION`,
    the set `MouthMotion.shapes` covers; pass `MouthMotion.point_indices` to be explicit."""
    return np.array(landmarks.MOUTH_REGION, dtype=np.int64)
