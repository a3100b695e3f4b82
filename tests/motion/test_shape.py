"""The training reference face: one eye-normalised mean over clips, whatever their pose."""

from __future__ import annotations

import numpy as np

from videoretalk.motion.shape import EYE_OUTER, training_reference


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
