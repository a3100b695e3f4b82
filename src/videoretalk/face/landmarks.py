"""Named point sets of the 478-point face mesh (468 mesh points + 10 iris points).

Sides are the subject's: RIGHT_* is the subject's right, on the image's left in a frontal
view. Contours are ordered so they can be drawn or filled as closed polygons. Index values
are those of MediaPipe's canonical face mesh topology, which the model's output follows.
"""

from __future__ import annotations

# Eye corners (the outer pair defines the inter-ocular distance, IOD, used as the unit).
RIGHT_EYE_OUTER = 33
RIGHT_EYE_INNER = 133
LEFT_EYE_INNER = 362
LEFT_EYE_OUTER = 263
EYE_CORNERS = (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER)

# The index tables below are laid out by hand, compactly; the formatter leaves them.
# fmt: off
# Lips: closed loops starting at the subject's right mouth corner, lower lip first.
LIPS_OUTER = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
    409, 270, 269, 267, 0, 37, 39, 40, 185,
)
LIPS_INNER = (
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
    415, 310, 311, 312, 13, 82, 81, 80, 191,
)
# Each lip as four rings, outer to inner, and each ring as 11 columns from the subject's
# right mouth corner to the left one: column j of every ring lies across the lip from
# the others' column j (the corners are shared by both lips).
UPPER_LIP_RINGS = (
    (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291),
    (76, 184, 74, 73, 72, 11, 302, 303, 304, 408, 306),
    (62, 183, 42, 41, 38, 12, 268, 271, 272, 407, 292),
    (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
)
LOWER_LIP_RINGS = (
    (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),
    (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306),
    (62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292),
    (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
)
MOUTH_CORNERS = (61, 291)          # outer right, outer left
MOUTH_INNER_CORNERS = (78, 308)
UPPER_LIP_INNER_MID = 13
LOWER_LIP_INNER_MID = 14
UPPER_LIP_OUTER_MID = 0
LOWER_LIP_OUTER_MID = 17

# Jaw line: the lower half of the face oval, ear to ear through the chin (152).
JAW = (
    234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
    377, 400, 378, 379, 365, 397, 288, 361, 323, 454,
)
CHIN = 152
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
    377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)

# Nose: bridge from between the eyes down the dorsum; tip; base under the nostrils.
NOSE_BRIDGE = (168, 6, 197, 195, 5)
NOSE_TIP = 1
NOSE_BASE = 2

RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_IRIS = (468, 469, 470, 471, 472)  # centre first
LEFT_IRIS = (473, 474, 475, 476, 477)

# Everything the mouth/jaw renderer may move: all 468-mesh points below the nostrils
# (canonical y more than 0.03 IOD below the nose base, 2), i.e. lips, philtrum, chin,
# lower cheeks and the lower jaw line. Derived once from `canonical_face.npz`.
MOUTH_REGION = (
    0, 11, 12, 13, 14, 15, 16, 17, 18, 32, 37, 38, 39, 40, 41, 42, 43, 57, 58, 61, 62, 72,
    73, 74, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 95, 96, 106,
    132, 135, 136, 138, 140, 146, 148, 149, 150, 152, 164, 165, 167, 169, 170, 171, 172,
    175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 191, 192, 194, 199,
    200, 201, 202, 204, 206, 207, 208, 210, 211, 212, 213, 214, 215, 216, 262, 267, 268,
    269, 270, 271, 272, 273, 287, 288, 291, 292, 302, 303, 304, 306, 307, 308, 310, 311,
    312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 324, 325, 335, 361, 364, 365,
    367, 369, 375, 377, 378, 379, 391, 393, 394, 395, 396, 397, 400, 401, 402, 403, 404,
    405, 406, 407, 408, 409, 410, 411, 415, 416, 418, 421, 422, 424, 426, 427, 428, 430,
    431, 432, 433, 434, 435, 436,
)
# fmt: on

NUM_POINTS = 478
