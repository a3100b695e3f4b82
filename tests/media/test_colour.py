"""Decoded frames come out in the levels their matrix and range define, not a shade dark."""

from __future__ import annotations

import av
import numpy as np
import pytest

from videoretalk.media.colour import frame_to_rgb

# (Kr, Kb) by FFmpeg colour-space number
WEIGHTS = {2: (0.299, 0.114), 1: (0.2126, 0.0722), 9: (0.2627, 0.0593)}
# chroma subsampling (rows, columns) and bit depth by pixel format
LAYOUTS = {
    "yuv420p": (2, 2, 8),
    "yuvj420p": (2, 2, 8),
    "yuv422p": (1, 2, 8),
    "yuv444p": (1, 1, 8),
    "yuv420p10le": (2, 2, 10),
}


def _frame(
    fmt: str, width: int, height: int, space: int, full: bool
) -> tuple[av.VideoFrame, np.ndarray]:
    """A frame of smooth random colours, and its exact RGB (float, chroma repeated)."""
    rows, cols, bits = LAYOUTS[fmt]
    rng = np.random.default_rng(7)
    frame = av.VideoFrame(width, height, fmt)
    frame.colorspace, frame.color_range = space, 2 if full else 1
    scale = 2 ** (bits - 8)
    lo, hi = (0, 255) if full else (16, 235)
    planes = []
    for index in range(3):
        plane = frame.planes[index]
        if index == 0:
            values = rng.uniform(lo, hi, (plane.height, plane.width))
        else:  # moderate chroma, as in natural pictures (saturated ones would clip)
            values = 128 + rng.uniform(-40, 40, (plane.height, plane.width))
        stored = np.round(values * scale).astype(np.uint16 if bits > 8 else np.uint8)
        view = np.frombuffer(memoryview(plane), stored.dtype).reshape(plane.height, -1)
        view[:, : plane.width] = stored
        planes.append(stored.astype(np.float64) / scale)
    y = planes[0]
    u, v = (np.repeat(np.repeat(c, rows, 0), cols, 1)[:height, :width] for c in planes[1:])
    kr, kb = WEIGHTS[space]
    kg = 1 - kr - kb
    luma, chroma = (y / 255, 1 / 255) if full else ((y - 16) / 219, 1 / 224)
    pr, pb = (v - 128) * chroma, (u - 128) * chroma
    r = luma + 2 * (1 - kr) * pr
    b = luma + 2 * (1 - kb) * pb
    g = (luma - kr * r - kb * b) / kg
    return frame, np.clip(np.stack([r, g, b], -1) * 255, 0, 255)


@pytest.mark.parametrize(
    ("fmt", "width", "height", "space", "full"),
    [
        ("yuv420p", 64, 48, 2, False),  # untagged BT.601, the common case
        ("yuv420p", 63, 46, 2, False),  # odd width
        ("yuv420p", 64, 46, 2, False),  # chroma rows not a multiple of two
        ("yuv420p", 64, 48, 1, False),  # BT.709 (HD, phones)
        ("yuv420p", 64, 48, 9, False),  # BT.2020
        ("yuvj420p", 64, 48, 2, True),  # full range (webcams, phones' JPEG-range video)
        ("yuv422p", 64, 48, 1, False),
        ("yuv444p", 64, 48, 2, False),
        ("yuv420p10le", 64, 48, 2, False),  # 10-bit: FFmpeg's exact mode
    ],
)
def test_decoded_levels_are_the_matrix_own(
    fmt: str, width: int, height: int, space: int, full: bool
) -> None:
    # FFmpeg's default conversion came out -1.0 / -1.5 / -1.0 levels (R / G / B) below
    # these on talk4's frames, and the output stored that darkening.
    frame, exact = _frame(fmt, width, height, space, full)
    rgb = frame_to_rgb(frame)
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8
    error = rgb.astype(np.float64) - exact
    assert np.abs(error.mean(axis=(0, 1))).max() < 0.1, error.mean(axis=(0, 1))
    assert np.abs(error).max() <= 1.0
