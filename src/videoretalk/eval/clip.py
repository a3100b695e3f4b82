"""Score one lip-synced clip: mouth tracks, sync, closure, fidelity, identity, flicker, timing.

1. Measure the face in the input, the output and (if given) the reference.
2. Put every mouth track and the speech envelope on one 10 ms grid in output time.
3. Correlate, find the silences, pick the telling moments.
4. One paired pass over input and output frames: PSNR, flicker, identity, strips.
5. Check the timing rules on the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..face.identity import IdentityModel
from ..media.decode import VideoReader, read_audio
from ..media.timeline import Timeline
from ..pipeline import timeline_frames
from . import signals
from .pixels import MouthFlicker, OutsidePsnr, mouth_crop
from .timing import Timing, check_timing, match_timeline
from .tracking import Landmarker, VideoTrack, default_landmarker

Pathish = str | os.PathLike[str]

IDENTITY_SAMPLES = 8  # frame pairs described by dlib (~80 ms each on CPU)
STRIP_HEIGHT = 240  # px of each full frame in a strip
CROP_SIZE = 240  # px of each enlarged mouth crop


@dataclass(frozen=True)
class Sync:
    """A mouth track against another signal: r at the best lag within ±0.4 s and at 0."""

    best_lag: float  # s; > 0: the mouth moves after the signal
    best_r: float
    r_at_zero: float

    @classmethod
    def of(cls, result: signals.LagCorrelation) -> Sync:
        return cls(result.best_lag, result.best_r, result.r_at_zero)


@dataclass(frozen=True)
class MouthScores:
    face_frames: int  # frames where a face was measured
    frames: int
    speech: Sync  # against the driving speech envelope
    reference: Sync | None  # against the reference's mouth track
    closure: signals.Closure  # during the driving speech's silences


@dataclass(frozen=True)
class ClipScores:
    name: str
    output_mouth: MouthScores
    input_mouth: MouthScores  # the input as the output shows it (same timeline)
    reference_mouth: MouthScores | None
    psnr_outside_db: float  # pooled over frames; 100 = identical
    psnr_outside_worst_db: float
    identity_distance: float  # dlib, mean over sampled frame pairs; < 0.6 = same person
    identity_distance_max: float
    flicker_ratio: float  # mouth-region frame-to-frame change, output / input
    timing: Timing
    processing_seconds: float | None
    realtime_factor: float | None  # processing seconds per second of output


@dataclass(frozen=True)
class Tracks:
    """Per-output-frame series for plots and the JSON file."""

    times: np.ndarray  # output frame times, s
    source_index: np.ndarray  # input frame shown by each output frame
    output_opening: np.ndarray
    input_opening: np.ndarray
    reference_opening: np.ndarray | None
    envelope: np.ndarray  # speech envelope at the frame times, peak 1
    speaking: np.ndarray  # bool, voice activity at the frame times
    psnr_outside_db: np.ndarray  # per frame
    silences: list[tuple[float, float]]
    speech_lag_r: dict[str, list[float]]  # r over lags, per track ("lags" holds the lags)


@dataclass(frozen=True)
class Moment:
    kind: str  # "largest opening" | "bilabial closure" | "silence starts"
    index: int  # output frame
    time: float
    images: dict[str, np.ndarray] = field(default_factory=dict, compare=False)  # name -> RGB


@dataclass(frozen=True)
class ClipReport:
    scores: ClipScores
    tracks: Tracks
    moments: list[Moment]
    paths: dict[str, str]


def evaluate_clip(
    video: Pathish,
    audio: Pathish,
    output: Pathish,
    reference: Pathish | None = None,
    name: str | None = None,
    processing_seconds: float | None = None,
    landmarker: Landmarker | None = None,
    identity: IdentityModel | None = None,
) -> ClipReport:
    track = landmarker or default_landmarker()
    driving = read_audio(audio)
    speech = signals.speech_signal(driving)

    # 1. Faces.
    source, produced = track(video), track(output)
    ref = track(reference) if reference is not None else None
    timeline, extension = match_timeline(source.times, driving.duration, produced.times.size)

    # 2. Tracks on output time.
    n = min(produced.times.size, timeline.frame_count)
    times = produced.times[:n]
    shown = timeline.source_index[:n]
    out_open = signals.mouth_opening(produced.landmarks[:n])
    in_open = signals.mouth_opening(source.landmarks)[shown]
    ref_open = _resample_track(ref, times) if ref is not None else None
    duration = min(timeline.duration, speech.duration)
    env_grid = speech.envelope[: int(np.ceil(duration / signals.GRID_SECONDS - 1e-9))]

    # 3. Sync, silences, closure.
    silences = signals.silent_stretches(speech.speech)
    silent = signals.in_stretches(times, silences, signals.SILENCE_MARGIN_SECONDS)
    speaking = speech.speech_at(times)
    ref_grid = signals.on_grid(times, ref_open, duration) if ref_open is not None else None
    curves: dict[str, signals.LagCorrelation] = {}

    def score(label: str, opening: np.ndarray) -> MouthScores:
        grid = signals.on_grid(times, opening, duration)
        curves[label] = signals.lag_correlation(grid, env_grid)
        against_ref = signals.lag_correlation(grid, ref_grid) if ref_grid is not None else None
        return MouthScores(
            face_frames=int(np.isfinite(opening).sum()),
            frames=int(opening.size),
            speech=Sync.of(curves[label]),
            reference=Sync.of(against_ref)
            if against_ref is not None and label != "reference"
            else None,
            closure=signals.closure(opening, silent, speaking & ~silent),
        )

    output_scores = score("output", out_open)
    input_scores = score("input", in_open)
    reference_scores = score("reference", ref_open) if ref_open is not None else None
    moments = pick_moments(times, out_open, ref_open, speaking, silences)

    # 4. Paired pixels.
    paired = _paired_pass(
        Path(video), Path(output), timeline, source, moments, identity or IdentityModel()
    )
    if ref is not None:
        _add_reference_images(ref, moments)

    # 5. Timing.
    timing = check_timing(output, produced.times, source.times, timeline, extension, driving)
    scores = ClipScores(
        name=name or Path(output).stem,
        output_mouth=output_scores,
        input_mouth=input_scores,
        reference_mouth=reference_scores,
        psnr_outside_db=paired.psnr.value,
        psnr_outside_worst_db=paired.psnr.worst,
        identity_distance=float(np.mean(paired.distances)) if paired.distances else float("nan"),
        identity_distance_max=float(np.max(paired.distances)) if paired.distances else float("nan"),
        flicker_ratio=paired.flicker.ratio,
        timing=timing,
        processing_seconds=processing_seconds,
        realtime_factor=(
            processing_seconds / timing.duration
            if processing_seconds is not None and timing.duration > 0
            else None
        ),
    )
    lags = next(iter(curves.values())).lags
    tracks = Tracks(
        times=times,
        source_index=shown,
        output_opening=out_open,
        input_opening=in_open,
        reference_opening=ref_open,
        envelope=speech.envelope_at(times),
        speaking=speaking,
        psnr_outside_db=np.asarray(paired.psnr.per_frame),
        silences=silences,
        speech_lag_r={"lags": lags.tolist(), **{k: v.r.tolist() for k, v in curves.items()}},
    )
    paths = {"video": str(video), "audio": str(audio), "output": str(output)}
    if reference is not None:
        paths["reference"] = str(reference)
    return ClipReport(scores, tracks, moments, paths)


def _resample_track(track: VideoTrack, times: np.ndarray) -> np.ndarray:
    """The reference's opening at the output's frame times (the frame on screen then)."""
    opening = signals.mouth_opening(track.landmarks)
    index = np.searchsorted(track.times, times + 1e-6, side="right") - 1
    return opening[np.clip(index, 0, opening.size - 1)]


def pick_moments(
    times: np.ndarray,
    output_opening: np.ndarray,
    reference_opening: np.ndarray | None,
    speaking: np.ndarray,
    silences: list[tuple[float, float]],
) -> list[Moment]:
    """The frames most worth looking at: widest mouth, a closure mid-speech, a pause starting."""
    moments: list[Moment] = []
    valid = np.isfinite(output_opening)
    if valid.any():
        i = int(np.nanargmax(np.where(valid, output_opening, -np.inf)))
        moments.append(Moment("largest opening", i, float(times[i])))
    # A closure while speaking is where /p b m/ should press the lips together: the
    # reference knows where they are; without one, the output's tightest speaking frame.
    guide = reference_opening if reference_opening is not None else output_opening
    candidates = speaking & np.isfinite(guide)
    if candidates.any():
        i = int(np.nanargmin(np.where(candidates, guide, np.inf)))
        moments.append(Moment("bilabial closure", i, float(times[i])))
    # The first pause after speech (a leading silence shows no closing movement).
    after_speech = [s for s in silences if s[0] > 0] or silences
    if after_speech and times.size:
        start = after_speech[0][0] + signals.SILENCE_MARGIN_SECONDS
        i = min(int(np.searchsorted(times, start)), times.size - 1)
        moments.append(Moment("silence starts", i, float(times[i])))
    return moments


@dataclass
class _Paired:
    psnr: OutsidePsnr
    flicker: MouthFlicker
    distances: list[float]


def _paired_pass(
    video: Path,
    output: Path,
    timeline: Timeline,
    source: VideoTrack,
    moments: list[Moment],
    identity: IdentityModel,
) -> _Paired:
    paired = _Paired(OutsidePsnr(), MouthFlicker(), [])
    wanted = {m.index: m for m in moments}
    faces = np.flatnonzero(source.present[timeline.source_index])
    sampled = (
        set(
            faces[
                np.linspace(0, faces.size - 1, min(IDENTITY_SAMPLES, faces.size)).astype(int)
            ].tolist()
        )
        if faces.size
        else set()
    )
    with VideoReader(video) as source_reader, VideoReader(output) as output_reader:
        pairs = zip(timeline_frames(source_reader, timeline), output_reader.frames(), strict=False)
        for t, (shown, produced) in enumerate(pairs):
            points = source.landmarks_at(shown.index)
            paired.psnr.add(shown.image, produced.image, points)
            paired.flicker.add(shown.image, produced.image, points)
            if t in sampled and points is not None:
                a = identity.describe(shown.image, points)
                b = identity.describe(_same_size(produced.image, shown.image), points)
                paired.distances.append(a.distance(b))
            if t in wanted:
                moment = wanted[t]
                moment.images["input"] = _strip_frame(shown.image)
                moment.images["output"] = _strip_frame(produced.image)
                moment.images["input mouth"] = mouth_crop(shown.image, points, CROP_SIZE)
                moment.images["output mouth"] = mouth_crop(produced.image, points, CROP_SIZE)
    return paired


def _same_size(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Pad an even-cropped output frame back to the input's size so landmarks line up."""
    dh, dw = like.shape[0] - image.shape[0], like.shape[1] - image.shape[1]
    if dh <= 0 and dw <= 0:
        return image[: like.shape[0], : like.shape[1]]
    return np.pad(image, ((0, max(dh, 0)), (0, max(dw, 0)), (0, 0)), mode="edge")


def _add_reference_images(track: VideoTrack, moments: list[Moment]) -> None:
    by_frame: dict[int, list[Moment]] = {}
    for moment in moments:
        index = int(
            np.clip(
                np.searchsorted(track.times, moment.time + 1e-6, side="right") - 1,
                0,
                max(track.times.size - 1, 0),
            )
        )
        by_frame.setdefault(index, []).append(moment)
    with VideoReader(track.path) as reader:
        for frame in reader.frames():
            for moment in by_frame.get(frame.index, []):
                moment.images["reference mouth"] = mouth_crop(
                    frame.image, track.landmarks_at(frame.index), CROP_SIZE
                )
            if frame.index >= max(by_frame, default=-1):
                break


def _strip_frame(image: np.ndarray) -> np.ndarray:
    scale = STRIP_HEIGHT / image.shape[0]
    return cv2.resize(
        image, (max(1, round(image.shape[1] * scale)), STRIP_HEIGHT), interpolation=cv2.INTER_AREA
    )
