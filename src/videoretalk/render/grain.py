"""Give re-drawn pixels back the camera noise the frame has.

Re-drawing the lower face interpolates it (the warp samples between pixels; an exemplar
change cross-fades two frames), and interpolation averages noise away: on a grainy video
(low light, a high ISO) the edited mouth and chin come out smoother than the cheeks
around them, a visible patch. Measured on talk4 with noise of 12 levels added: the fine
detail left in the lower face was 0.5-0.6 x the input's, against 0.87 x elsewhere (what
the encoder keeps).

So the frame's own noise is measured on its flat skin, the re-drawn pixels' on the same
kind of pixels, and fresh noise of the missing strength and colour correlation is added
back, but only as far as the frame is really noisy: its fine detail is strong (clean
footage's is compression and skin texture, 0.3-3.5 levels on the dev clips, and white
noise would not restore that) and it changes from frame to frame (a still, or a photo
made into a video, keeps its grain frozen, and fresh noise on it would sparkle).
"""

from __future__ import annotations

import cv2
import numpy as np

from .composite import smoothstep
from .warp import Box

# Variance of white noise after `_detail` (the pixel less its 3x3 mean): (8/9)^2 + 8/81.
DETAIL_GAIN = 72 / 81
# Share of the pixels, the flattest, on which noise is measured: edges and texture are
# not noise, and which pixels are flat is judged on a blurred copy, which noise barely moves.
FLAT_SHARE = 0.5
MIN_PIXELS = 200  # fewer flat pixels than this: no trustworthy measurement
MAX_SAMPLES = 8000  # flat pixels a covariance is measured on, evenly spread
# The frame's noise (standard deviation of its grey level, 8-bit) from which grain starts
# to be restored / is restored in full. The dev clips measure 0.3-3.5 (compression and
# skin texture, not noise); talk4 with noise of 6 / 12 levels added, 6.4-7.0 / 12.3-12.8.
NOISY_SD = (4.0, 7.0)
# How fast the share of fresh (not frozen) noise follows new frame pairs, and the
# largest ratio believed: beyond it the pair is a cut or a fast move, not noise.
FRESH_RATE = 0.2
FRESH_MAX_RATIO = 2.0
# Footage under `CLEAN_SD` (a level below where restoring starts) for `CLEAN_RUN` measured
# frames in a row is measured only every `CLEAN_RECHECK` frames: most footage is clean
# (all 25 shared clips), and measuring costs about 1 ms of the renderer's 13 a 720p frame.
# Grain that appears later (a cut, the light falling) is restored at most
# `CLEAN_RECHECK` - 1 frames late.
CLEAN_SD = 3.0
CLEAN_RUN = 8
CLEAN_RECHECK = 8


def _detail(pixels: np.ndarray) -> np.ndarray:
    return pixels - cv2.blur(pixels, (3, 3), borderType=cv2.BORDER_REFLECT)


def _grey(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(pixels.astype(np.float32, copy=False), cv2.COLOR_RGB2GRAY)


def _flat(grey: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The flattest `FLAT_SHARE` of `zone`'s pixels, judged on a blurred copy."""
    count = int(zone.sum())
    if count < MIN_PIXELS:
        return np.zeros_like(zone)
    blurred = cv2.GaussianBlur(grey, (0, 0), 1.5)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    slope = gx * gx + gy * gy
    values = slope[zone]
    k = int(FLAT_SHARE * (count - 1))
    return zone & (slope <= np.partition(values, k)[k])


def _covariance(detail: np.ndarray, flat: np.ndarray) -> np.ndarray | None:
    """3x3 covariance of the white noise that leaves this much detail on `flat` pixels."""
    where = np.flatnonzero(flat)
    if where.size < MIN_PIXELS:
        return None
    where = where[:: max(1, where.size // MAX_SAMPLES)]  # plenty for 6 numbers
    samples = detail.reshape(-1, detail.shape[-1])[where].astype(np.float64)
    return np.cov(samples, rowvar=False) / DETAIL_GAIN


class GrainMatcher:
    """Restores grain frame by frame; remembers the last source frame to tell fresh
    noise from frozen. `reset()` before a new sequence."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._previous: tuple[int, Box, np.ndarray] | None = None  # index, box, detail
        self.fresh = 0.0  # share of the frame's fine detail that is new each frame
        self._measured = False
        self._clean_run = 0  # measured frames in a row below CLEAN_SD
        self._unmeasured = 0  # frames still to pass without measuring

    def restore(
        self, image: np.ndarray, box: Box, index: int, drawn: np.ndarray, zones: list[np.ndarray]
    ) -> np.ndarray:
        """`drawn` (float32 pixels of `box`, re-drawn from source frame `index`, `image`)
        with noise added in each zone (weights in [0, 1], not overlapping).

        The frame's noise is measured over all zones together (it is one camera's), the
        drawn pixels' zone by zone (the warp and the pasted exemplar smooth it
        differently). Noise is seeded by the frame's index, so a run repeats.
        """
        if self._unmeasured > 0:  # long clean so far (see CLEAN_RUN)
            self._unmeasured -= 1
            self._previous = None
            return drawn
        # Grey first, which is cheap: most footage is clean, and that is decided here.
        frame = image[box.slice()].astype(np.float32)
        grey = _grey(frame)
        grey_detail = _detail(grey)
        inside = [zone > 0.5 for zone in zones]
        flat = _flat(grey, np.logical_or.reduce(inside))
        self._follow_freshness(index, box, grey_detail, flat)
        if flat.sum() < MIN_PIXELS:
            return drawn
        level = float(np.sqrt(np.mean(np.square(grey_detail[flat])) / DETAIL_GAIN))
        self._clean_run = self._clean_run + 1 if level < CLEAN_SD else 0
        if self._clean_run >= CLEAN_RUN:
            self._unmeasured = CLEAN_RECHECK - 1
        low, high = NOISY_SD
        strength = float(smoothstep(np.array((level - low) / (high - low)))) * self.fresh
        if strength <= 0:
            return drawn
        source = _covariance(_detail(frame), flat)
        drawn_detail, drawn_grey = _detail(drawn), _grey(drawn)
        mixings = []
        for zone, measured in zip(zones, inside):
            have = _covariance(drawn_detail, _flat(drawn_grey, measured))
            if source is not None and have is not None:
                eigen, vectors = np.linalg.eigh(strength * (source - have))
                mixing = vectors * np.sqrt(np.clip(eigen, 0.0, None))
                mixings.append((zone, mixing.astype(np.float32)))
        # One draw for all zones: where their soft edges meet, the noise stays continuous.
        z = np.random.default_rng(index).standard_normal(drawn.shape, dtype=np.float32)
        out = drawn.copy()
        for zone, mixing in mixings:
            out += (z @ mixing.T) * zone[..., None]
        return out

    def _follow_freshness(self, index: int, box: Box, detail: np.ndarray, flat: np.ndarray) -> None:
        """Update `fresh` from how much the fine detail of flat pixels changed since the
        neighbouring source frame (independent noise changes by twice its variance)."""
        previous, self._previous = self._previous, (index, box, detail)
        if previous is None or abs(previous[0] - index) != 1:
            return
        _, old_box, old_detail = previous
        both = box.intersect(old_box)
        here, there = both.within(box), both.within(old_box)
        pixels = flat[here]
        if pixels.sum() < MIN_PIXELS:
            return
        now = detail[here][pixels]
        change = now - old_detail[there][pixels]
        level = float((now * now).sum())
        if level <= 0:
            return
        ratio = float((change * change).sum()) / (2 * level)
        if ratio <= FRESH_MAX_RATIO:
            rate = FRESH_RATE if self._measured else 1.0
            self.fresh += rate * (min(ratio, 1.0) - self.fresh)
            self._measured = True
