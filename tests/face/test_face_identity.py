"""Choosing the target: reference images, DashScope's threshold, two people in frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_clips import frames, side_by_side

from videoretalk.errors import FaceNotMatch, InvalidFileContent, InvalidParameter
from videoretalk.face import FaceAnalyser, analyse_video, max_distance
from videoretalk.media.decode import DecodedFrame


def _centre_x(track) -> np.ndarray:
    return np.nanmean(track.landmarks[:, :, 0], axis=1)


@pytest.mark.parametrize("big", ["talk4", "talk2"])
@pytest.mark.parametrize("wanted", ["talk4", "talk2"])
def test_reference_picks_exactly_that_person(two_person, refs, big, wanted) -> None:
    path = two_person[big]
    track = analyse_video(path, ref_image=refs[wanted])
    assert track.present.all(), np.flatnonzero(~track.present)
    half = track.frame_size[0] * (480 / (480 + 360))  # left canvas part holds the big person
    on_left = _centre_x(track) < half
    assert on_left.all() if wanted == big else (~on_left).all()


@pytest.mark.parametrize("big", ["talk4", "talk2"])
def test_without_reference_the_larger_person(two_person, big) -> None:
    track = analyse_video(two_person[big])
    assert track.present.all()
    assert (_centre_x(track) < track.frame_size[0] * 0.5).all()


def test_reference_of_someone_else_is_face_not_match(two_person, refs) -> None:
    with pytest.raises(FaceNotMatch) as err:
        analyse_video(two_person["talk4"], ref_image=refs["talk3"])
    assert err.value.code == "InvalidFile.FaceNotMach"


def test_reference_seen_only_in_frames_not_analysed_says_so(dev_dir: Path, refs) -> None:
    """Frames the output never shows are skipped, not analysed: a reference face that
    appears only there is not found, and the message names the part that was searched."""
    analyser = FaceAnalyser(ref_image=refs["talk4"])
    clip = frames(dev_dir, "talk4", 6, 400)
    blank = np.zeros_like(clip[0])
    for index, image in enumerate(clip):
        frame = DecodedFrame(index, index / 25, blank if index < 3 else image)
        (analyser.add if index < 3 else analyser.skip)(frame)
    with pytest.raises(FaceNotMatch) as err:
        analyser.finish()
    assert "does not appear in the first 0.1 s of the video" in str(err.value)


def test_reference_with_two_faces_or_none_is_invalid_content(dev_dir: Path) -> None:
    a = frames(dev_dir, "talk4", 1, 400)[0]
    b = frames(dev_dir, "talk1", 1, 400)[0]
    gradient = np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[:, None, None], (1, 500, 3))
    for image in (side_by_side(a, b, 400), gradient, np.zeros((300, 300, 3), np.uint8)):
        with pytest.raises(InvalidFileContent) as err:
            FaceAnalyser(ref_image=image)
        assert "no human body or multi human bodies" in str(err.value)


def test_reference_from_file_and_bytes(tmp_path: Path, refs) -> None:
    from PIL import Image

    path = tmp_path / "ref.jpg"
    Image.fromarray(refs["talk4"]).save(path, quality=90)
    FaceAnalyser(ref_image=path).close()
    FaceAnalyser(ref_image=path.read_bytes()).close()
    with pytest.raises(Exception) as err:
        FaceAnalyser(ref_image=b"not an image")
    assert getattr(err.value, "code", "").startswith("InvalidFile")


def test_query_face_threshold_range_and_direction() -> None:
    assert max_distance(170) == pytest.approx(0.6)
    assert max_distance(200) < max_distance(170) < max_distance(120)  # higher = stricter
    for bad in (119, 201, 170.0, True):
        with pytest.raises(InvalidParameter):
            FaceAnalyser(query_face_threshold=bad)  # type: ignore[arg-type]
