"""predict_mouth_motion on synthetic audio: silence, bursts, frame timing, the person."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from videoretalk.audio.features import sample_at
from videoretalk.errors import InvalidParameter
from videoretalk.face.landmarks import LOWER_LIP_RINGS, UPPER_LIP_RINGS
from videoretalk.media.decode import AudioTrack, read_audio
from videoretalk.motion import (
    MOUTH_REGION,
    MotionSettings,
    load_model,
    mouth_opening,
    predict_mouth_motion,
)
from videoretalk.motion.adapt import adapt_to_speaker, best_lag, generic_opening_grid
from videoretalk.motion.model import analyse_for_model
from videoretalk.motion.predict import closed_rest, speech_gate
from videoretalk.motion.shape import INNER_GAP_PAIRS, JAW_FOLLOWS, UPPER_LIP_SHARE

CLOSED_TOL = 1e-5


@dataclass
class FakeTrack:
    frame_times: np.ndarray
    present: np.ndarray
    canonical: np.ndarray


def voiced(
    seconds: float, start: float, stop: float, rate: int = 44_100, channels: int = 2
) -> AudioTrack:
    """A speech-like burst (pulse train with formant peaks, syllable-rate envelope) in silence."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(
        np.sin(2 * np.pi * f * t) / k for k, f in enumerate((130, 260, 390, 650, 1000, 2300), 1)
    )
    env = ((t >= start) & (t < stop)) * (
        0.55 + 0.45 * np.sin(2 * np.pi * 4 * (t - start) - np.pi / 2)
    )
    return AudioTrack(np.tile((0.25 * x * env).astype(np.float32), (channels, 1)), rate)


def tone(
    seconds: float, start: float, stop: float, hz: float = 440.0, rate: int = 16_000
) -> AudioTrack:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * hz * t) * ((t >= start) & (t < stop))
    return AudioTrack(x[None].astype(np.float32), rate)


def person_track(n: int = 100) -> FakeTrack:
    """A person whose rest mouth is wider and lower than the generic one."""
    rest = load_model().rest_shape.copy()
    rest[MOUTH_REGION, 0] *= 1.1
    rest[MOUTH_REGION, 1] += 0.03
    canon = np.broadcast_to(rest, (n, 478, 3)).copy()
    return FakeTrack(np.arange(n) / 25.0, np.ones(n, bool), canon)


@pytest.mark.parametrize("with_face", [False, True])
def test_digital_silence_rests_closed_on_every_frame(with_face: bool) -> None:
    audio = AudioTrack(np.zeros((2, 48_000 * 4), np.float32), 48_000)
    times = np.arange(100) / 25.0
    track = person_track() if with_face else None
    motion = predict_mouth_motion(audio, times, track)
    rest = (track.canonical[0] if track else load_model().rest_shape)[MOUTH_REGION]
    assert np.abs(motion.shapes - rest[None]).max() < CLOSED_TOL
    assert not motion.speech.any()
    assert np.ptp(motion.opening) < CLOSED_TOL


@pytest.mark.parametrize(
    "audio",
    [voiced(4.0, 1.5, 2.5), tone(4.0, 1.5, 2.5), tone(4.0, 1.5, 2.5, 200.0)],
    ids=["speechlike", "tone", "low tone"],
)
def test_burst_opens_mouth_inside_its_window_only(audio: AudioTrack) -> None:
    times = np.arange(100) / 25.0
    motion = predict_mouth_motion(audio, times)
    settings = MotionSettings()
    rest_open = motion.opening[0]
    outside = (times < 1.5 - settings.lead_s - 0.04) | (times > 2.5 + settings.release_s + 0.04)
    assert np.abs(motion.opening[outside] - rest_open).max() < CLOSED_TOL
    inside = (times > 1.6) & (times < 2.4)
    assert motion.speech[inside].mean() > 0.8
    assert (motion.opening[inside] - rest_open).max() > 0.02  # visibly open somewhere


@dataclass
class FakeFeatures:
    speech: np.ndarray  # what speech_gate reads of AudioFeatures


def test_speech_gate_opens_and_closes_smoothly_inside_its_window() -> None:
    settings = MotionSettings()
    lead, release = round(settings.lead_s / 0.01), round(settings.release_s / 0.01)
    speech = np.zeros(200, bool)
    speech[80:120] = True  # 10 ms steps: 0.4 s of speech
    gate = speech_gate(FakeFeatures(speech), settings)
    assert not gate[: 80 - lead].any() and not gate[120 + release :].any()
    assert (gate[90:110] == 1.0).all()
    rise, fall = gate[80 - lead : 90], gate[110 : 120 + release]
    assert (np.diff(rise) >= 0).all() and (np.diff(fall) <= 0).all()
    # Several steps between shut and open at each edge: no one-frame snap at 25 fps.
    for edge in (rise, fall):
        assert ((edge > 0.05) & (edge < 0.95)).sum() >= 3
    # Audio that starts and ends mid-speech needs no ramp at its ends.
    assert (speech_gate(FakeFeatures(np.ones(50, bool)), settings) == 1.0).all()


@pytest.mark.parametrize("fps", [24.0, 25.0, 30_000 / 1001, 30.0, 60.0, None])
def test_output_matches_frame_times_exactly(fps: float | None) -> None:
    rng = np.random.default_rng(7)
    if fps is None:  # variable frame rate: jittered gaps between 15 and 45 ms
        times = np.cumsum(np.r_[0.0, rng.uniform(0.015, 0.045, 150)])
    else:
        times = np.arange(int(3.0 * fps)) / fps
    motion = predict_mouth_motion(voiced(3.2, 0.5, 2.5), times)
    assert np.array_equal(motion.frame_times, times)
    assert motion.frame_times.dtype == np.float64
    assert motion.shapes.shape == (times.size, MOUTH_REGION.size, 3)
    assert motion.shapes.dtype == np.float32
    assert np.array_equal(motion.point_indices, MOUTH_REGION)
    assert motion.opening.shape == motion.speech.shape == (times.size,)
    assert np.isfinite(motion.shapes).all()


def test_frames_past_the_audio_rest() -> None:
    times = np.arange(150) / 25.0  # 6 s of video, 2 s of audio
    motion = predict_mouth_motion(voiced(2.0, 0.2, 2.0), times)
    assert np.ptp(motion.opening[times > 2.2]) < CLOSED_TOL


def test_shapes_are_relative_to_the_person() -> None:
    track = person_track()
    motion = predict_mouth_motion(voiced(4.0, 1.0, 3.0), np.arange(100) / 25.0, track)
    rest = track.canonical[0, MOUTH_REGION]
    assert np.abs(motion.shapes[0] - rest).max() < CLOSED_TOL
    generic = predict_mouth_motion(voiced(4.0, 1.0, 3.0), np.arange(100) / 25.0)
    assert np.abs(motion.shapes[0] - generic.shapes[0]).max() > 0.01


# Lower lip (inner and outer) and chin: moved down together, they part the lips.
LOWER_LIP_AND_CHIN = [14, 87, 317, 178, 402, 95, 88, 324, 318, 17, 84, 314, 152]


def open_still_track(n: int = 100, drop: float = 0.12) -> FakeTrack:
    """A photo of a person mid-word: every frame the same, lips well apart."""
    rest = load_model().rest_shape.copy()
    rest[LOWER_LIP_AND_CHIN, 1] += drop
    return FakeTrack(
        np.arange(n) / 25.0, np.ones(n, bool), np.broadcast_to(rest, (n, 478, 3)).copy()
    )


def test_a_still_of_an_open_mouth_rests_closed_in_silence_and_still_talks() -> None:
    track = open_still_track()
    assert mouth_opening(track.canonical[:1])[0] > 0.1
    times = np.arange(100) / 25.0
    closed = mouth_opening(load_model().rest_shape[None])[0]
    silence = AudioTrack(np.zeros((2, 48_000 * 4), np.float32), 48_000)
    motion = predict_mouth_motion(silence, times, track)
    assert motion.opening.max() < closed + 0.015
    talk = predict_mouth_motion(voiced(4.0, 1.0, 3.0), times, track)
    assert talk.opening[times < 0.9].max() < closed + 0.015
    assert talk.opening[(times > 1.1) & (times < 2.9)].max() > closed + 0.04
    # Its own track (a voice-over on the photo) has nothing to adapt to: a read-out
    # fitted to a mouth that never moves would hold it still.
    own = predict_mouth_motion(
        voiced(4.0, 1.0, 3.0), times, track, source_audio=voiced(4.0, 0.2, 3.8)
    )
    assert np.allclose(own.opening, talk.opening)


def wide_open_still() -> np.ndarray:
    """A rest opened as a wide mouth opens: the lower lip and jaw dropped, the upper lip's
    inner edge arched up (the lip thinner in the middle)."""
    rest = load_model().rest_shape.copy()
    upper, lower = np.array(UPPER_LIP_RINGS)[:, 1:-1], np.array(LOWER_LIP_RINGS)[:, 1:-1]
    rest[np.append(lower.ravel(), 152), 1] += 0.12  # the corners (columns 0 and 10) stay
    rest[upper[3], 1] -= 0.03 * np.sin(np.pi * np.arange(1, 10) / 10)
    return rest


def test_closing_a_rest_closes_as_real_mouths_do() -> None:
    model = load_model()
    closed = model.rest_shape
    assert closed_rest(model, closed) is closed  # an already closed rest stays as it is
    still = wide_open_still()
    shut = closed_rest(model, still)

    def gaps(shape: np.ndarray) -> np.ndarray:
        return shape[INNER_GAP_PAIRS[:, 1], 1] - shape[INNER_GAP_PAIRS[:, 0], 1]

    assert np.allclose(gaps(shut), gaps(closed), atol=1e-4)
    # The upper lip comes down its share of the way (the 12 shape components held it and
    # closed a real wide-open still 0.07 too high), the jaw rises less than the lower lip.
    gap = (still[14, 1] - still[13, 1]) - (closed[14, 1] - closed[13, 1])
    assert np.isclose(shut[13, 1] - still[13, 1], UPPER_LIP_SHARE * gap, atol=1e-4)
    lip_rise, chin_rise = still[14, 1] - shut[14, 1], still[152, 1] - shut[152, 1]
    assert np.isclose(chin_rise, JAW_FOLLOWS * lip_rise, atol=1e-4) and chin_rise > 0.03
    # Each lip thickens a little as it closes (the shape components thinned both by 40 %).
    for rings in (UPPER_LIP_RINGS, LOWER_LIP_RINGS):
        outer, inner = np.array(rings[0])[1:-1], np.array(rings[3])[1:-1]
        grown = np.abs(shut[outer, 1] - shut[inner, 1]) - np.abs(still[outer, 1] - still[inner, 1])
        assert (grown > 0).all() and (grown < 0.1 * gap).all()
    # Nothing moves sideways (the smallest change of the shape components moved the lips'
    # middle 0.09 sideways), nor outside the lower face.
    assert np.array_equal(shut[:, [0, 2]], still[:, [0, 2]])
    outside = np.setdiff1d(np.arange(478), model.points)
    assert np.array_equal(shut[outside], still[outside])
    above_nose = still[:, 1] <= still[2, 1]
    assert np.array_equal(shut[above_nose], still[above_nose])


def test_a_mouth_that_never_moves_in_the_source_opens_as_wide_as_typical() -> None:
    """A still (or someone listening) shows nothing of how wide they open: typical range,
    not the half of it that a measured range of zero was clipped to."""
    times = np.arange(100) / 25.0
    person = predict_mouth_motion(voiced(4.0, 1.0, 3.0), times, person_track())
    generic = predict_mouth_motion(voiced(4.0, 1.0, 3.0), times)
    ratio = np.ptp(person.opening) / np.ptp(generic.opening)
    assert 0.9 < ratio < 1.1


def test_adaptation_to_own_speech_runs_and_stays_finite() -> None:
    audio = voiced(6.0, 0.5, 5.5)
    times = np.arange(150) / 25.0
    model = load_model()
    canon = np.broadcast_to(model.rest_shape, (150, 478, 3)).copy()
    # The person opens their jaw with the syllable envelope (4 Hz).
    lower = np.isin(np.arange(478), [14, 87, 317, 178, 402, 17, 84, 314, 152])
    canon[:, lower, 1] += (0.08 * np.clip(np.sin(2 * np.pi * 4 * (times - 0.5)), 0, None))[:, None]
    track = FakeTrack(times, np.ones(150, bool), canon)
    motion = predict_mouth_motion(audio, times, track, source_audio=audio)
    assert np.isfinite(motion.shapes).all()
    assert mouth_opening(canon).max() > motion.opening.min()


def speaking(audio: AudioTrack, times: np.ndarray) -> FakeTrack:
    """A person whose lower lip opens as the generic model predicts for `audio`: a track of
    someone saying it (adaptation takes such audio for the speaker's own)."""
    model = load_model()
    hidden = model.hidden_for(analyse_for_model(model, audio, MotionSettings()))
    opening = sample_at(generic_opening_grid(model, hidden), times)
    canon = np.broadcast_to(model.rest_shape, (times.size, 478, 3)).copy()
    lower_inner = [lo for _, lo in INNER_GAP_PAIRS]
    canon[:, lower_inner, 1] += (opening - opening.min())[:, None]
    return FakeTrack(times, np.ones(times.size, bool), canon)


def test_adaptation_reads_the_source_up_to_its_limit(dev_dir: Path) -> None:
    """A source past `adapt_max_source_s` adapts as its first that-many seconds do, so a
    long source video does not multiply the motion stage's time."""
    model = load_model()
    settings = MotionSettings(adapt_max_source_s=4.0)
    audio = read_audio(dev_dir / "speech1.wav")
    times = np.arange(125) / 25.0
    track = speaking(audio, times)
    first = AudioTrack(audio.samples[:, : 4 * audio.sample_rate], audio.sample_rate)
    capped = adapt_to_speaker(model, track, audio, model.rest_shape, settings)
    trimmed = adapt_to_speaker(model, track, first, model.rest_shape, settings)
    whole = adapt_to_speaker(model, track, audio, model.rest_shape, MotionSettings())
    assert capped is not None and trimmed is not None and whole is not None
    assert np.array_equal(capped[0], trimmed[0]) and np.array_equal(capped[1], trimmed[1])
    assert not np.allclose(capped[0], whole[0])  # the last second did change the fit


def test_a_source_track_in_another_voice_is_not_adapted_to(
    dev_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The source video's audio is someone else (a voice-over, a dub, an interviewer):
    pairing it with these lips taught the read-out that speech leaves them still."""
    model = load_model()
    own, other = (read_audio(dev_dir / name) for name in ("speech1.wav", "speech2.wav"))
    track = speaking(own, np.arange(125) / 25.0)
    assert adapt_to_speaker(model, track, own, model.rest_shape, MotionSettings()) is not None
    with caplog.at_level("INFO", logger="videoretalk.motion.adapt"):
        assert adapt_to_speaker(model, track, other, model.rest_shape, MotionSettings()) is None
    assert "not adapting to the speaker" in caplog.text  # operators see why


def test_settings_are_validated() -> None:
    with pytest.raises(InvalidParameter, match="lead_s"):
        MotionSettings(lead_s=-1)
    with pytest.raises(InvalidParameter, match="warp_copies"):
        MotionSettings(warp_copies=0)


def test_the_trunks_read_the_voice_at_neighbouring_warps(dev_dir: Path) -> None:
    audio = read_audio(dev_dir / "speech1.wav")
    model = load_model()
    default = MotionSettings()
    assert default.warp_copies > 1
    assert len(analyse_for_model(model, audio, default).log_mel_copies) == default.warp_copies
    one = MotionSettings(warp_copies=1)
    assert analyse_for_model(model, audio, one).log_mel_copies == ()
    times = np.arange(0.0, 4.5, 0.04)
    averaged = predict_mouth_motion(audio, times, settings=default).opening
    single = predict_mouth_motion(audio, times, settings=one).opening
    assert np.abs(averaged - single).max() > 1e-3  # the average is what drives the mouth
    assert np.corrcoef(averaged, single)[0, 1] > 0.9  # ... and it follows the same speech


def vertical_gap(motion) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Mean signed inner-lip gap per frame (canonical y grows downwards: + = parted)."""
    column = {int(p): i for i, p in enumerate(motion.point_indices)}
    pairs = [(column[u], column[lo]) for u, lo in INNER_GAP_PAIRS]
    return np.mean([motion.shapes[:, lo, 1] - motion.shapes[:, u, 1] for u, lo in pairs], axis=0)


def test_articulation_widens_the_motion_in_speech(dev_dir: Path) -> None:
    """Real speech after a second of silence: the gain widens the motion, not the silence.

    (A synthetic buzz barely moves the mouth now that the speech-embedding branch takes
    most of the output: it is not much like speech to that network.)
    """
    speech = read_audio(dev_dir / "speech1.wav")
    mono = speech.samples.mean(axis=0)[: 3 * speech.sample_rate]
    silence = np.zeros(speech.sample_rate, np.float32)
    audio = AudioTrack(np.concatenate([silence, mono])[None], speech.sample_rate)
    times = np.arange(100) / 25.0
    inside = (times > 1.2) & (times < 3.8)
    damped = predict_mouth_motion(audio, times, settings=MotionSettings(articulation=1.0))
    lively = predict_mouth_motion(audio, times, settings=MotionSettings(articulation=1.7))
    assert damped.opening[inside].std() > 0.01  # real speech moves the mouth (0.019 measured)
    ratio = lively.opening[inside].std() / damped.opening[inside].std()
    assert 1.3 < ratio < 2.2
    # Silence is untouched: the gain acts on speech only.
    outside = times < 0.6
    assert np.abs(lively.shapes[outside] - damped.shapes[outside]).max() < CLOSED_TOL


def test_lips_never_close_past_the_rest_shape(dev_dir: Path) -> None:
    """A strong gain on real speech pushes closures below rest; they stop at the rest gap.

    (Without the floor, this clip at gain 2.5 goes below rest on 14 of 120 frames.)
    """
    track = person_track()
    silence = AudioTrack(np.zeros((1, 64_000), np.float32), 16_000)
    rest_gap = vertical_gap(predict_mouth_motion(silence, np.arange(100) / 25.0, track))[0]
    speech = read_audio(dev_dir / "talk2.mp4")
    settings = MotionSettings(articulation=2.5)
    motion = predict_mouth_motion(speech, np.arange(120) / 25.0, track, settings=settings)
    gap = vertical_gap(motion)
    assert gap.max() > rest_gap + 0.05  # it does open
    assert gap.min() >= rest_gap - 1e-5


@pytest.mark.parametrize("speed", [1.2, 0.85])
def test_a_higher_or_deeper_voice_moves_the_mouth_the_same_way(dev_dir: Path, speed: float) -> None:
    """The same speech played faster (formants x1.2, like a smaller voice) or slower should
    give the same mouth at the matching times; warping the bands to the voice keeps it."""
    audio = read_audio(dev_dir / "speech1.wav")
    times = np.arange(0.0, audio.samples.shape[1] / audio.sample_rate - 0.1, 0.04)
    shifted = AudioTrack(audio.samples, round(audio.sample_rate * speed))
    agreement = {}
    for normalise, copies in ((True, 1), (False, 1), (True, MotionSettings().warp_copies)):
        settings = MotionSettings(normalise_voice=normalise, warp_copies=copies)
        own = predict_mouth_motion(audio, times, settings=settings).opening
        other = predict_mouth_motion(shifted, times / speed, settings=settings).opening
        agreement[normalise, copies] = np.corrcoef(own, other)[0, 1]
    # Measured (x1.2 / x0.85), at the measured warp alone: 0.954 / 0.848 with the warp,
    # 0.949 / 0.835 without (with the one-layer branch 0.961 / 0.851 and 0.953 / 0.836).
    # The warp adds less than with log-mel alone (0.91 / 0.92 against 0.81 / 0.84),
    # because the speech-embedding branch, which takes most of the output, reads no warp
    # and follows both voices by itself. Averaged over 5 warps around it: 0.956 / 0.846
    # (and 0.950 / 0.843 around no warp).
    assert agreement[True, 1] > 0.83
    assert agreement[True, 1] > agreement[False, 1] + 0.005
    assert agreement[True, MotionSettings().warp_copies] > 0.83


def test_best_lag_finds_the_shift_and_a_penalty_holds_it_near_zero() -> None:
    rng = np.random.default_rng(3)
    grid = np.convolve(rng.standard_normal(800), np.ones(9) / 9, mode="same")
    times = np.arange(0.5, 7.0, 0.04)
    # The video runs 60 ms behind the audio clock: frame t shows the sound at t + 0.06.
    real = np.interp((times + 0.06) / 0.01, np.arange(grid.size), grid)
    assert best_lag(grid, times, real, 0.2) == pytest.approx(0.06)
    # Training's first pass charges r per second of shift: a large charge keeps it at 0.
    assert best_lag(grid, times, real, 0.2, penalty_per_s=50.0) == pytest.approx(0.0)
    # A small one still takes a clear peak.
    assert best_lag(grid, times, real, 0.2, penalty_per_s=0.25) == pytest.approx(0.06)
