"""Known answers for PSNR outside the lower face and mouth-region flicker, on constructed frames."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.eval import pixels


def test_lower_face_mask_covers_mouth_and_jaw_not_eyes(landmarks):
    points = landmarks(centre=(320, 300), iod=200.0, gap=10.0)
    mask = pixels.lower_face_mask(points, (640, 640))
    assert mask[400, 320]  # mouth
    assert mask[300 + 180, 320]  # above the chin
    assert not mask[180, 220]  # right eye
    assert not mask[60, 320]  # forehead
    assert not mask[300, 40]  # background beside the face


def test_identical_frames_score_the_identical_cap(landmarks):
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)
    psnr = pixels.OutsidePsnr()
    assert psnr.add(image, image.copy(), landmarks()) == pixels.PSNR_IDENTICAL_DB
    assert psnr.value == pixels.PSNR_IDENTICAL_DB


def test_changes_inside_the_lower_face_are_ignored_outside_counted(landmarks):
    points = landmarks(centre=(320, 300), iod=200.0)
    mask = pixels.lower_face_mask(points, (640, 640))
    source = np.full((640, 640, 3), 100, np.uint8)
    edited = source.copy()
    edited[mask] = 250  # the engine repaints the whole lower face
    psnr = pixels.OutsidePsnr()
    assert psnr.add(source, edited, points) == pixels.PSNR_IDENTICAL_DB
    shifted = edited.copy()
    shifted[~mask] += 10  # and everything else is off by 10 levels
    value = psnr.add(source, shifted, points)
    assert value == pytest.approx(20 * np.log10(255 / 10))
    assert psnr.worst == pytest.approx(value)
    # pooled over both frames: half the error
    assert psnr.value == pytest.approx(10 * np.log10(255**2 / 50))


def test_even_cropped_output_is_compared_on_the_common_area(landmarks):
    source = np.full((641, 641, 3), 80, np.uint8)
    assert (
        pixels.OutsidePsnr().add(source, source[:640, :640], landmarks())
        == pixels.PSNR_IDENTICAL_DB
    )


def _mouth_frames(points, amplitudes):
    x0, y0, x1, y1 = pixels.mouth_box(points, (640, 640))
    frames = []
    for a in amplitudes:
        image = np.full((640, 640, 3), 120, np.uint8)
        image[y0:y1, x0:x1] = np.clip(120 + a, 0, 255)
        frames.append(image)
    return frames


def _flicker(source, output, points):
    meter = pixels.MouthFlicker()
    for a, b in zip(source, output, strict=True):
        meter.add(a, b, points)
    return meter


def test_flicker_ratio_of_known_sequences(landmarks):
    points = landmarks(centre=(320, 300), iod=200.0)
    source = _mouth_frames(points, [0, 20, 0, 20, 0])
    assert _flicker(source, source, points).ratio == pytest.approx(1.0)
    double = _mouth_frames(points, [0, 40, 0, 40, 0])
    assert _flicker(source, double, points).ratio == pytest.approx(2.0)
    frozen = _mouth_frames(points, [0] * 5)
    assert _flicker(source, frozen, points).ratio == 0.0
    # Changes outside the mouth box do not count.
    noisy = [f.copy() for f in source]
    for k, f in enumerate(noisy):
        f[:50] = 40 * k
    assert _flicker(source, noisy, points).ratio == pytest.approx(1.0)


def test_flicker_without_faces_is_unknown(landmarks):
    frames = _mouth_frames(landmarks(), [0, 10])
    assert np.isnan(_flicker(frames, frames, None).ratio)


def test_mouth_crop_is_square_and_enlarged(landmarks):
    image = np.zeros((640, 640, 3), np.uint8)
    assert pixels.mouth_crop(image, landmarks(iod=100.0), 240).shape == (240, 240, 3)
    assert pixels.mouth_crop(image, None, 240).shape == (240, 240, 3)
