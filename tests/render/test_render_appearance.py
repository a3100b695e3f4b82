"""Where the face comes into view within a shot, the edit fades in instead of popping."""

from __future__ import annotations

import dataclasses

import numpy as np

from videoretalk.render import MouthRenderer, lips
from videoretalk.render.composite import edit_strength

from .conftest import Clip


def test_strength_ramps_in_and_out_within_a_shot_only() -> None:
    present = np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1], bool)
    cuts = np.zeros(len(present), bool)
    strength = edit_strength(present, cuts, appear_frames=2)
    third = 1 / 3
    expected = [
        2 * third,
        third,
        0,
        0,
        third,
        2 * third,
        1,
        1,
        2 * third,
        third,
        0,
        third,
        2 * third,
    ]
    # Frames without the face are never rendered; their strength does not matter.
    np.testing.assert_allclose(strength[present], np.array(expected)[present], atol=1e-6)
    # A run that starts on a cut (or at the video's first frame) shows the edit at once.
    cuts[4] = True
    assert edit_strength(present, cuts, appear_frames=2)[4] == 1.0
    starts_the_video = np.array([1, 1, 1, 1, 1, 0], bool)
    no_cuts = np.zeros(len(starts_the_video), bool)
    assert edit_strength(starts_the_video, no_cuts, appear_frames=2)[0] == 1.0


def test_renderer_fades_the_edit_in_after_the_face_was_lost(talk1: Clip) -> None:
    lost = np.array(talk1.track.present, bool)
    lost[8:12] = False  # the face was not found for four frames, mid-shot
    track = dataclasses.replace(talk1.track, present=lost)
    renderer = MouthRenderer()
    renderer.prepare(track)
    for frame in talk1.frames:
        renderer.observe(frame)
    target = talk1.track.canonical[int(np.argmax(talk1.opening))][renderer.mouth_indices]
    change = []
    for k in range(12, 20):
        frame = talk1.frames[k]
        out = renderer.render(frame, k, target)
        change.append(float(np.abs(out.astype(np.int16) - frame.image).mean()))
    full = np.mean(change[5:])
    # 1/5, 2/5, ... of the edit over `appear_frames` (4), then all of it.
    assert change[0] < 0.4 * full
    assert change[0] < change[1] < change[2] < change[3] < change[4] * 1.05


def test_frames_of_a_fade_are_not_kept_as_exemplars(talk1: Clip) -> None:
    """A frame of a fade from black, sharper than its slot's other candidate and with lip
    colours within the colour tolerance of the person's (dark lips barely change in
    absolute terms), must still lose to it: scaled back up by the colour match it would
    bring its noise and blocking into every bright frame that uses it."""
    renderer = MouthRenderer()
    renderer.prepare(talk1.track)
    for frame in talk1.frames:
        renderer.observe(frame)
    bank = renderer.bank
    normal = bank[0]
    faded = dataclasses.replace(
        normal,
        image=(normal.image.astype(np.float32) * 0.7).astype(np.uint8),
        sharpness=normal.sharpness * 2,
    )
    median = np.median([lips.lip_colour(e.image, e.points) for e in bank], axis=0)
    dimmed = lips.lip_colour(faded.image, faded.points)
    assert np.abs(dimmed - median).max() <= lips.LIP_COLOUR_TOLERANCE  # colour alone passes it
    others = [[e] for e in bank[1:]]
    chosen = lips.consistent_bank([[faded, normal], *others])
    assert chosen[0] is normal
    assert len(chosen) == len(bank)
