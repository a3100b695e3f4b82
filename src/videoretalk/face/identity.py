"""Who is this face: dlib's ResNet face descriptor (128-D, from `face_recognition_models`).

dlib's model was trained so that two photos of one person lie closer than 0.6 (Euclidean)
in 99.38 % of LFW pairs. We keep the distance as our similarity measure and map
DashScope's `query_face_threshold` (120..200, default 170, higher = stricter) onto it:

    max_distance = 0.60 - 0.004 * (query_face_threshold - 170)

so 120 accepts up to 0.80, 170 up to 0.60 (dlib's own operating point) and 200 only up
to 0.48. Measured on the 25 shared clips (4 frames each): the worst same-person pair
within a clip is 0.19-0.54; different people are >= 0.74 apart among the dev clips and
>= 0.49 among all 25 (two East-Asian men, dlib's known weak spot). So 170 separates the
dev set with margin; 200 may reject a true match seen from a different angle.

The descriptor is expensive on CPU (~80 ms), so the analyser computes one only when the
identity of a face is in question, never every frame.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

import dlib
import numpy as np

from ..errors import InternalError
from .landmarks import LEFT_EYE_INNER, LEFT_EYE_OUTER, NOSE_BASE, RIGHT_EYE_INNER, RIGHT_EYE_OUTER
from .settings import QUERY_FACE_THRESHOLD_DEFAULT

DEFAULT_MAX_DISTANCE = 0.60  # dlib's documented same-person threshold
DISTANCE_PER_STEP = 0.004  # change of max distance per unit of query_face_threshold

# dlib's 5-point layout (its chip alignment is defined on these) as mesh indices: found by
# running dlib's 5-point predictor next to the mesh on the dev clips (all within ~2 px).
_DLIB_FIVE = (LEFT_EYE_OUTER, LEFT_EYE_INNER, RIGHT_EYE_OUTER, RIGHT_EYE_INNER, NOSE_BASE)


def max_distance(query_face_threshold: int = QUERY_FACE_THRESHOLD_DEFAULT) -> float:
    return DEFAULT_MAX_DISTANCE - DISTANCE_PER_STEP * (
        query_face_threshold - QUERY_FACE_THRESHOLD_DEFAULT
    )


def _model_path(name: str) -> str:
    # Locate the data without importing face_recognition_models: its __init__ needs
    # pkg_resources, which recent setuptools no longer ships.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise InternalError("face_recognition_models is not installed")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "models", name)
    if not os.path.isfile(path):
        raise InternalError(f"face_recognition_models lacks {name}")
    return path


@dataclass(frozen=True)
class Descriptor:
    vector: np.ndarray  # (128,) float32

    def distance(self, other: Descriptor) -> float:
        return float(np.linalg.norm(self.vector - other.vector))


class IdentityModel:
    def __init__(self) -> None:
        self._net = dlib.face_recognition_model_v1(
            _model_path("dlib_face_recognition_resnet_model_v1.dat")
        )
        self.computed = 0  # descriptors computed so far (the expensive step)

    def chip(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """dlib's aligned 150x150 face chip (~1 ms), for a descriptor now or later."""
        five = landmarks[list(_DLIB_FIVE), :2]
        lo, hi = landmarks[:, :2].min(axis=0), landmarks[:, :2].max(axis=0)
        rect = dlib.rectangle(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        shape = dlib.full_object_detection(rect, [dlib.point(round(x), round(y)) for x, y in five])
        return np.asarray(
            dlib.get_face_chip(np.ascontiguousarray(image), shape, size=150, padding=0.25)
        )

    def describe_chip(self, chip: np.ndarray) -> Descriptor:
        self.computed += 1
        return Descriptor(np.asarray(self._net.compute_face_descriptor(chip), np.float32))

    def describe(self, image: np.ndarray, landmarks: np.ndarray) -> Descriptor:
        """Descriptor of the face whose mesh landmarks (image pixels) are given."""
        return self.describe_chip(self.chip(image, landmarks))


class Gallery:
    """What the target looks like; a face matches if any entry is close.

    Entries may be chips whose descriptor is computed only when first compared: when the
    target is simply followed from start to end, no descriptor is ever needed."""

    def __init__(self, model: IdentityModel, limit: int = 6) -> None:
        self._model = model
        self._items: list[Descriptor | np.ndarray] = []
        self._limit = limit

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, item: Descriptor | np.ndarray) -> None:
        if len(self._items) >= self._limit:
            del self._items[1]  # keep the first (the reference), refresh the rest
        self._items.append(item)

    def distance(self, descriptor: Descriptor) -> float:
        for i, item in enumerate(self._items):
            if isinstance(item, np.ndarray):
                self._items[i] = self._model.describe_chip(item)
        return min(
            (d.distance(descriptor) for d in self._items if isinstance(d, Descriptor)),
            default=float("inf"),
        )
