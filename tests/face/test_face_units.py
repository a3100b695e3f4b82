"""Settings, landmark index sets and smoothing helpers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from videoretalk.config import Settings
from videoretalk.errors import InvalidParameter
from videoretalk.face import FaceSettings, landmarks
from videoretalk.face.canonical import canonical_face
from videoretalk.face.smoothing import gaussian, segments


def test_settings_from_env_and_validation() -> None:
    s = Settings.from_env({"VIDEORETALK_FACE_MAX_YAW_DEG": "40"})
    assert s.face.max_yaw_deg == 40.0
    with pytest.raises(InvalidParameter, match="VIDEORETALK_FACE_MAX_YAW_DEG"):
        FaceSettings(max_yaw_deg=120)


def test_lip_contours_are_closed_loops_of_the_mesh() -> None:
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL, FACEMESH_LIPS

    edges = {frozenset(e) for e in FACEMESH_LIPS}
    for loop in (landmarks.LIPS_OUTER, landmarks.LIPS_INNER):
        assert all(frozenset((a, b)) in edges for a, b in zip(loop, loop[1:] + loop[:1]))
    oval = {frozenset(e) for e in FACEMESH_FACE_OVAL}
    jaw = landmarks.JAW
    assert all(frozenset((a, b)) in oval for a, b in itertools.pairwise(jaw))


def test_mouth_region_covers_lips_and_jaw() -> None:
    region = set(landmarks.MOUTH_REGION)
    assert set(landmarks.LIPS_OUTER) <= region and set(landmarks.LIPS_INNER) <= region
    assert landmarks.CHIN in region and not set(landmarks.NOSE_BRIDGE) & region
    assert not set(landmarks.RIGHT_EYE) & region


def test_canonical_face_is_symmetric_and_unit() -> None:
    face = canonical_face()
    p = face.points
    assert np.linalg.norm(p[263] - p[33]) == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(p[face.mirror] * [-1, 1, 1], p, atol=1e-5)
    assert p[landmarks.NOSE_TIP, 2] < p[33, 2]  # nose towards the camera (smaller z)
    assert p[landmarks.CHIN, 1] > p[landmarks.NOSE_TIP, 1] > p[168, 1]  # y down


def test_gaussian_is_zero_phase_on_irregular_times() -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.03, 0.05, 300))  # variable frame rate
    x = np.sin(2 * np.pi * 1.0 * t)
    y = gaussian(x, t, 0.04)
    inner = slice(20, -20)
    assert np.abs(y[inner] - x[inner]).max() < 0.05
    assert gaussian(x, t, 0.0) == pytest.approx(x)


def test_segments() -> None:
    assert segments(np.array([0, 0, 1, 0, 1, 1], bool)) == [(0, 2), (2, 4), (4, 5), (5, 6)]


def test_a_track_takes_its_frame_size_from_frames_with_pixels() -> None:
    # A frame decoded without pixels (past the analysis horizon) is 0x0: had it come
    # first, the track would have claimed 0x0 frames, and no face would fit inside them.
    from videoretalk.face.analyser import FaceAnalyser
    from videoretalk.media.decode import NO_IMAGE, DecodedFrame

    analyser = FaceAnalyser()
    try:
        analyser.skip(DecodedFrame(0, 0.0, NO_IMAGE))
        analyser.add(DecodedFrame(1, 0.04, np.zeros((96, 160, 3), np.uint8)))
        assert analyser.finish().frame_size == (160, 96)
    finally:
        analyser.close()
