"""Painted teeth take the picture's light and softness (the source never shows teeth)."""

from __future__ import annotations

import cv2
import numpy as np

from videoretalk.render import interior, lips
from videoretalk.render.topology import LIPS_INNER, LIPS_OUTER
from videoretalk.render.warp import lower_face_box

from .conftest import Clip

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _step_edges(blur_px: float) -> np.ndarray:
    """A 120 px RGB tile of dark and light squares with edges blurred by `blur_px`."""
    y, x = np.mgrid[0:120, 0:120]
    tile = np.where(((x // 30) + (y // 30)) % 2 == 0, 60.0, 200.0).astype(np.float32)
    if blur_px > 0:
        tile = cv2.GaussianBlur(tile, (0, 0), blur_px)
    return np.repeat(tile[..., None], 3, axis=2).astype(np.uint8)


def test_edge_blur_is_measured_in_pixels() -> None:
    for blur in (1.0, 1.8, 3.0):
        assert abs(interior.edge_blur_px(_step_edges(blur)) - blur) < 0.25 * blur
    assert interior.edge_blur_px(_step_edges(0)) < 0.6
    assert interior.edge_blur_px(np.full((40, 40, 3), 128, np.uint8)) == 0.0


def test_fallback_teeth_take_the_skins_exposure_and_tint() -> None:
    red_lips = np.array([0.38, 0.13, 0.12], np.float32)  # dark in luma however lit
    warm_skin = np.array([0.45, 0.3, 0.26], np.float32)
    teeth = interior.fallback_teeth(red_lips, warm_skin)
    ratio = float(teeth @ LUMA) / float(warm_skin @ LUMA)
    assert abs(ratio - interior.TEETH_OVER_SKIN_LUMA) < 0.01
    assert teeth[0] > teeth[1] > teeth[2], "teeth in warm light are warm"
    # From red lips alone they come out darker: grey teeth.
    assert float(interior.fallback_teeth(red_lips) @ LUMA) < 0.9 * float(teeth @ LUMA)
    # Bright light: never brighter than the default off-white.
    bright = interior.fallback_teeth(red_lips, np.array([1.0, 0.95, 0.9], np.float32))
    assert float(bright @ LUMA) <= float(interior.DEFAULT_TEETH_RGB @ LUMA) + 1e-6


def test_skin_around_the_lips_ignores_a_dark_moustache(talk1: Clip) -> None:
    frame = talk1.frames[0].image.copy()
    lm = talk1.track.landmarks[0]
    clean = lips.skin_colour(frame, lm)
    assert clean is not None
    # Paint a dark moustache over all the skin above the lips.
    top = int(lm[LIPS_OUTER, 1].min())
    box = lower_face_box([lm[LIPS_INNER]], frame.shape, margin=40)
    frame[box.y0 : top, box.x0 : box.x1] = (35, 25, 20)
    covered = lips.skin_colour(frame, lm)
    assert covered is not None
    assert abs(float(covered @ LUMA) - float(clean @ LUMA)) < 0.12 * float(clean @ LUMA)


def test_painted_interior_is_as_soft_as_the_picture(talk1: Clip) -> None:
    wide = int(np.argmax(talk1.opening))
    points = talk1.track.landmarks[wide]
    box = lower_face_box([points[LIPS_INNER]], talk1.frames[wide].image.shape, margin=3)
    teeth = np.array([0.9, 0.88, 0.85], np.float32)
    lip = np.array([0.6, 0.35, 0.35], np.float32)

    def detail(blur_px: float) -> float:
        painted, alpha = interior.paint_interior(
            points, box.shape, teeth, lip, (box.x0, box.y0), blur_px
        )
        grey = painted.astype(np.float32) @ LUMA
        inner = cv2.erode((alpha > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        return float((gx * gx + gy * gy)[inner].mean())

    assert detail(2.0) < 0.6 * detail(0.0)
