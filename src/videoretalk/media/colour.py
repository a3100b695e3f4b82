"""Decoded YUV frames to RGB, exactly: the levels the source stores, not a shade darker.

FFmpeg's scaler converts 8-bit YUV to RGB through a fast table path that comes out about
one level dark on every channel (measured on talk4: -1.0 / -1.5 / -1.0 in R / G / B against
the exact conversion; its accurate mode fixes it at 3-7x the time). The writer's RGB -> YUV
is exact, so every pixel of every output frame, the untouched ones too, came out one luma
level below the source's (-1.06 on average): PSNR above the mouth against the source rose
by 2.0 / 3.6 / 2.4 dB without it (talk4, talk2, the BT.709 phone clip re-driven).
Here 8-bit planar YUV is converted with the exact matrix instead: OpenCV's BT.601 I420
conversion where that is the frame's (as fast as FFmpeg's), else one 3x4 matrix over the
planes (chroma repeated onto every pixel, as OpenCV and FFmpeg's fast path do: 2.3 ms a
1080x1920 BT.709 frame, against FFmpeg's 0.8 ms fast and 5.8 ms exact). Other formats
(10-bit, packed) go through FFmpeg's exact mode.

The grey levels the caption search reads need no conversion at all: `frame_to_luma` copies
the decoder's own 8-bit Y plane.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
from av.video.reformatter import Interpolation

# FFmpeg colour-space numbers -> (Kr, Kb) of the matrix (ITU-T H.273 MatrixCoefficients).
# Untagged video is BT.601, as FFmpeg's scaler and players take it.
_LUMA_WEIGHTS = {
    1: (0.2126, 0.0722),  # BT.709
    2: (0.299, 0.114),  # unspecified
    4: (0.30, 0.11),  # FCC
    5: (0.299, 0.114),  # BT.470 BG
    6: (0.299, 0.114),  # SMPTE 170M (BT.601)
    7: (0.212, 0.087),  # SMPTE 240M
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
}
_BT601 = (0.299, 0.114)
# FFmpeg's scaler without its fast tables: exact levels (10-bit BT.601 talk4: bias -1.6 ->
# +0.05), as fast as its default for 10-bit frames, 3-7x slower for 8-bit ones.
_EXACT_SCALER = Interpolation.POINT | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
FULL_RANGE = 2  # FFmpeg's AVCOL_RANGE_JPEG
# 8-bit planar YUV, by name: chroma subsampling (rows, columns); "j" formats are full range.
_PLANAR_8BIT = {
    "yuv420p": (2, 2),
    "yuvj420p": (2, 2),
    "yuv422p": (1, 2),
    "yuvj422p": (1, 2),
    "yuv440p": (2, 1),
    "yuvj440p": (2, 1),
    "yuv444p": (1, 1),
    "yuvj444p": (1, 1),
}

# Pixel formats whose first plane is the 8-bit luma, read as the frame's grey.
EIGHT_BIT_LUMA = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}
)


def frame_to_luma(frame: av.VideoFrame) -> np.ndarray:
    """(H, W) uint8 grey levels of a decoded frame: its Y plane as decoded where that is
    8-bit, else FFmpeg's grey conversion."""
    if frame.format.name in EIGHT_BIT_LUMA:
        return plane_pixels(frame, 0).copy()
    return frame.to_ndarray(format="gray")


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame, as its matrix and range define it."""
    layout = _PLANAR_8BIT.get(frame.format.name)
    weights = _LUMA_WEIGHTS.get(int(frame.colorspace))
    if layout is None or weights is None:  # FFmpeg's own conversion, in its exact mode
        return frame.reformat(format="rgb24", interpolation=_EXACT_SCALER).to_ndarray()
    full = int(frame.color_range) == FULL_RANGE or frame.format.name.startswith("yuvj")
    y, u, v = (plane_pixels(frame, i) for i in range(3))
    height, width = y.shape
    if layout == (2, 2) and weights == _BT601 and not full and height % 2 == width % 2 == 0:
        # OpenCV's I420 conversion is this very matrix, and quicker than the general one.
        i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(-1, width)
        return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)
    if layout != (1, 1):  # each chroma sample onto the pixels it covers
        rows, cols = layout
        u, v = (
            cv2.resize(c, None, fx=cols, fy=rows, interpolation=cv2.INTER_NEAREST)[:height, :width]
            for c in (u, v)
        )
    yuv = cv2.merge([y, u, v])
    return cv2.transform(yuv, yuv_to_rgb_matrix(*weights, full))


def yuv_to_rgb_matrix(kr: float, kb: float, full_range: bool) -> np.ndarray:
    """3x4 matrix taking 8-bit (Y, U, V, 1) to RGB levels for luma weights `kr`, `kb`."""
    kg = 1.0 - kr - kb
    luma, chroma, black = (1.0, 1.0, 0.0) if full_range else (255 / 219, 255 / 224, 16.0)
    a = np.array(
        [
            [luma, 0.0, 2 * (1 - kr) * chroma],
            [luma, -2 * (1 - kb) * kb / kg * chroma, -2 * (1 - kr) * kr / kg * chroma],
            [luma, 2 * (1 - kb) * chroma, 0.0],
        ]
    )
    offset = -a @ np.array([black, 128.0, 128.0])
    return np.hstack([a, offset[:, None]]).astype(np.float32)


def plane_pixels(frame: av.VideoFrame, index: int) -> np.ndarray:
    """Plane `index` of a frame as a (rows, columns) uint8 array, without its row padding."""
    plane = frame.planes[index]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height, : plane.width]
