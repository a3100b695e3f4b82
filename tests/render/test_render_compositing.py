"""Renderer contract: untouched where it must be, still where it should be, never aborting."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from videoretalk.errors import InvalidParameter
from videoretalk.media.decode import DecodedFrame
from videoretalk.render import MouthRenderer, RenderSettings
from videoretalk.render.topology import CHIN, JAW, LIPS_INNER, LIPS_OUTER, NOSE_BOTTOM

from .conftest import Clip


def _renderer(clip: Clip, **kw: object) -> MouthRenderer:
    r = MouthRenderer(RenderSettings(**kw))  # type: ignore[arg-type]
    r.prepare(clip.track)
    for f in clip.frames:
        r.observe(f)
    return r


def _shape(clip: Clip, r: MouthRenderer, i: int) -> np.ndarray:
    return clip.track.canonical[i][r.mouth_indices].copy()


def test_frames_without_face_are_returned_bit_identical(talk1: Clip) -> None:
    present = talk1.track.present.copy()
    present[3] = False
    track = dataclasses.replace(talk1.track, present=present)
    r = _renderer(Clip(talk1.frames, track, talk1.opening))
    frame = talk1.frames[3]
    out = r.render(frame, 3, _shape(talk1, r, int(np.argmax(talk1.opening))))
    assert out is frame.image


def test_black_frame_with_no_face_passes_through(talk1: Clip) -> None:
    from render_support import track_images

    black = np.zeros((480, 640, 3), np.uint8)
    track = track_images([black])
    assert not track.present[0]
    r = MouthRenderer()
    r.prepare(track)
    r.observe(DecodedFrame(0, 0.0, black))
    out = r.render(DecodedFrame(0, 0.0, black), 0, np.zeros((len(r.mouth_indices), 3), np.float32))
    assert np.array_equal(out, black)


def test_pixels_outside_the_lower_face_are_unchanged(talk1: Clip) -> None:
    r = _renderer(talk1)
    i = int(np.argmin(talk1.opening))
    j = int(np.argmax(talk1.opening))
    frame = talk1.frames[i]
    out = r.render(frame, i, _shape(talk1, r, j))
    changed = np.any(out != frame.image, axis=2)
    assert changed.sum() > 500, "a wide-open target on a closed mouth must change pixels"
    lm = talk1.track.landmarks[i]
    ys, xs = np.nonzero(changed)
    # Nothing above the nostrils, nothing beyond the jaw line's sides plus the feather ring.
    assert ys.min() >= lm[NOSE_BOTTOM, 1] - 0.25 * (lm[CHIN, 1] - lm[NOSE_BOTTOM, 1])
    jaw = lm[JAW, :2]
    width = jaw[:, 0].max() - jaw[:, 0].min()
    assert xs.min() >= jaw[:, 0].min() - 0.25 * width
    assert xs.max() <= jaw[:, 0].max() + 0.25 * width
    assert out.shape == frame.image.shape and out.dtype == np.uint8


def test_mouth_opens_where_target_opens(talk1: Clip) -> None:
    r = _renderer(talk1)
    i = int(np.argmin(talk1.opening))
    j = int(np.argmax(talk1.opening))
    out = r.render(talk1.frames[i], i, _shape(talk1, r, j))
    from render_support import inner_opening, track_images

    measured = inner_opening(track_images([out]).canonical)[0]
    assert measured > talk1.opening[i] + 0.5 * (talk1.opening[j] - talk1.opening[i])


def test_closed_still_target_gives_a_still_mouth(talk1: Clip) -> None:
    """The source speaks; driven with one closed shape, the mouth must stop moving."""
    from render_support import mouth_patches

    r = _renderer(talk1)
    closed = _shape(talk1, r, int(np.argmin(talk1.opening)))
    outs = [r.render(f, k, closed) for k, f in enumerate(talk1.frames)]

    def motion(images: list[np.ndarray]) -> float:
        return float(np.abs(np.diff(mouth_patches(talk1.track, images), axis=0)).mean())

    assert motion(outs) < 0.7 * motion([f.image for f in talk1.frames])


def test_repeated_frame_with_constant_target_is_identical(talk1: Clip) -> None:
    r = _renderer(talk1)
    target = _shape(talk1, r, 20)
    outs = [r.render(talk1.frames[5], 5, target) for _ in range(6)]
    assert all(np.array_equal(outs[-1], o) for o in outs[-3:])


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(InvalidParameter):
        RenderSettings(bank_size=0)
    with pytest.raises(InvalidParameter):
        RenderSettings(mouth_feather_iod=-0.1)


def test_wrong_target_shape_is_a_programming_error(talk1: Clip) -> None:
    r = _renderer(talk1)
    with pytest.raises(ValueError):
        r.render(talk1.frames[0], 0, np.zeros((3, 3), np.float32))
    nan = np.full((len(r.mouth_indices), 3), np.nan, np.float32)
    assert np.array_equal(r.render(talk1.frames[0], 0, nan), talk1.frames[0].image)


def _painted_wide_open(clip: Clip, brightness: float = 1.0) -> tuple[np.ndarray, float]:
    """Luma inside a wide target mouth rendered from closed exemplars only, and lip luma.

    `brightness` scales the clip's frames (a dimly lit video) before anything sees them.
    """
    import cv2

    from videoretalk.render.topology import LIPS_OUTER

    frames = [
        DecodedFrame(f.index, f.time, np.clip(f.image * brightness, 0, 255).astype(np.uint8))
        for f in clip.frames
    ]
    closed = np.flatnonzero(clip.opening <= np.percentile(clip.opening, 25))
    r = MouthRenderer()
    r.prepare(clip.track, exemplar_frames=closed)
    for f in frames:
        r.observe(f)
    i = int(closed[0])
    j = int(np.argmax(clip.opening))
    out = r.render(frames[i], i, _shape(clip, r, j))
    target_pts = clip.track.to_image(i, clip.track.canonical[j])
    inner, lips = np.zeros(out.shape[:2], np.uint8), np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.round(target_pts[LIPS_INNER, :2]).astype(np.int32)], 1)
    cv2.fillPoly(lips, [np.round(target_pts[LIPS_OUTER, :2]).astype(np.int32)], 1)
    lips = cv2.erode(
        lips & ~cv2.dilate(inner, np.ones((5, 5), np.uint8)), np.ones((3, 3), np.uint8)
    )
    inner = cv2.erode(inner, np.ones((5, 5), np.uint8))
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    return out[inner > 0].astype(np.float32) @ weights, float(
        np.median(out[lips > 0].astype(np.float32) @ weights)
    )


def test_interior_is_painted_when_the_source_never_opens(talk1: Clip) -> None:
    # The opening, where the target puts it: not a black hole, not a flat smear.
    luma, lip = _painted_wide_open(talk1)
    assert len(luma) > 50
    # Measured: the brightest painted tooth is 1.18 x the lips' median luma (1.22 on the
    # frames FFmpeg's fast conversion gave, a level darker everywhere).
    assert luma.max() > 1.15 * lip, "teeth (brighter than the lips) expected in a wide mouth"
    assert luma.min() < 0.8 * lip, "a darker cavity expected behind the teeth"


def test_painted_teeth_follow_the_lighting_of_a_dim_video(talk1: Clip) -> None:
    """Teeth the source never shows are painted as bright as its lighting allows.

    (A fixed off-white was 4-5x the lip luma in a video at 45 % brightness: a glowing band.)
    """
    luma, lip = _painted_wide_open(talk1, brightness=0.45)
    assert 1.2 * lip < luma.max() < 2.2 * lip
    assert luma.min() < 0.8 * lip


def test_lips_barely_parted_from_a_shut_exemplar_are_painted_apart() -> None:
    """A small gap (0.02-0.04 inter-ocular) driven from shut lips is painted, not stretched.

    (Stretched, the shut lip line showed as a dark vertical crease and read as closed.)
    """
    from videoretalk.render.interior import interior_weight

    assert interior_weight(exemplar_opening=0.002, target_opening=0.04) == 1.0
    assert interior_weight(exemplar_opening=0.002, target_opening=0.025) > 0.3
    # Lips still shut, or an exemplar nearly as open as the target: nothing painted.
    assert interior_weight(exemplar_opening=0.002, target_opening=0.01) == 0.0
    assert interior_weight(exemplar_opening=0.03, target_opening=0.045) == 0.0


def test_a_thin_painted_gap_is_shadow_a_wide_one_shows_teeth(talk1: Clip) -> None:
    """Teeth in a gap a few px tall sit in the upper lip's shadow: no bright band. And
    toward its corners, where the lips are under a pixel apart, nothing is painted: no
    dark line drawn corner to corner."""
    from videoretalk.render import interior
    from videoretalk.render.topology import INNER_CORNERS
    from videoretalk.render.warp import lower_face_box

    teeth = np.array([0.9, 0.88, 0.85], np.float32)
    lip = np.array([0.6, 0.35, 0.35], np.float32)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    shut, wide = int(np.argmin(talk1.opening)), int(np.argmax(talk1.opening))
    brightest, across = {}, {}
    for share in (0.2, 1.0):  # of the way from shut to the widest frame
        canonical = talk1.track.canonical
        points = talk1.track.to_image(
            shut, canonical[shut] + share * (canonical[wide] - canonical[shut])
        )
        box = lower_face_box([points[LIPS_INNER]], talk1.frames[shut].image.shape, margin=3)
        painted, alpha = interior.paint_interior(points, box.shape, teeth, lip, (box.x0, box.y0))
        inside = painted[alpha > 0.5] @ luma / (255 * float(teeth @ luma))
        assert len(inside) > 30
        brightest[share] = float(inside.max())
        xs = np.nonzero(alpha > 0.5)[1]
        corners = points[list(INNER_CORNERS), :2]
        across[share] = (xs.max() - xs.min() + 1) / float(np.linalg.norm(corners[1] - corners[0]))
    assert brightest[0.2] < 0.5, "a thin gap painted with bright teeth"
    assert brightest[1.0] > 0.9, "a wide gap without teeth"
    assert across[0.2] < 0.85 and across[1.0] > 0.9


def _band_above_upper_lip(image: np.ndarray, lm: np.ndarray) -> float:
    """Lightness (CIELAB L, 0-255) of the skin just above the upper lip minus the skin above it."""
    import cv2

    from videoretalk.render.topology import LIPS_OUTER, OUTER_UPPER
    from videoretalk.render.warp import face_axes

    _, iod = face_axes(lm)
    h, w = image.shape[:2]
    outside = np.full((h, w), 255, np.uint8)
    cv2.fillPoly(outside, [np.round(lm[LIPS_OUTER, :2]).astype(np.int32)], 0)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
    ys, xs = np.mgrid[0:h, 0:w]
    x0, x1 = lm[OUTER_UPPER, 0].min(), lm[OUTER_UPPER, 0].max()
    middle = (
        (xs > x0 + 0.25 * (x1 - x0))
        & (xs < x1 - 0.25 * (x1 - x0))
        & (ys < lm[OUTER_UPPER, 1].max())
    )
    lightness = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    band = middle & (dist > 0.01 * iod) & (dist < 0.06 * iod)
    above = middle & (dist > 0.08 * iod) & (dist < 0.14 * iod)
    return float(lightness[band].mean() - lightness[above].mean())


def test_no_pale_arc_above_an_upper_lip_driven_open(talk4: Clip) -> None:
    """A closed frame driven wide open must not get the exemplar frame's skin as a pale arc.

    Pasting the exemplar 0.05 + 0.08 inter-ocular beyond the lip line in this direction too
    (the first renderer) made the skin just above the upper lip 8-14 L brighter than the
    skin above it on these frames.
    """
    from render_support import track_images

    r = _renderer(talk4)
    wide = int(np.argmax(talk4.opening))
    exemplar_band = _band_above_upper_lip(talk4.frames[wide].image, talk4.track.landmarks[wide])
    for i in np.argsort(talk4.opening)[:3]:
        r.reset()
        out = r.render(talk4.frames[i], int(i), _shape(talk4, r, wide))
        source_band = _band_above_upper_lip(talk4.frames[i].image, talk4.track.landmarks[i])
        out_band = _band_above_upper_lip(out, track_images([out]).landmarks[0])
        assert out_band <= max(source_band, exemplar_band) + 3.0, (int(i), out_band, source_band)


def test_exemplar_paste_margin_applies_only_when_closing_a_mouth(talk4: Clip) -> None:
    """Closing an open source mouth, the exemplar covers the squeezed lip edges beyond the
    lip line (`mouth_margin_iod`); opening a closed one, it stops at the line (pale arc)."""
    wide, closed = int(np.argmax(talk4.opening)), int(np.argmin(talk4.opening))

    def render(margin: float, i: int, j: int) -> np.ndarray:
        r = _renderer(talk4, mouth_margin_iod=margin)
        return r.render(talk4.frames[i], i, _shape(talk4, r, j))

    closing = np.abs(render(0.05, wide, closed).astype(int) - render(0.0, wide, closed))
    assert (closing.max(axis=2) > 8).sum() > 50, "closing: the margin must widen the paste"
    opening = np.abs(render(0.05, closed, wide).astype(int) - render(0.0, closed, wide))
    assert opening.max() <= 1, "opening: the exemplar must stop at the lip line"


def _lip_colour_below(out: np.ndarray, target_pts: np.ndarray) -> float:
    """Lip colour (LAB a*) in a band 0.08-0.2 inter-ocular below the target's lower lip,
    over that of the chin beyond it (0.25-0.35): the warped frame's own lower lip showing
    below the new one raises it."""
    import cv2

    from videoretalk.render import composite
    from videoretalk.render.topology import LIPS_OUTER, OUTER_CORNERS
    from videoretalk.render.warp import face_axes

    h, w = out.shape[:2]
    dist = composite.outside_distance(target_pts[LIPS_OUTER, :2], (h, w), (0, 0))
    down, iod = face_axes(target_pts)
    centre = target_pts[list(OUTER_CORNERS), :2].mean(0)
    ys, xs = np.mgrid[0:h, 0:w]
    below = (xs - centre[0]) * down[0] + (ys - centre[1]) * down[1] > 0
    redness = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)
    band = below & (dist > 0.08 * iod) & (dist < 0.2 * iod)
    chin = below & (dist > 0.25 * iod) & (dist < 0.35 * iod)
    return float(redness[band].mean() - redness[chin].mean())


def test_a_wide_open_lower_lip_closed_leaves_no_lip_edge_below(
    seated_vertical: Clip, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wide-open source mouth (0.37-0.39) closed to 0.17: the frame's own lower lip, which
    reaches below the mesh's outer-lip points here, showed as a pink band with an edge 0.1
    inter-ocular under the new lip. Where the warped frame is redder there than the pasted
    exemplar, the exemplar covers it (measured 2.7 / 2.1 against 3.3 / 2.6 without)."""
    from videoretalk.render import lips

    clip = seated_vertical

    def lip_colour(i: int, j: int) -> float:
        r = _renderer(clip)
        shape = _shape(clip, r, j)
        full = clip.track.canonical[i].copy()
        full[r.mouth_indices] = shape
        return _lip_colour_below(r.render(clip.frames[i], i, shape), clip.track.to_image(i, full))

    covered = [lip_colour(i, 13) for i in (20, 22)]
    monkeypatch.setattr(lips, "LOWER_LIP_REDNESS", (np.inf, 1.0))
    uncovered = [lip_colour(i, 13) for i in (20, 22)]
    for with_cover, without in zip(covered, uncovered, strict=True):
        assert with_cover < without - 0.3, (covered, uncovered)


def _bright_at_the_lip_line(out: np.ndarray, target_pts: np.ndarray, reach_px: int = 2) -> float:
    """Share of pixels within `reach_px` of the target's inner-lip line (middle 60 % of the
    mouth) brighter than 1.25x the lips' median luma: teeth, not lips."""
    import cv2

    from videoretalk.render.topology import LIPS_OUTER

    h, w = out.shape[:2]
    inner, lips = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    loop = [np.round(target_pts[LIPS_INNER, :2]).astype(np.int32)]
    cv2.fillPoly(inner, loop, 1)
    cv2.polylines(inner, loop, True, 1)
    cv2.fillPoly(lips, [np.round(target_pts[LIPS_OUTER, :2]).astype(np.int32)], 1)
    line = cv2.dilate(inner, np.ones((2 * reach_px + 1,) * 2, np.uint8)) > 0
    x0, x1 = target_pts[LIPS_OUTER, 0].min(), target_pts[LIPS_OUTER, 0].max()
    xs = np.arange(w)[None, :]
    middle = (lips > 0) & (xs > x0 + 0.2 * (x1 - x0)) & (xs < x1 - 0.2 * (x1 - x0))
    luma = out.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return float((luma[middle & line] > 1.25 * np.median(luma[middle & ~line])).mean())


def test_lips_closed_from_open_exemplars_only_show_no_teeth(talk4: Clip) -> None:
    """A source that never shows the mouth shut (a still of an open mouth) driven closed.

    Squeezing an open exemplar shut folds its teeth into a jagged white line along the
    lips (22-30 % of the pixels there teeth-bright on talk4); the painted seam shows lip
    colour meeting along a dark line (0-2 %), and covers the specks a little beyond it.
    """
    wide = np.flatnonzero(talk4.opening >= np.percentile(talk4.opening, 90))

    def bright(closed: int, i: int, reach_px: int = 2, **kw: object) -> float:
        r = MouthRenderer(RenderSettings(**kw))  # type: ignore[arg-type]
        r.prepare(talk4.track, exemplar_frames=wide)
        for f in talk4.frames:
            r.observe(f)
        shape = _shape(talk4, r, closed)
        out = r.render(talk4.frames[i], i, shape)
        full = talk4.track.canonical[i].copy()
        full[r.mouth_indices] = shape
        return _bright_at_the_lip_line(out, talk4.track.to_image(i, full), reach_px)

    farther = []
    for closed in np.argsort(talk4.opening)[:2]:
        for i in (int(wide[0]), int(wide[-1])):
            squeezed = bright(int(closed), i, synthesise_interior=False)
            assert squeezed > 0.15, "the squeezed exemplar's teeth are what this guards"
            assert bright(int(closed), i) < 0.05, (int(closed), i)
            farther.append(bright(int(closed), i, reach_px=5))
    # Specks of teeth 2-5 px past the line, inside the lips, are covered too (2-7 % before).
    assert np.mean(farther) < 0.015, farther


@pytest.mark.parametrize(
    ("fade", "name"),
    [(lambda im: im * 0.3, "from black"), (lambda im: im * 0.2 + 0.8 * 255, "to white")],
)
def test_a_fading_frame_gets_a_mouth_faded_like_itself(talk1: Clip, fade, name: str) -> None:
    """The exemplars are the video's unfaded frames; this frame fades from black (30 %) or
    to white (80 %). The pasted mouth must fade like the frame: an additive shift measured
    on the skin took dark lips and the mouth's inside below black fading from black
    (black lips with a blue cast), and a gain left them dark on a face gone pale."""
    r = _renderer(talk1)
    shut, wide = int(np.argmin(talk1.opening)), int(np.argmax(talk1.opening))
    frame = talk1.frames[shut]
    faded = np.clip(fade(frame.image.astype(np.float32)), 0, 255).astype(np.uint8)
    out = r.render(DecodedFrame(shut, frame.time, faded), shut, _shape(talk1, r, wide))
    lips = talk1.track.landmarks[shut][list(LIPS_OUTER), :2]
    x0, y0 = (lips.min(axis=0) - 10).astype(int)
    x1, y1 = (lips.max(axis=0) + 10).astype(int)
    before, after = faded[y0:y1, x0:x1].astype(np.float32), out[y0:y1, x0:x1].astype(np.float32)
    assert not np.array_equal(before, after), name  # the mouth was re-drawn (opened)
    # As light or dark as the faded frame around the mouth, and as flat: the faded
    # source's own spread is a fifth to a third of the unfaded one's.
    assert 0.85 < after.mean() / before.mean() < 1.15, (name, after.mean(), before.mean())
    assert after.std() < 2.0 * before.std(), (name, after.std(), before.std())
    crushed = (after.min(axis=2) == 0).mean()  # pixels with a channel at black
    assert crushed < 0.02, (name, crushed)
