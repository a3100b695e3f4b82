"""Pixel metrics between an input frame and the output frame that shows it.

* PSNR outside the lower face: the engine may only touch the mouth, jaw and cheeks, so
  everything else should come through as the encoder left it.
* Mouth-region flicker: frame-to-frame change inside the mouth box of the output,
  divided by the same in the input; > 1 means the re-drawn mouth shimmers.

Regions come from the *input* frame's landmarks, so both videos are cut identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..face.landmarks import JAW, LIPS_OUTER, NOSE_BASE
from .signals import inter_ocular

PEAK = 255.0
PSNR_IDENTICAL_DB = 100.0  # reported when the compared pixels are bit-identical (MSE 0)
LOWER_FACE_DILATE_IOD = 0.15  # margin around the jaw contour for warps that spill over it
MOUTH_BOX_IOD = 1.1  # side of the square mouth region, in inter-ocular distances


def lower_face_mask(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bool mask (h, w): the jaw contour closed under the nose, dilated by 0.15 IOD."""
    height, width = shape[:2]
    mask = np.zeros((height, width), np.uint8)
    points = np.asarray(landmarks, np.float64)[..., :2]
    # Ear to ear along the jaw, then back through the base of the nose: the region a
    # lip-sync engine may warp (lips, chin, lower cheeks), nothing above the nostrils.
    polygon = np.round(points[list(JAW) + [NOSE_BASE]]).astype(np.int32)
    cv2.fillPoly(mask, [polygon], (1,))
    margin = round(LOWER_FACE_DILATE_IOD * float(inter_ocular(points)))
    if margin > 0:
        # A stroke of width 2·margin along the outline is the outline's dilation by `margin`.
        cv2.polylines(mask, [polygon], True, (1,), thickness=2 * margin + 1)
    return mask.astype(bool)


def mouth_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Square (x0, y0, x1, y1) around the lips, MOUTH_BOX_IOD wide, clipped to the frame."""
    points = np.asarray(landmarks, np.float64)[..., :2]
    centre = points[list(LIPS_OUTER)].mean(axis=0)
    half = 0.5 * MOUTH_BOX_IOD * float(inter_ocular(points))
    height, width = shape[:2]
    x0, y0 = int(max(0, np.floor(centre[0] - half))), int(max(0, np.floor(centre[1] - half)))
    x1 = int(min(width, np.ceil(centre[0] + half)))
    y1 = int(min(height, np.ceil(centre[1] + half)))
    return x0, y0, x1, y1


def psnr(squared_error: float, count: int) -> float:
    if count == 0:
        return float("nan")
    mse = squared_error / count
    return PSNR_IDENTICAL_DB if mse <= 0 else min(PSNR_IDENTICAL_DB, 10.0 * np.log10(PEAK**2 / mse))


@dataclass
class OutsidePsnr:
    """Accumulates squared error outside the lower face over frame pairs."""

    squared_error: float = 0.0
    count: int = 0
    per_frame: list[float] = field(default_factory=list)

    def add(self, source: np.ndarray, output: np.ndarray, landmarks: np.ndarray | None) -> float:
        height = min(source.shape[0], output.shape[0])
        width = min(source.shape[1], output.shape[1])
        a = source[:height, :width].astype(np.float64)
        b = output[:height, :width].astype(np.float64)
        diff = ((a - b) ** 2).sum(axis=-1)
        if landmarks is not None and np.all(np.isfinite(landmarks)):
            keep = ~lower_face_mask(landmarks, (height, width))
            diff = diff[keep]
        squared, count = float(diff.sum()), int(diff.size) * source.shape[-1]
        self.squared_error += squared
        self.count += count
        value = psnr(squared, count)
        self.per_frame.append(value)
        return value

    @property
    def value(self) -> float:
        """PSNR of the pooled error over every compared pixel of every frame (dB)."""
        return psnr(self.squared_error, self.count)

    @property
    def worst(self) -> float:
        finite = [v for v in self.per_frame if np.isfinite(v)]
        return min(finite) if finite else float("nan")


@dataclass
class MouthFlicker:
    """Mean |frame t − frame t−1| in the mouth box, output over input."""

    output_change: float = 0.0
    input_change: float = 0.0
    pairs: int = 0
    _previous: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, source: np.ndarray, output: np.ndarray, landmarks: np.ndarray | None) -> None:
        height = min(source.shape[0], output.shape[0])
        width = min(source.shape[1], output.shape[1])
        grey_in = _grey(source[:height, :width])
        grey_out = _grey(output[:height, :width])
        previous, self._previous = self._previous, (grey_in, grey_out)
        if previous is None or landmarks is None or not np.all(np.isfinite(landmarks)):
            return
        x0, y0, x1, y1 = mouth_box(landmarks, (height, width))
        if x1 <= x0 or y1 <= y0:
            return
        box = (slice(y0, y1), slice(x0, x1))
        self.input_change += float(np.abs(grey_in[box] - previous[0][box]).mean())
        self.output_change += float(np.abs(grey_out[box] - previous[1][box]).mean())
        self.pairs += 1

    @property
    def ratio(self) -> float:
        if self.pairs == 0:
            return float("nan")
        if self.input_change == 0:
            return 1.0 if self.output_change == 0 else float("inf")
        return self.output_change / self.input_change


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def mouth_crop(image: np.ndarray, landmarks: np.ndarray | None, size: int) -> np.ndarray:
    """The mouth box scaled to `size`×`size` (the whole frame's centre when there is no face)."""
    height, width = image.shape[:2]
    if landmarks is not None and np.all(np.isfinite(landmarks)):
        x0, y0, x1, y1 = mouth_box(landmarks, image.shape)
    else:
        side = min(height, width) // 3
        x0, y0 = (width - side) // 2, (height - side) // 2
        x1, y1 = x0 + side, y0 + side
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        crop = image
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC)
