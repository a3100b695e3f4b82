"""Captions burned in over the chin stay straight and whole; faces without one are left be."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from videoretalk.face.landmarks import CHIN
from videoretalk.media.decode import DecodedFrame
from videoretalk.render import MouthRenderer, RenderSettings
from videoretalk.render.exemplars import crop_sharpness
from videoretalk.render.overlay import OverlayFinder
from videoretalk.render.warp import Box, jaw_ring, lower_face_box, lower_face_polygon

from .conftest import Clip

TEXT = "so we met again at the station"


def _captioned(clip: Clip) -> tuple[list[DecodedFrame], np.ndarray, np.ndarray]:
    """The clip with a static white caption (black outline) across the chin, its white
    strokes and all its pixels (outline too)."""
    height, width = clip.frames[0].image.shape[:2]
    points = clip.track.landmarks[0]
    iod = float(np.linalg.norm(points[263, :2] - points[33, :2]))
    scale = iod / 120
    (text_w, _), _ = cv2.getTextSize(TEXT, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    origin = ((width - text_w) // 2, int(points[CHIN, 1] - 0.15 * iod))
    glyphs = np.zeros((height, width), np.uint8)
    cv2.putText(glyphs, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 2, cv2.LINE_AA)
    whole = np.zeros((height, width), np.uint8)
    cv2.putText(whole, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 8, cv2.LINE_AA)
    frames = []
    for f in clip.frames:
        image = f.image.copy()
        cv2.putText(image, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 8, cv2.LINE_AA)
        cv2.putText(image, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2)
        frames.append(DecodedFrame(f.index, f.time, image))
    return frames, glyphs > 128, whole > 0


def _grey(frame: DecodedFrame) -> np.ndarray:
    """The frame's luma as the engine hands it to the finder: the decoder's Y plane, in
    video range (16-235), not the full-range grey of its RGB."""
    full = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
    return cv2.convertScaleAbs(full, alpha=219 / 255, beta=16)


def _find(clip: Clip, frames: list[DecodedFrame]) -> OverlayFinder:
    finder = OverlayFinder(clip.track.landmarks, clip.track.present)
    for f in frames:
        finder.add(f.index, _grey(f))
    finder.finish()
    return finder


@pytest.fixture(scope="module")
def captioned(talk4: Clip) -> tuple[list[DecodedFrame], np.ndarray, np.ndarray]:
    return _captioned(talk4)


@pytest.fixture(scope="module")
def caption_finder(
    talk4: Clip, captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray]
) -> OverlayFinder:
    """The search run once over the captioned talk4, for the tests that look at its frames."""
    return _find(talk4, captioned[0])


def test_a_caption_over_the_chin_is_found_on_every_frame(
    talk4: Clip,
    captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray],
    caption_finder: OverlayFinder,
) -> None:
    """talk4's head moves and its jaw talks under a static caption: the caption's strokes
    over the lower face are found from the first frame on, and little else is."""
    for k in (0, 30, 60):
        recall, stray = _caption_found(talk4, captioned, caption_finder, k)
        assert recall >= 0.8, f"frame {k}: only {recall:.0%} of the caption's strokes found"
        assert stray <= 0.02, f"frame {k}: {stray:.1%} of the found pixels are not the caption"


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: a caption shown to the video's last frame takes in still hair "
    "beside the cheek (every still run ends with the video, and still edges chain to it)",
)
def test_a_caption_shown_to_the_last_frame_takes_in_nothing_else(
    talk4: Clip,
    captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray],
    caption_finder: OverlayFinder,
) -> None:
    """On the clip's last frame, 5.6 % of the found pixels are talk4's hair by her right
    cheek (on the decoder's luma; 0.5 % on the darker grey FFmpeg's fast RGB gave)."""
    recall, stray = _caption_found(talk4, captioned, caption_finder, 99)
    assert recall >= 0.8
    assert stray <= 0.02, f"{stray:.1%} of the found pixels are not the caption"


def _caption_found(
    clip: Clip,
    captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray],
    finder: OverlayFinder,
    k: int,
) -> tuple[float, float]:
    """On frame `k`: the share of the caption's strokes found by `finder`, and of the
    pixels it found that are not the caption's."""
    _, glyphs, whole = captioned
    near_caption = cv2.dilate(whole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    box = _face_box(clip, k)
    mask = finder.mask(k, box)
    assert mask is not None, f"frame {k}: no caption found"
    found = mask > 0
    strokes = glyphs[box.slice()]
    recall = (found & strokes).sum() / strokes.sum()
    stray = (found & ~near_caption[box.slice()]).sum() / found.sum()
    return float(recall), float(stray)


def test_faces_without_a_caption_have_none_found(talk4: Clip, talk1: Clip) -> None:
    """Lip lines, teeth, the jaw line against a collar and the background are still edges
    too; none of them is taken for a caption."""
    for clip in (talk4, talk1):
        assert _find(clip, clip.frames).segments == []


def _face_box(clip: Clip, k: int) -> Box:
    points = clip.track.landmarks[k]
    shape = clip.frames[k].image.shape
    return lower_face_box([lower_face_polygon(points, jaw_ring(points))], shape, margin=2)


def _render_all(
    clip: Clip, frames: list[DecodedFrame], settings: RenderSettings
) -> list[np.ndarray]:
    r = MouthRenderer(settings)
    r.prepare(clip.track)
    assert r.wants_every_frame == settings.keep_overlays
    for f in frames:
        r.observe_grey(f.index, _grey(f))
        r.observe(f)
    r.reset()
    widest = clip.track.canonical[int(np.argmax(clip.opening))][r.mouth_indices]
    closed = clip.track.canonical[int(np.argmin(clip.opening))][r.mouth_indices]
    # The source talks; the target holds a wide mouth, then a closed one: the jaw moves a lot.
    return [r.render(f, f.index, widest if (f.index // 10) % 2 else closed) for f in frames[:60]]


def test_the_caption_comes_out_unmoved_while_the_mouth_is_redrawn(
    talk4: Clip, captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray]
) -> None:
    frames, glyphs, _ = captioned
    kept = _render_all(talk4, frames, RenderSettings())
    bent = _render_all(talk4, frames, RenderSettings(keep_overlays=False))
    core = cv2.erode(glyphs.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    kept_err, bent_err, mouth_change = [], [], []
    for k, (a, b) in enumerate(zip(kept, bent, strict=True)):
        box = _face_box(talk4, k)
        strokes = np.zeros_like(core)
        strokes[box.slice()] = core[box.slice()]
        source = frames[k].image.astype(np.int16)
        kept_err.append(np.abs(a.astype(np.int16) - source)[strokes].mean())
        bent_err.append(np.abs(b.astype(np.int16) - source)[strokes].mean())
        lips = talk4.track.landmarks[k][[61, 291, 0, 17], :2]
        (x0, y0), (x1, y1) = lips.min(0).astype(int), lips.max(0).astype(int)
        mouth_change.append(np.abs(a.astype(np.int16) - source)[y0:y1, x0:x1].mean())
    # Without the search, the warp bends the letters (the check can fail) ...
    assert np.mean(bent_err) > 8, f"the caption was not disturbed to begin with: {bent_err}"
    # ... with it, the strokes come out as they went in, on every frame.
    assert max(kept_err) < 2.0, f"caption strokes changed by {max(kept_err):.1f} levels"
    # and the mouth is still re-drawn.
    assert np.median(mouth_change) > 5


def test_a_caption_does_not_decide_which_exemplars_are_kept(
    talk4: Clip, captioned: tuple[list[DecodedFrame], np.ndarray, np.ndarray]
) -> None:
    """Each slot keeps the sharper of two neighbouring frames; a caption's hard edges must
    not count as a sharp mouth once the caption is painted out."""
    r = MouthRenderer(RenderSettings())
    r.prepare(talk4.track)
    for f in captioned[0]:
        r.observe_grey(f.index, _grey(f))
        r.observe(f)
    bank = r.bank
    assert bank
    for e in bank:
        h, w = e.image.shape[:2]
        x, y = e.origin
        clean = crop_sharpness(talk4.frames[e.index].image[y : y + h, x : x + w], e.scale)
        # Painting out leaves a little of the letters' anti-aliased rim; unpainted, a
        # captioned crop of talk4 measures 20-100x its clean sharpness.
        assert e.sharpness < 3 * clean, f"frame {e.index}: {e.sharpness:.0f} against {clean:.0f}"
