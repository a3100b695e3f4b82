"""Shot-cut detection from tiny luminance thumbnails, cheap enough to run on every frame.

A cut matters twice: the face tracked across it may be someone else (identity is
re-checked), and landmarks must not be smoothed across it.
"""

from __future__ import annotations

import cv2
import numpy as np

_THUMB = (48, 27)  # thumbnail size (w, h): 16:9, coarse enough to ignore speech motion
_HIST_BINS = 16
_HIST_THRESHOLD = 0.6  # L1 distance of normalised histograms (0..2) that alone means a cut


class CutDetector:
    def __init__(self, threshold: float) -> None:
        self._threshold = threshold  # mean absolute luminance change, 0..255
        self._prev: np.ndarray | None = None
        self._prev_hist: np.ndarray | None = None

    def update(self, image: np.ndarray) -> bool:
        """True when `image` starts a new shot (never for the first frame)."""
        # Sample a ~2x thumbnail grid first: resizing the full frame would cost ~0.5 ms.
        sy = max(1, image.shape[0] // (2 * _THUMB[1]))
        sx = max(1, image.shape[1] // (2 * _THUMB[0]))
        small = np.ascontiguousarray(image[::sy, ::sx])
        thumb = cv2.resize(small, _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
        luma = thumb @ np.array([0.299, 0.587, 0.114], np.float32)
        hist = np.histogram(luma, bins=_HIST_BINS, range=(0.0, 256.0))[0].astype(np.float32)
        hist /= max(float(hist.sum()), 1.0)
        cut = False
        if self._prev is not None and self._prev_hist is not None:
            mad = float(np.abs(luma - self._prev).mean())
            hist_change = float(np.abs(hist - self._prev_hist).sum())
            cut = mad > self._threshold or hist_change > _HIST_THRESHOLD
        self._prev, self._prev_hist = luma, hist
        return cut
