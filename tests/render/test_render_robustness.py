"""Review fixes: a covered mouth stays covered; a dropped jaw never crosses its band."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from videoretalk.face.landmarks import CHIN, LOWER_LIP_OUTER_MID
from videoretalk.media.decode import DecodedFrame
from videoretalk.render import MouthRenderer, lips
from videoretalk.render.exemplars import Exemplar, ExemplarChooser
from videoretalk.render.topology import JAW
from videoretalk.render.warp import (
    MAX_CHIN_DROP_IOD,
    face_axes,
    jaw_ring,
    lips_in_frame,
    move_lower_face,
)

from .conftest import Clip, track_images

COVERED = range(10, 20)
JAW_LEFT_OF_CHIN, JAW_RIGHT_OF_CHIN = (
    172,
    397,
)  # mesh points on the jaw line, below the mouth corners
MICROPHONE_RGB = (40, 40, 45)


def _renderer(clip: Clip) -> MouthRenderer:
    r = MouthRenderer()
    r.prepare(clip.track)
    for f in clip.frames:
        r.observe(f)
    return r


def _cover_box(clip: Clip, k: int) -> tuple[slice, slice]:
    lips = clip.track.landmarks[k][[61, 291, 0, 17], :2]
    x0, x1 = int(lips[:, 0].min()) - 10, int(lips[:, 0].max()) + 10
    y0, y1 = int(lips[:, 1].min()) - 5, int(lips[:, 1].max()) + 25
    return slice(y0, y1), slice(x0, x1)


def test_an_object_over_the_mouth_stays_in_front(talk1: Clip) -> None:
    """A flat dark "microphone" over the mouth on some frames: its pixels come out unchanged."""
    r = _renderer(talk1)
    widest = r.mouth_indices
    target = talk1.track.canonical[int(np.argmax(talk1.opening))][widest]
    edited_after = []
    for k, frame in enumerate(talk1.frames[:30]):
        image = frame.image
        if k in COVERED:
            image = image.copy()
            image[_cover_box(talk1, k)] = MICROPHONE_RGB
        out = r.render(DecodedFrame(k, frame.time, image), k, target)
        if k in COVERED:
            box = _cover_box(talk1, k)
            assert np.array_equal(out[box], image[box]), (
                f"frame {k}: the covering object was drawn over"
            )
        elif k > COVERED.stop + 4:
            edited_after.append(not np.array_equal(out, image))
    # Once the object is gone (and the fade-in is over) the mouth is re-drawn again.
    assert all(edited_after)


def test_uncovered_frames_are_not_mistaken_for_covered(talk1: Clip) -> None:
    r = _renderer(talk1)
    target = talk1.track.canonical[int(np.argmax(talk1.opening))][r.mouth_indices]
    outs = [r.render(f, k, target) for k, f in enumerate(talk1.frames)]
    assert all(o is not f.image for o, f in zip(outs, talk1.frames))


def test_driven_jaw_cannot_drop_past_its_band(talk1: Clip) -> None:
    r = MouthRenderer()
    cur = talk1.track.landmarks[0].astype(np.float32)
    down, iod = face_axes(cur)
    target = cur[r.mouth_indices, :2].copy()
    in_jaw = np.isin(r.mouth_indices, JAW)
    target[in_jaw] += down * 1.0 * iod  # a whole inter-ocular distance: far past the ring
    moved = move_lower_face(cur, r.mouth_indices, target)
    drop = np.linalg.norm(moved[JAW] - cur[JAW, :2], axis=1)
    assert drop.max() <= MAX_CHIN_DROP_IOD * iod + 1e-3
    # Every jaw point stays on the face side of its fixed ring point: the band never folds.
    ring = jaw_ring(cur)
    outward = ring - cur[JAW, :2]
    assert (((ring - moved[JAW]) * outward).sum(1) > 0).all()
    # Small drops are followed (the limit is soft, not a dead zone).
    small = cur[r.mouth_indices, :2].copy()
    small[in_jaw] += down * 0.05 * iod
    moved = move_lower_face(cur, r.mouth_indices, small)
    driven_jaw = r.mouth_indices[in_jaw]
    assert np.allclose(moved[driven_jaw] - cur[driven_jaw, :2], down * 0.05 * iod, atol=0.01 * iod)


def test_recoloured_lips_are_not_taken_for_a_cover(talk1: Clip) -> None:
    """Lips lighter than in every exemplar (light, make-up, a lip line the tracker misses) are no
    cover: the source mouth is never pasted over the new one (the torn upper lip of issue 5)."""
    import cv2

    from videoretalk.render.settings import RenderSettings
    from videoretalk.render.topology import LIPS_OUTER

    guarded = _renderer(talk1)
    plain = MouthRenderer(RenderSettings(keep_occluders=False))
    plain.prepare(talk1.track)
    for f in talk1.frames:
        plain.observe(f)
    target = talk1.track.canonical[int(np.argmax(talk1.opening))][guarded.mouth_indices]
    for k, frame in enumerate(talk1.frames[:16]):
        image = frame.image
        if k >= 8:
            lips = np.zeros(image.shape[:2], np.uint8)
            cv2.fillPoly(
                lips, [np.round(talk1.track.landmarks[k][LIPS_OUTER, :2]).astype(np.int32)], 1
            )
            image = image.copy()
            image[lips > 0] = np.clip(image[lips > 0].astype(np.int16) + 70, 0, 255).astype(
                np.uint8
            )
        shown = DecodedFrame(k, frame.time, image)
        out = guarded.render(shown, k, target)
        assert np.array_equal(out, plain.render(shown, k, target)), (
            f"frame {k}: source lips kept over the new mouth"
        )


def _exemplar(index: int, opening: float, shift: float) -> Exemplar:
    """A bank entry that differs from others only in lip gap and shape feature."""
    feature = np.zeros((40, 2), np.float32)
    feature[:, 1] = shift
    return Exemplar(
        index,
        np.zeros((4, 4, 3), np.uint8),
        (0, 0),
        np.zeros((496, 2), np.float32),
        feature,
        opening,
        1.0,
    )


def test_a_wide_target_leaves_a_closed_exemplar_by_a_cut() -> None:
    """Hysteresis must not keep a barely open exemplar under a wide target (stretched lips),
    and the change is a cut: a fade between a dark gap and teeth shows ghost teeth."""
    # Two exemplars whose shape features differ by less than the switching cost.
    bank = [_exemplar(0, 0.03, 0.0), _exemplar(1, 0.07, 0.008)]
    chooser = ExemplarChooser(bank, switch_cost=0.012, crossfade_frames=4)
    closed, wide = bank[0].feature, bank[1].feature
    assert chooser.choose(closed, 0.03) == (0, None, 1.0)
    assert chooser.choose(wide, 0.07) == (1, None, 1.0)


def test_a_cross_fade_between_like_mouths_holds_its_choice() -> None:
    # Gaps alike (within the tolerance the warp stretches invisibly), shapes apart.
    bank = [_exemplar(0, 0.03, 0.0), _exemplar(1, 0.04, 0.02)]
    chooser = ExemplarChooser(bank, switch_cost=0.012, crossfade_frames=4)
    closed, wide = bank[0].feature, bank[1].feature
    assert chooser.choose(closed, 0.03)[0] == 0
    assert chooser.choose(wide, 0.04) == (1, 0, 0.25)
    # While that cross-fade runs the choice holds, even when the target swings back.
    current, previous, _ = chooser.choose(closed, 0.03)
    assert (current, previous) == (1, 0)


def test_crossed_or_swollen_target_lips_are_made_plausible(talk1: Clip) -> None:
    """Inner upper lip below the inner lower one, a lip three times as thick: fixed before warping."""
    from videoretalk.render.lips import plausible_lips

    r = _renderer(talk1)
    assert r._lip_limits is not None
    down, lo, hi = r._lip_limits
    rows = r._lip_rows
    k = int(np.argmax(talk1.opening))
    target = talk1.track.canonical[k][r.mouth_indices].copy()
    assert np.array_equal(
        plausible_lips(target, rows, *r._lip_limits)[:, :2], target[:, :2]
    )  # a real shape stays
    bad = target.copy()
    bad[rows[1], :2] = target[rows[2], :2] + 0.03 * down  # inner upper 0.03 iod below inner lower
    bad[rows[0], :2] = bad[rows[1], :2] - 3 * (hi[: len(rows[0])])[:, None] * down  # and very thick
    fixed = plausible_lips(bad, rows, *r._lip_limits)[:, :2]
    assert ((fixed[rows[2]] - fixed[rows[1]]) @ down >= -1e-6).all()
    upper = (fixed[rows[1]] - fixed[rows[0]]) @ down
    assert (upper <= hi[: len(rows[0])] + 1e-5).all() and (upper >= lo[: len(rows[0])] - 1e-5).all()
    # The renderer applies it: the bad target renders exactly as the fixed one.
    frame = talk1.frames[k]
    full_fixed = bad.copy()
    full_fixed[:, :2] = fixed
    r.reset()
    once = r.render(frame, k, bad)
    r.reset()
    assert np.array_equal(once, r.render(frame, k, full_fixed))


def test_a_chin_cut_by_the_frame_edge_does_not_mirror_into_view(talk4: Clip) -> None:
    """The frame ends between the lower lip and the chin (a tight crop) and a wide-open
    mouth is closed: the jaw rises, so the bottom rows must show skin from beyond the edge,
    which the frame does not hold. Mirroring the frame there brought shapes from above the
    edge back upside down (the chin's highlight as a pale notch); repeating the edge row
    continues the skin as it meets the edge."""
    widest, closed = int(np.argmax(talk4.opening)), int(np.argmin(talk4.opening))
    lm = talk4.track.landmarks[widest]
    bottom = int((lm[LOWER_LIP_OUTER_MID, 1] + lm[CHIN, 1]) / 2)
    cut = [
        DecodedFrame(f.index, f.time, np.ascontiguousarray(f.image[:bottom])) for f in talk4.frames
    ]
    clip = Clip(cut, track_images(f.image for f in cut), talk4.opening)
    assert clip.track.present.all()
    r = _renderer(clip)
    target = clip.track.canonical[closed][r.mouth_indices]
    # A white line 6-8 px above the edge, across the chin: mirrored, it would show again in
    # the last rows.
    image = cut[widest].image.copy()
    x0, x1 = int(lm[JAW_LEFT_OF_CHIN, 0]), int(lm[JAW_RIGHT_OF_CHIN, 0])
    image[bottom - 8 : bottom - 6, x0:x1] = 255
    out = r.render(DecodedFrame(widest, cut[widest].time, image), widest, target)
    assert not np.array_equal(out[bottom - 40 :], image[bottom - 40 :])  # the jaw did move
    assert (out[bottom - 5 :, x0:x1].min(axis=2) > 240).sum() == 0


def test_a_close_up_takes_its_mouths_from_frames_where_the_face_is_as_large(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A video cutting between a wide shot and a close-up: a wide-shot exemplar, enlarged
    2.2x into the close-up, is a soft mouth. The chooser takes a close-up exemplar a little
    further in shape instead; in the wide shot either serves (one is only made smaller)."""
    wide = dataclasses.replace(_exemplar(0, 0.05, 0.000), scale=56.0)  # the shape itself
    close = dataclasses.replace(_exemplar(1, 0.05, 0.010), scale=125.0)  # a near shape
    target = np.zeros((40, 2), np.float32)
    in_close_up = ExemplarChooser([wide, close], switch_cost=0.012, crossfade_frames=4)
    assert in_close_up.choose(target, 0.05, scale=125.0)[0] == 1
    in_wide_shot = ExemplarChooser([wide, close], switch_cost=0.012, crossfade_frames=4)
    assert in_wide_shot.choose(target, 0.05, scale=56.0)[0] == 0
    # A slot keeps the candidate from the larger face, though the smaller one is sharper
    # (their lips alike in colour and level).
    monkeypatch.setattr(lips, "lip_colour", lambda image, points: np.array([0.6, 0.35, 0.35]))
    sharper_small = dataclasses.replace(wide, sharpness=50.0)
    assert lips.consistent_bank([[sharper_small, close]]) == [close]


def test_lips_cut_by_the_frame_edge_are_left_as_they_are(talk4: Clip) -> None:
    """A close-up whose bottom edge crosses the lips in some frames: the lips beyond the
    edge are not there to move, and re-drawing them (or lending such a frame's mouth as an
    exemplar) repeated the edge row into vertical streaks across the mouth. Those frames
    are left as they are; the others are still re-drawn, from exemplars whose lips the
    frame holds whole."""
    lower_lip = talk4.track.landmarks[:, LOWER_LIP_OUTER_MID, 1]
    bottom = int(np.median(lower_lip))
    cut = [
        DecodedFrame(f.index, f.time, np.ascontiguousarray(f.image[:bottom])) for f in talk4.frames
    ]
    track = track_images(f.image for f in cut)
    clip = Clip(cut, track, talk4.opening)
    whole = lips_in_frame(track.landmarks, track.frame_size) & track.present
    assert 10 <= whole.sum() <= len(cut) - 10  # the edge crosses the lips in some frames only
    r = _renderer(clip)
    assert r.bank and all(whole[ex.index] for ex in r.bank)
    widest = int(np.argmax(talk4.opening))
    target = track.canonical[widest][r.mouth_indices]
    for i in np.flatnonzero(track.present):
        out = r.render(cut[i], int(i), target)
        assert (out is cut[i].image) == (not whole[i]), i
