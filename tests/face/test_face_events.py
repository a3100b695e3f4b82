"""Frame-exact presence flags when the target disappears, is cut away from, or comes back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_clips import BIG, N_FRAMES, SMALL, frames, side_by_side, write_video

from videoretalk.face import FrameStatus, analyse_video


def _absent(track) -> list[int]:
    return np.flatnonzero(~track.present).tolist()


def test_black_frames_are_absent_and_nothing_else(dev_dir: Path, face_cases: Path) -> None:
    clip = frames(dev_dir, "talk4", N_FRAMES, BIG)
    images = [np.zeros_like(x) if 20 <= i < 30 else x for i, x in enumerate(clip)]
    track = analyse_video(write_video(face_cases / "black.mp4", images))
    assert _absent(track) == list(range(20, 30))
    assert (track.status[20:30] == FrameStatus.ABSENT).all()
    assert np.isnan(track.landmarks[20:30]).all()
    assert track.shot_start[20] and track.shot_start[30]


@pytest.mark.parametrize("with_ref", [False, True])
def test_cut_to_another_person_and_back(dev_dir: Path, face_cases: Path, refs, with_ref) -> None:
    target = frames(dev_dir, "talk4", N_FRAMES, BIG)
    other = frames(dev_dir, "talk2", N_FRAMES, BIG)
    width = target[0].shape[1]
    images = target[:20] + [np.ascontiguousarray(x[:, :width]) for x in other[:15]] + target[20:35]
    track = analyse_video(
        write_video(face_cases / "cut.mp4", images), ref_image=refs["talk4"] if with_ref else None
    )
    assert _absent(track) == list(range(20, 35))


@pytest.mark.parametrize("with_ref", [False, True])
def test_target_leaves_and_returns_beside_someone_else(
    dev_dir: Path, face_cases: Path, refs, with_ref
) -> None:
    target = frames(dev_dir, "talk4", N_FRAMES, BIG)
    other = frames(dev_dir, "talk2", N_FRAMES, SMALL)
    empty = np.full_like(target[0], 90)
    images = [
        side_by_side(empty if 20 <= i < 35 else a, b, BIG)
        for i, (a, b) in enumerate(zip(target, other))
    ]
    track = analyse_video(
        write_video(face_cases / "leave.mp4", images), ref_image=refs["talk4"] if with_ref else None
    )
    assert _absent(track) == list(range(20, 35))
    left = np.nanmean(track.landmarks[track.present, :, 0], axis=1) < target[0].shape[1]
    assert left.all()  # never jumped to the other person


def test_an_upside_down_face_is_fitted_upside_down(dev_dir: Path, face_cases: Path) -> None:
    # A video whose pixels are upside down (e.g. its rotation flag lost). The detector can
    # read such a face as upright, and the mesh then fits it anyway: mouth on the
    # forehead, where the renderer would paint lips.
    clip = frames(dev_dir, "talk4", N_FRAMES, BIG)
    images = [np.ascontiguousarray(x[::-1, ::-1]) for x in clip]
    track = analyse_video(write_video(face_cases / "upside_down.mp4", images))
    assert track.present.mean() >= 0.9
    present = track.present
    mouth_y = track.landmarks[present, 13, 1]  # inner upper lip
    eyes_y = track.landmarks[present][:, [33, 263], 1].mean(axis=1)
    assert (mouth_y < eyes_y).all()


def test_a_dissolve_into_another_person_ends_the_target(dev_dir: Path, face_cases: Path) -> None:
    """A 1 s cross-fade from the target to someone else framed alike: no cut and no jump
    is seen, and the followed face turns into the other person. Her frames must not be
    the target's (they were all edited as his), and his end within the blend, where its
    shape began to change, so the edit fades out with him."""
    target = frames(dev_dir, "talk2", 90, BIG)
    other = frames(dev_dir, "talk4", 50, BIG)
    blend = [
        ((1 - k / 25) * target[60 + k].astype(np.float32) + (k / 25) * other[k]).astype(np.uint8)
        for k in range(25)
    ]
    images = target[:60] + blend + other[25:50]
    track = analyse_video(write_video(face_cases / "dissolve.mp4", images))
    assert track.present[:55].all()  # the target, until the blend
    assert not track.tracked[85:].any()  # the other person alone: never the target
    assert not track.present[80:].any()  # the edit ends within the blend, not after it
