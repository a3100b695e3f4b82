"""The whole engine (face → motion → render) through `retalk()` on real clips."""

from __future__ import annotations

from collections.abc import Container
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Self

import av
import numpy as np
import pytest
from mediafactory import make_audio

from videoretalk import Settings, retalk
from videoretalk import engine as engine_module
from videoretalk import pipeline as pipeline_module
from videoretalk.engine import RetalkEngine
from videoretalk.face import analyse_video
from videoretalk.face.landmarks import JAW, LIPS_INNER, LIPS_OUTER
from videoretalk.media.decode import VideoReader, read_audio
from videoretalk.motion import mouth_opening
from videoretalk.render import MouthRenderer

BLACK = range(40, 50)  # source frames replaced by black: no face there


def _talk2_blacked(dev_dir: Path, path: Path, black: Container[int]) -> Path:
    """talk2 (844×844, 25 fps, no audio) with the frames in `black` replaced by black."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width = stream.height = 844
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"crf": "16", "preset": "ultrafast"}
        for frame in VideoReader(dev_dir / "talk2.mp4").frames():
            image = np.zeros_like(frame.image) if frame.index in black else frame.image
            encoded = av.VideoFrame.from_ndarray(image, format="rgb24")
            encoded.pts, encoded.time_base = frame.index, Fraction(1, 25)
            out.mux(stream.encode(encoded))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def clip_with_gap(dev_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """talk2 with ten black frames in the middle."""
    return _talk2_blacked(dev_dir, tmp_path_factory.mktemp("engine") / "gap.mp4", BLACK)


class _Recorder:
    """Stands in for VideoWriter to keep what the pipeline hands to the encoder."""

    frames: ClassVar[list[np.ndarray]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        _Recorder.frames = []

    def write(self, image: np.ndarray, time: float) -> None:
        _Recorder.frames.append(image.copy())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _lower_face_box(landmarks: np.ndarray) -> tuple[slice, slice]:
    """A generous box around everything the renderer may touch: nose tip to below the chin."""
    io = float(np.linalg.norm(landmarks[33, :2] - landmarks[263, :2]))
    pts = landmarks[np.r_[JAW, LIPS_OUTER], :2]
    x0, x1 = pts[:, 0].min() - 0.5 * io, pts[:, 0].max() + 0.5 * io
    y0, y1 = landmarks[1, 1] - 0.25 * io, pts[:, 1].max() + 0.8 * io
    return slice(max(int(y0), 0), int(y1) + 1), slice(max(int(x0), 0), int(x1) + 1)


def test_only_the_lower_face_of_tracked_frames_changes(
    clip_with_gap: Path, dev_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "VideoWriter", _Recorder)
    monkeypatch.setattr(Path, "replace", lambda self, target: target)  # nothing was written
    result = retalk(clip_with_gap, dev_dir / "speech1.wav", tmp_path / "o.mp4")
    written = _Recorder.frames
    source = [f.image for f in VideoReader(clip_with_gap).frames()]
    track = analyse_video(clip_with_gap)
    assert len(written) == result.frames == len(source)
    assert result.frames_edited == len(source) - len(BLACK)
    changed_inside = 0
    for i, (before, after) in enumerate(zip(source, written, strict=True)):
        if i in BLACK:
            assert np.array_equal(before, after), f"frame {i} without a face was modified"
            continue
        rows, cols = _lower_face_box(track.landmarks[i])
        outside = np.ones(before.shape[:2], bool)
        outside[rows, cols] = False
        assert np.array_equal(before[outside], after[outside]), (
            f"frame {i} changed outside the lower face"
        )
        changed_inside += int(np.abs(before[rows, cols].astype(int) - after[rows, cols]).max() > 8)
    assert changed_inside > 0.8 * (len(source) - len(BLACK))  # the mouth really was re-drawn


def test_silent_audio_gives_a_closed_still_mouth(dev_dir: Path, tmp_path: Path) -> None:
    silence = make_audio(tmp_path / "silence.wav", 4.0, samples=np.zeros(64000, np.float32))
    result = retalk(dev_dir / "talk2.mp4", silence, tmp_path / "o.mp4")
    assert result.frames_edited == result.frames == 100
    source_opening = mouth_opening(analyse_video(dev_dir / "talk2.mp4").canonical)[:100]
    opening = mouth_opening(analyse_video(result.output).canonical)
    # The source speaks (opens wide); the output rests: lips nearly together on every
    # frame and hardly moving from frame to frame.
    assert np.nanmax(source_opening) > 0.12
    assert np.nanmax(opening) < 0.06
    assert np.nanmean(np.abs(np.diff(opening))) < 0.35 * np.nanmean(np.abs(np.diff(source_opening)))


def test_speech_opens_the_mouth_and_extension_covers_the_audio(
    dev_dir: Path, tmp_path: Path
) -> None:
    speech = read_audio(dev_dir / "speech2.wav")
    long_audio = make_audio(
        tmp_path / "long.wav",
        8.0,
        rate=speech.sample_rate,
        samples=np.tile(speech.mono(), 2)[: 8 * speech.sample_rate],
    )
    result = retalk(
        dev_dir / "talk4.mp4",
        long_audio,
        tmp_path / "o.mp4",
        video_extension=True,
        settings=Settings.from_env(environ={}),
    )
    assert result.duration == pytest.approx(8.0, abs=1e-3)
    assert read_audio(result.output).duration == pytest.approx(8.0, abs=0.03)
    opening = mouth_opening(analyse_video(result.output).canonical)
    assert len(opening) == result.frames == 240
    assert np.nanmax(opening) > 0.08  # the mouth opens with the speech
    lips = analyse_video(result.output).landmarks[:, np.r_[LIPS_INNER], 1]
    assert np.isfinite(lips).mean() > 0.98  # the output still reads as a face on every frame


def test_frames_the_output_never_shows_are_not_analysed(
    dev_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """talk2 runs 5 s; dubbed with 2.5 s of speech, and adaptation reading only its first
    0.5 s, the face is analysed up to 3.5 s (2.5 s + the 1 s margin) and no further,
    every frame shown is still edited, and the caption search decodes no further than
    it needs."""
    engines: list[RetalkEngine] = []

    def keep(*args: Any, **kwargs: Any) -> RetalkEngine:
        engines.append(RetalkEngine(*args, **kwargs))
        return engines[-1]

    monkeypatch.setattr(pipeline_module, "load_engine", keep)
    scanned: list[int] = []  # decoded by the caption search's pass (which runs ahead)
    searched: list[int] = []  # handed to the search
    scan, observe_grey = VideoReader.scan, MouthRenderer.observe_grey

    def counted(self: VideoReader, indices: Any) -> Any:
        for item in scan(self, indices):
            scanned.append(item[0])
            yield item

    def seen(self: MouthRenderer, index: int, grey: np.ndarray) -> None:
        searched.append(index)
        observe_grey(self, index, grey)

    monkeypatch.setattr(VideoReader, "scan", counted)
    monkeypatch.setattr(MouthRenderer, "observe_grey", seen)
    monkeypatch.setattr(engine_module, "CAPTION_LOOKAHEAD_S", 0.5)
    speech = read_audio(dev_dir / "speech1.wav")
    short = make_audio(
        tmp_path / "short.wav",
        2.5,
        rate=speech.sample_rate,
        samples=speech.mono()[: int(2.5 * speech.sample_rate)],
    )
    settings = Settings.from_env(environ={"VIDEORETALK_MOTION_ADAPT_MAX_SOURCE_S": "0.5"})
    assert pipeline_module.analysis_horizon(2.5, settings) == pytest.approx(3.5)
    result = retalk(dev_dir / "talk2.mp4", short, tmp_path / "o.mp4", settings=settings)
    track = engines[0].track
    assert track is not None
    times = np.asarray(track.frame_times)
    assert len(times) == 125  # every frame is still recorded, with its time
    assert not track.present[times > 3.5].any()
    assert track.present[times <= 3.5].mean() > 0.95
    assert track.info["frames"] == (times <= 3.5).sum()
    assert result.frames == 63 and result.frames_edited == result.frames
    # The caption search's pass over every frame stops 0.5 s (as set here) after the last
    # frame shown, frame 62 at 2.48 s; its decoding runs at most a few frames ahead.
    assert searched == list(range(75))
    assert max(scanned) <= 80


def test_a_face_that_appears_only_after_the_frames_shown_leaves_them_as_they_are(
    dev_dir: Path, tmp_path: Path
) -> None:
    """talk2 black for its first 4.4 s, dubbed with 2 s of speech: the face is tracked
    (it is within the analysis horizon) but never shown, so nothing is edited and the
    caption search, which looks 2 s past the last frame shown, has no frame to search."""
    late = _talk2_blacked(dev_dir, tmp_path / "late.mp4", range(110))
    speech = read_audio(dev_dir / "speech1.wav")
    short = make_audio(
        tmp_path / "short.wav",
        2.0,
        rate=speech.sample_rate,
        samples=speech.mono()[: 2 * speech.sample_rate],
    )
    assert analyse_video(late).present[110:].mean() > 0.95  # the face is there, later
    result = retalk(late, short, tmp_path / "o.mp4")
    assert result.frames == 50 and result.frames_edited == 0
