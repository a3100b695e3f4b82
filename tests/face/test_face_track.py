"""FaceTrack storage and geometry, on synthetic tracks (no models needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from videoretalk.face import FaceSettings, FaceTrack, FrameStatus
from videoretalk.face.canonical import canonical_face
from videoretalk.face.pose import fit_pose, rotation_from_angles
from videoretalk.face.trackbuild import build_track


def _synthetic(
    n: int, fps: float = 25.0, yaw: float = 0.0, iod: float = 90.0, seed: int = 0
) -> FaceTrack:
    """A face nodding slowly and speaking (mouth points moving), with noise, through build_track."""
    face = canonical_face()
    rng = np.random.default_rng(seed)
    times = np.arange(n) / fps
    points = []
    for t in times:
        r = rotation_from_angles(yaw + 5 * np.sin(t), 3 * np.sin(0.7 * t), 2.0)
        shape = face.points.copy()
        speech = 0.05 * np.sin(2 * np.pi * 4 * t)  # lips part and close at 4 Hz
        shape[14, 1] += speech
        shape[13, 1] -= speech
        pts = iod * shape @ r.T + np.array([640.0, 360.0, 0.0]) + rng.normal(0, 0.3, shape.shape)
        points.append(pts.astype(np.float32))
    return build_track(
        times=times,
        points=points,
        presence=np.full(n, 0.99, np.float32),
        tracklet=np.zeros(n, np.int64),
        target=np.ones(n, bool),
        unverified=np.zeros(n, bool),
        shot_start=np.zeros(n, bool),
        frame_size=(1280, 720),
        settings=FaceSettings(),
        canonical=face,
    )


def test_pose_fit_recovers_angles() -> None:
    face = canonical_face()
    for yaw, pitch, roll in [(0, 0, 0), (30, -10, 5), (-50, 20, -15)]:
        pts = 80 * face.points @ rotation_from_angles(yaw, pitch, roll).T + [300, 200, 0]
        got = fit_pose(pts, face.points, face.rigid)
        assert got.angles() == pytest.approx((yaw, pitch, roll), abs=1e-6)
        assert got.scale == pytest.approx(80)


def test_to_image_and_back() -> None:
    track = _synthetic(30)
    i = 12
    assert np.allclose(track.to_image(i, track.canonical[i]), track.landmarks[i], atol=1e-3)
    assert np.allclose(track.to_canonical(i, track.landmarks[i]), track.canonical[i], atol=1e-4)
    assert track.to_image(i, track.canonical[i][:, :2]).shape == (478, 2)
    assert track.interocular[i] == pytest.approx(90, rel=0.02)


def test_save_load_roundtrip_and_size(tmp_path: Path) -> None:
    track = _synthetic(60 * 120)  # 120 s at 60 fps
    path = tmp_path / "track.npz"
    track.save(path)
    assert path.stat().st_size < 16 * 2**20
    back = FaceTrack.load(path)
    assert np.array_equal(back.present, track.present)
    assert np.array_equal(back.status, track.status)
    assert np.allclose(back.canonical, track.canonical, atol=1e-4)
    assert np.allclose(back.landmarks, track.landmarks, atol=0.05)
    assert np.allclose(back.yaw, track.yaw) and back.frame_size == (1280, 720)


def test_turned_and_small_faces_are_left_untouched() -> None:
    assert (_synthetic(20, yaw=60).status == FrameStatus.TURNED).all()
    assert (_synthetic(20, iod=15).status == FrameStatus.TOO_SMALL).all()
    assert _synthetic(20, yaw=30).present.all()


def test_smoothing_keeps_speech_and_has_no_lag() -> None:
    track = _synthetic(200)
    gap = track.canonical[:, 14, 1] - track.canonical[:, 13, 1]
    t = track.frame_times
    wave = np.sin(2 * np.pi * 4 * t)
    lag = (
        np.argmax([np.corrcoef(np.roll(gap, k)[10:-10], wave[10:-10])[0, 1] for k in range(-3, 4)])
        - 3
    )
    assert lag == 0
    assert np.ptp(gap) > 0.5 * 2 * 0.1  # 4 Hz lip motion survives at least half its swing
