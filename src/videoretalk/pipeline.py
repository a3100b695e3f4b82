"""The top-level job: validate → analyse → plan the timeline → render → encode.

Frames are streamed twice: once to learn their exact times (and, with the
lip-sync engine, to analyse the face), once to render and encode in output
order. Memory therefore stays flat whatever the video's length.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .engine import LipSyncEngine, load_engine
from .errors import InvalidParameter
from .face.settings import check_query_face_threshold
from .media.decode import AudioTrack, DecodedFrame, VideoReader, prefetch, read_audio
from .media.encode import VideoWriter, WriteBehind
from .media.probe import VideoInfo
from .media.timeline import Timeline, plan_timeline
from .media.validate import validate_audio, validate_image, validate_video

Pathish = str | os.PathLike[str]
ProgressCallback = Callable[[str, float], None]

__all__ = ["ProgressCallback", "RetalkResult", "Usage", "retalk"]


@dataclass(frozen=True)
class Usage:
    """What DashScope meters: seconds of output video, at the "standard" ratio."""

    video_duration: float
    video_ratio: str = "standard"


@dataclass(frozen=True)
class RetalkResult:
    output: Path
    duration: float  # seconds of output
    frames: int  # output frames written
    frames_edited: int  # output frames whose mouth was re-drawn
    width: int
    height: int
    usage: Usage


def retalk(
    video: Pathish,
    audio: Pathish,
    output: Pathish,
    ref_image: Pathish | None = None,
    video_extension: bool = False,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
    query_face_threshold: int | None = None,
) -> RetalkResult:
    """Re-animate the person in `video` to speak `audio`; write an MP4 to `output`."""
    settings = settings or Settings.from_env()
    _check_options(video_extension, query_face_threshold)
    report = progress or (lambda stage, fraction: None)
    output = Path(output)
    _check_output(output)

    # 1. Validate every input by its content before any heavy work.
    report("validate", 0.0)
    video_info = validate_video(video, settings.limits)
    validate_audio(audio, settings.limits)
    if ref_image is not None:
        validate_image(ref_image, settings.limits)
    driving_audio = read_audio(audio)
    engine = load_engine(settings, ref_image=ref_image, query_face_threshold=query_face_threshold)

    with VideoReader(video) as reader:
        # 2. First pass: exact frame times, and whatever the engine learns from the source
        #    (frames past the analysis horizon come without pixels, and are not analysed).
        horizon = analysis_horizon(driving_audio.duration, settings)
        for frame in prefetch(reader.frames(rgb_until_s=horizon)):
            engine.observe(frame)
            report("analyse", (frame.index + 1) / max(video_info.frame_count, 1))
        frame_times = reader.frame_times

        # 3. Timeline: which source frame is shown when, and for how long the output runs.
        timeline = plan_timeline(frame_times, driving_audio.duration, video_extension)
        engine.plan(timeline, driving_audio, reader)

        # 4. Second pass: render each output frame and encode it with the audio.
        edited = _render_and_encode(
            reader, timeline, engine, output, video_info, driving_audio, settings, report
        )
    report("done", 1.0)
    width, height = _output_size(video_info)
    return RetalkResult(
        output=output,
        duration=timeline.duration,
        frames=timeline.frame_count,
        frames_edited=edited,
        width=width,
        height=height,
        usage=Usage(video_duration=round(timeline.duration, 3)),
    )


def _output_size(source: VideoInfo) -> tuple[int, int]:
    """The source's displayed size, odd sides trimmed by one pixel (yuv420p needs even)."""
    return source.width // 2 * 2, source.height // 2 * 2


def analysis_horizon(audio_duration: float, settings: Settings) -> float:
    """How far into the source the face must be analysed for this driving audio.

    The output never shows a source frame later than the audio's length (a longer audio
    with `video_extension` plays the whole video, so every frame is within the horizon
    then), and speaker adaptation reads at most the source's first
    `motion.adapt_max_source_s`. A margin beyond both keeps the track's smoothing and
    the edit's fade-out (`render.appear_frames`) off the last frames shown: a 60 s
    source dubbed with 5 s of speech is analysed for 31 s, not 60.
    """
    return max(audio_duration, settings.motion.adapt_max_source_s) + ANALYSIS_MARGIN_S


# Beyond the last frame the horizon must cover: more than the face track's smoothing
# window and the fade over `render.appear_frames` at any frame rate the limits allow.
ANALYSIS_MARGIN_S = 1.0


def _check_options(video_extension: object, query_face_threshold: object) -> None:
    if not isinstance(video_extension, bool):
        raise InvalidParameter(
            f"parameters.video_extension must be true or false, not {video_extension!r}."
        )
    if query_face_threshold is not None:
        check_query_face_threshold(query_face_threshold)  # type: ignore[arg-type]


def _check_output(output: Path) -> None:
    """Refuse an output path that cannot be written before any work, not after it."""
    if output.is_dir():
        raise InvalidParameter(
            f"The output path '{output}' is a folder; give a file name, e.g. '{output / 'out.mp4'}'."
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidParameter(
            f"Cannot create the output folder '{output.parent}': {exc.strerror}."
        ) from exc
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise InvalidParameter(f"The output folder '{output.parent}' is not writable.")


def _render_and_encode(
    reader: VideoReader,
    timeline: Timeline,
    engine: LipSyncEngine,
    output: Path,
    source: VideoInfo,
    audio: AudioTrack,
    settings: Settings,
    report: ProgressCallback,
) -> int:
    """Render and encode every output frame; the number of frames edited.

    The output keeps the source's size, frame rate, pixel shape and colour tags.
    """
    width, height = _output_size(source)
    # Write beside the target and rename at the end: a failed job never leaves a
    # half-written file under the requested name.
    fd, partial_name = tempfile.mkstemp(prefix=".partial-", suffix=".mp4", dir=output.parent)
    os.close(fd)
    partial = Path(partial_name)
    edited = 0
    try:
        with (
            VideoWriter(
                partial,
                width,
                height,
                source.fps,
                audio,
                timeline.duration,
                settings.encode,
                source.pixel_aspect,
                source.colour,
            ) as encoder,
            WriteBehind(encoder) as writer,
        ):
            total = timeline.frame_count
            for t, frame in enumerate(prefetch(timeline_frames(reader, timeline))):
                image = engine.render(t, frame)
                if image is not frame.image:
                    edited += 1
                writer.write(image[:height, :width], float(timeline.output_times[t]))
                report("render", (t + 1) / total)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return edited


def timeline_frames(reader: VideoReader, timeline: Timeline) -> Iterator[DecodedFrame]:
    """Source frames in output order, decoded segment by segment (forward or backward)."""
    for segment in timeline.segments:
        if segment.forward:
            frames = reader.frames_forward(segment.first, segment.last)
        else:
            frames = reader.frames_backward(segment.last, segment.first)
        expected = range(
            segment.first,
            segment.last + (1 if segment.forward else -1),
            1 if segment.forward else -1,
        )
        produced = iter(frames)
        pending = next(produced, None)
        previous: DecodedFrame | None = None
        for index in expected:
            if pending is not None and pending.index == index:
                frame, pending = pending, next(produced, None)
            else:
                # A frame that decoded in the first pass but not now (a damaged
                # stream): show its neighbour rather than lose sync.
                stand_in = previous or pending
                if stand_in is None:
                    return
                frame = DecodedFrame(index, stand_in.time, stand_in.image)
            previous = frame
            yield frame
