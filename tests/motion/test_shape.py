"""The training reference face: one eye-normalised mean over clips, whatever their pose."""

from __future__ import annotations

import warnings

import numpy as np

from videoretalk.face.canonical import canonical_face
from videoretalk.motion.shape import (
    EYE_OUTER,
    RANGE_SCALE_LIMITS,
    canonicalise,
    range_scale,
    training_reference,
    typical_deformation,
)


def _face(seed: int, frames: int = 6) -> np.ndarray:
    """Random 478-point faces with the outer eye corners one unit apart on the x axis."""
    points = np.random.default_rng(seed).normal(0.0, 0.3, (frames, 478, 3))
    points[:, EYE_OUTER[0]] = (-0.5, 0.0, 0.0)
    points[:, EYE_OUTER[1]] = (0.5, 0.0, 0.0)
    return points


def _posed(
    points: np.ndarray, scale: float, degrees: float, shift: tuple[float, float]
) -> np.ndarray:
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return scale * points @ rotation.T + np.array([shift[0], shift[1], 0.0])


def test_the_reference_is_the_mean_face_in_eye_coordinates() -> None:
    a, b = _face(1), _face(2, frames=3)
    expected = (a.mean(0) + b.mean(0)) / 2  # each clip weighs the same, whatever its length
    assert np.allclose(training_reference([a, b]), expected, atol=1e-9)


def test_pose_and_size_in_the_frame_do_not_move_the_reference() -> None:
    a, b = _face(1), _face(2)
    moved = [_posed(a, 240.0, 12.0, (320.0, 180.0)), _posed(b, 90.0, -7.0, (50.0, 400.0))]
    assert np.allclose(training_reference(moved), training_reference([a, b]), atol=1e-9)


def test_a_wide_opener_is_scaled_down_to_the_typical_range() -> None:
    rest = _face(3, frames=1)[0]
    offset = np.zeros_like(rest)
    offset[14] = (0.0, 0.1, 0.0)  # lower lip down
    wide = np.stack([rest, rest + 2 * offset])  # this person opens twice as wide
    typical = np.stack([rest, rest + offset])
    points = np.array([13, 14])
    assert range_scale(0.2, 0.1) == 2.0
    assert np.allclose(
        typical_deformation(wide, rest, points, 0.2, 0.1),
        typical_deformation(typical, rest, points, 0.1, 0.1),
    )


def test_the_range_scale_is_bounded_either_way() -> None:
    # A range measured on a face that barely moves (or one odd frame) must not blow up.
    assert range_scale(0.0, 0.1) == RANGE_SCALE_LIMITS[0]
    assert range_scale(10.0, 0.1) == RANGE_SCALE_LIMITS[1]
    assert np.isclose(range_scale(0.15, 0.1), 1.5)


def test_frames_without_a_face_come_back_nan_without_a_warning() -> None:
    # Clips store a frame with no face as zeros; it has no pose to remove. Dividing by its
    # zero scale used to print "invalid value encountered in divide" from the benchmark.
    face = canonical_face().points
    posed = _posed(face, 210.0, 9.0, (400.0, 300.0))
    landmarks = np.stack([posed, np.zeros_like(face), posed])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = canonicalise(landmarks)
    assert np.isnan(out[1]).all()
    assert np.allclose(out[[0, 2]], face, atol=1e-3)
