"""Face crops: a rotated square region of the frame cut out for the mesh model, and back.

The mesh model wants the face upright, centred, with the face box scaled by 1.5 as margin:
that is how its training crops were made (MediaPipe's detection-to-ROI and
landmarks-to-ROI steps), so we reproduce that framing from a detection on the first frame
and from the previous frame's landmarks afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER
from .models import MESH_INPUT_PX, Detection

ROI_SCALE = 1.5  # face extent -> crop side, as the mesh model was trained


@dataclass(frozen=True)
class Roi:
    cx: float
    cy: float
    size: float  # side of the square, image pixels
    angle: float  # radians; the crop is rotated by -angle so the eye line comes out level

    def affine(self, out_px: int = MESH_INPUT_PX) -> np.ndarray:
        """2x3 matrix mapping image pixels to crop pixels."""
        k = out_px / self.size
        c, s = math.cos(self.angle), math.sin(self.angle)
        # Rotate about the centre by -angle, scale, then move the centre to the crop centre.
        m = np.array([[c * k, s * k, 0.0], [-s * k, c * k, 0.0]], np.float64)
        m[:, 2] = np.array([out_px / 2, out_px / 2]) - m[:, :2] @ np.array([self.cx, self.cy])
        return m

    def box(self) -> np.ndarray:
        """Axis-aligned bounding box of the face inside the crop margin (x0, y0, x1, y1)."""
        half = self.size / ROI_SCALE / 2
        return np.array(
            [self.cx - half, self.cy - half, self.cx + half, self.cy + half], np.float32
        )


def cut(image: np.ndarray, roi: Roi, out_px: int = MESH_INPUT_PX) -> np.ndarray:
    # Linear filtering is enough: when the face is much bigger than 192 px we pre-shrink
    # nothing, and the mesh model is trained on similarly filtered crops.
    return cv2.warpAffine(
        image,
        roi.affine(out_px),
        (out_px, out_px),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def to_image(points: np.ndarray, roi: Roi, out_px: int = MESH_INPUT_PX) -> np.ndarray:
    """Crop-pixel points (K, 3) back to image pixels; z is scaled like x and y."""
    m = roi.affine(out_px)
    inv = cv2.invertAffineTransform(m)
    xy = points[:, :2].astype(np.float64) @ inv[:, :2].T + inv[:, 2]
    z = points[:, 2:3].astype(np.float64) * (roi.size / out_px)
    return np.concatenate([xy, z], axis=1).astype(np.float32)


def roi_from_landmarks(points: np.ndarray) -> Roi:
    """Crop for the next frame from this frame's landmarks (image pixels)."""
    d = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    angle = math.atan2(float(d[1]), float(d[0]))
    c, s = math.cos(angle), math.sin(angle)
    xy = points[:, :2].astype(np.float64)
    # Extent measured in the face's own (de-rotated) frame, so a tilted head gets a tight box.
    u = xy @ np.array([c, s])
    v = xy @ np.array([-s, c])
    cu, cv_ = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    size = max(u.max() - u.min(), v.max() - v.min()) * ROI_SCALE
    return Roi(cx=cu * c - cv_ * s, cy=cu * s + cv_ * c, size=float(size), angle=angle)


def roi_from_detection(det: Detection) -> Roi:
    right_eye, left_eye = det.keypoints[0], det.keypoints[1]
    d = left_eye - right_eye
    angle = math.atan2(float(d[1]), float(d[0]))
    x0, y0, x1, y1 = (float(v) for v in det.box)
    size = max(x1 - x0, y1 - y0) * ROI_SCALE
    return Roi(cx=(x0 + x1) / 2, cy=(y0 + y1) / 2, size=size, angle=angle)


def box_of(points: np.ndarray) -> np.ndarray:
    xy = points[:, :2]
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)]).astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
