"""The optional reference image: it must show exactly one clear face, which names the target."""

from __future__ import annotations

import io
import os
from typing import Union

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InvalidFileContent, InvalidFileOpenError
from .crop import cut, roi_from_detection, roi_from_landmarks, to_image
from .models import FaceDetector, MeshModel

ReferenceImage = Union[str, "os.PathLike[str]", bytes, Image.Image, np.ndarray]

# DashScope's wording for this error.
NO_SINGLE_FACE = (
    "The input image has no human body or multi human bodies. "
    "Please upload other image with single person."
)
# A second face counts if it is at least this fraction of the largest one's width:
# smaller faces are background people, not a competing subject.
_SECOND_FACE_MIN_RATIO = 0.4
_MIN_FACE_PX = 40.0  # narrower faces are too blurred to identify anyone
_MIN_PRESENCE = 0.7
_DETECT_LONG_SIDE = 640
_MIN_SCORE = 0.6


def load_image(source: ReferenceImage) -> np.ndarray:
    """Any supported form -> upright RGB uint8 (H, W, 3)."""
    if isinstance(source, np.ndarray):
        if source.ndim != 3 or source.shape[2] != 3 or source.dtype != np.uint8:
            raise InvalidFileContent("The reference image must be an RGB uint8 array.")
        return np.ascontiguousarray(source)
    try:
        if isinstance(source, Image.Image):
            img = source
        elif isinstance(source, bytes):
            img = Image.open(io.BytesIO(source))
        else:
            img = Image.open(os.fspath(source))
        img = ImageOps.exif_transpose(img)  # phone photos are stored sideways
        return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidFileOpenError(
            "The reference image cannot be opened: it is damaged or not an image."
        ) from exc


def find_single_face(image: np.ndarray, detector: FaceDetector, mesh: MeshModel) -> np.ndarray:
    """Landmarks (478, 3, image pixels) of the one clear face; `InvalidFileContent` if none or many."""
    scale = min(1.0, _DETECT_LONG_SIDE / max(image.shape[:2]))
    small = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
    faces = detector.run(small, scale=scale, min_score=_MIN_SCORE)
    if not faces:
        raise InvalidFileContent(NO_SINGLE_FACE)
    rivals = [f for f in faces[1:] if f.width >= _SECOND_FACE_MIN_RATIO * faces[0].width]
    if rivals or faces[0].width < _MIN_FACE_PX:
        raise InvalidFileContent(NO_SINGLE_FACE)
    roi = roi_from_detection(faces[0])
    points = None
    # A second pass on a crop framed by the first pass's landmarks, as in tracking.
    for _ in range(2):
        result = mesh.run(cut(image, roi))
        if result.presence < _MIN_PRESENCE:
            raise InvalidFileContent(NO_SINGLE_FACE)
        points = to_image(result.points, roi)
        roi = roi_from_landmarks(points)
    assert points is not None
    return points
