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
