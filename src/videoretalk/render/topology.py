"""MediaPipe face-mesh (478 points) index sets the renderer needs.

The face stage owns the public constants (`videoretalk.face.landmarks`); these are the
renderer's own names for the few extra sets it uses (inner-lip pairs, the lower jaw
contour), written against the same published mesh topology.
"""

from __future__ import annotations

import numpy as np

# Closed loops, starting at the left mouth corner, lower lip first.
LIPS_OUTER = np.array([61, 146, 91, 181, 84, 17, 314, 405, 321, 375,
                       291, 409, 270, 269, 267, 0, 37, 39, 40, 185])
LIPS_INNER = np.array([78, 95, 88, 178, 87, 14, 317, 402, 318, 324,
                       308, 415, 310, 311, 312, 13, 82, 81, 80, 191])
# Upper / lower inner-lip points facing each other across the mouth opening.
INNER_UPPER = np.array([191, 80, 81, 82, 13, 312, 311, 310, 415])
INNER_LOWER = np.array([95, 88, 178, 87, 14, 317, 402, 318, 324])
# Outer-lip points above / below those, in the same order (lip thickness pairs).
OUTER_UPPER = np.array([185, 40, 39, 37, 0, 267, 269, 270, 409])
OUTER_LOWER = np.array([146, 91, 181, 84, 17, 314, 405, 321, 375])
INNER_CORNERS = (78, 308)
OUTER_CORNERS = (61, 291)
LOWER_LIP_MID = 17
UPPER_LIP_MID = 0
# Lower half of the face oval, ear level (234) round the chin (152) to ear level (454).
JAW = np.array([234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
                377, 400, 378, 379, 365, 397, 288, 361, 323, 454])
CHIN = 152
NOSE_BOTTOM = 2
EYE_CORNERS = ((33, 133), (263, 362))
NUM_POINTS = 478


def default_mouth_region() -> np.ndarray:
    """The face stage's `MOUTH_REGION` when it defines one, else lips and jaw (sorted).

    The fallback matches `videoretalk.motion.shape.MOUTH_REGION`'s, so `MouthMotion.shapes`
    line up by default; pass `MouthMotion.point_indices` to `MouthRenderer` to be explicit.
    """
    try:
        from ..face import landmarks
    except ImportError:
        region = None
    else:
        region = getattr(landmarks, "MOUTH_REGION", None)
    if region is None:
        return np.unique(np.concatenate([LIPS_OUTER, LIPS_INNER, JAW]))
    return np.asarray(region, dtype=np.int64)
