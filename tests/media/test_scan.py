"""`VideoReader.scan`: every frame's grey levels straight from the decoder, RGB where asked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from mediafactory import make_video, read_code

from videoretalk.media.decode import VideoReader


@pytest.mark.parametrize(("width", "rotation"), [(200, 0), (198, 90)])
def test_scan_gives_every_frames_grey_and_the_asked_rgb(
    tmp_path: Path, width: int, rotation: int
) -> None:
    video = make_video(
        tmp_path / "v.mp4",
        width=width,
        height=160,
        fps=25,
        seconds=1.2,
        rotation=rotation,
        audio_tone_hz=None,
    )
    with VideoReader(video) as reader:
        full = {f.index: f.image for f in reader.frames()}
        seen = list(reader.scan([3, 7]))
    assert [index for index, _, _ in seen] == list(range(len(full)))
    for index, grey, frame in seen:
        image = full[index]
        assert grey.shape == image.shape[:2]  # upright, as the RGB frames are
        assert (frame is not None) == (index in (3, 7))
        if frame is not None:
            assert np.array_equal(frame.image, image)
            assert rotation or read_code(frame.image) == index
        # The luma plane is the picture's grey (limited range, so within a few levels).
        rgb_grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        assert np.corrcoef(grey.ravel(), rgb_grey.ravel())[0, 1] > 0.99
        assert np.abs(grey.astype(np.float32) - rgb_grey).mean() < 12


def test_frames_past_rgb_until_come_with_their_time_only(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", width=200, height=160, fps=25, seconds=1.2)
    with VideoReader(video) as reader:
        full = list(reader.frames())
        cut = list(reader.frames(rgb_until_s=0.5))
        times = reader.frame_times
    assert [(f.index, f.time) for f in cut] == [(f.index, f.time) for f in full]
    for before, after in zip(full, cut, strict=True):
        if before.time <= 0.5:
            assert np.array_equal(after.image, before.image)
        else:
            assert after.image.size == 0
    assert sum(f.image.size > 0 for f in cut) == 13  # 0.00 ... 0.48 s at 25 fps
    with VideoReader(video) as fresh:  # times alone, from a pass that converts no frame
        assert np.array_equal(fresh.frame_times, times)
