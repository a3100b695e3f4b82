"""The lip-sync engine seen by the pipeline: observe source frames, plan, render.

The pipeline does not know how lips are re-drawn; it hands the engine each source
frame once (`observe`; frames past `pipeline.analysis_horizon` come without pixels,
`image.size == 0`), then the timeline and audio (`plan`), then asks for each output
frame (`render`). A frame the engine does not edit is returned as the very
same array, which the pipeline counts as untouched.

`RetalkEngine` chains the three stages:
    face analysis (`face/`)  → FaceTrack over source frames
    mouth motion (`motion/`) → MouthMotion over output frames, from the driving audio
    rendering (`render/`)    → each output frame with its lower face re-drawn
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .config import Settings
from .errors import VideoRetalkError
from .media.decode import AudioTrack, DecodedFrame, VideoReader, prefetch, read_audio_on_video_clock
from .media.timeline import Timeline

if TYPE_CHECKING:
    from .face import FaceTrack
    from .motion import MouthMotion
    from .render import MouthRenderer

log = logging.getLogger(__name__)


class LipSyncEngine(Protocol):
    def observe(self, frame: DecodedFrame) -> None: ...

    def plan(self, timeline: Timeline, audio: AudioTrack, reader: VideoReader) -> None: ...

    def render(self, output_index: int, frame: DecodedFrame) -> np.ndarray: ...


class PassthroughEngine:
    """Leaves every frame as it is: the media layer on its own (timing, encoding)."""

    def observe(self, frame: DecodedFrame) -> None:
        pass

    def plan(self, timeline: Timeline, audio: AudioTrack, reader: VideoReader) -> None:
        pass

    def render(self, output_index: int, frame: DecodedFrame) -> np.ndarray:
        return frame.image


class RetalkEngine:
    """Face analysis → mouth motion → rendering."""

    def __init__(
        self,
        settings: Settings,
        ref_image: str | os.PathLike[str] | None = None,
        query_face_threshold: int | None = None,
    ) -> None:
        from .face import FaceAnalyser

        self.settings = settings
        # Built before any frame is read: a bad reference image fails the job at once.
        self._analyser = FaceAnalyser(
            settings.face,
            ref_image=ref_image,
            query_face_threshold=170 if query_face_threshold is None else query_face_threshold,
        )
        self.track: FaceTrack | None = None
        self.motion: MouthMotion | None = None
        self._renderer: MouthRenderer | None = None
        self._timeline: Timeline | None = None

    def observe(self, frame: DecodedFrame) -> None:
        if frame.image.size == 0:  # past the pipeline's analysis horizon: time only
            self._analyser.skip(frame)
        else:
            self._analyser.add(frame)

    def plan(self, timeline: Timeline, audio: AudioTrack, reader: VideoReader) -> None:
        from .motion import predict_mouth_motion
        from .render import MouthRenderer

        # 1. The person's face on every source frame (raises FaceNotMatch for a
        #    reference image that matches no one).
        self.track = track = self._analyser.finish()
        self._timeline = timeline
        if not track.present.any():
            log.info("no target face in the video: every frame is left as it is")
            return
        # 2. Mouth shapes for every output frame; the source's own speech (if any)
        #    adapts the audio→mouth mapping to this speaker.
        self.motion = predict_mouth_motion(
            audio,
            timeline.output_times,
            face_track=track,
            source_audio=_own_speech(reader),
            settings=self.settings.motion,
        )
        # 3. Mouth texture from the person's own frames, collected in one decode pass
        #    over just the chosen frames.
        renderer = MouthRenderer(self.settings.render, mouth_indices=self.motion.point_indices)
        renderer.prepare(track, exemplar_frames=np.unique(timeline.source_index))
        if renderer.wants_every_frame:  # its grey levels too, for captions over the face
            last = _last_frame_for_captions(track, timeline)
            # Decoding runs ahead on a helper thread while the caption search works.
            for index, grey, frame in prefetch(reader.scan(renderer.wanted_frames)):
                if index > last:
                    break
                renderer.observe_grey(index, grey)
                if frame is not None:
                    renderer.observe(frame)
        else:
            for frame in prefetch(reader.frames_at(renderer.wanted_frames)):
                renderer.observe(frame)
        renderer.reset()
        self._renderer = renderer

    def render(self, output_index: int, frame: DecodedFrame) -> np.ndarray:
        if self._renderer is None or self.motion is None:
            return frame.image
        return self._renderer.render(frame, frame.index, self.motion.shapes[output_index])


def _last_frame_for_captions(track: FaceTrack, timeline: Timeline) -> int:
    """The last source frame the caption search needs: the last with the face, and at most
    `CAPTION_LOOKAHEAD_S` past the last frame shown. A caption still on screen when the
    output ends is found from the face moving under it, shown or not; further on, a long
    source dubbed with a short line would be decoded for nothing (a 60 s source dubbed
    with 5 s of speech: the job took 17.0 s scanning to the last frame with the face,
    12.2-14.0 s with this bound; 2-core CPU). -1 when the face comes into view only later
    (it was tracked for speaker adaptation): no frame needs searching."""
    times = np.asarray(track.frame_times)
    shown_until = times[int(timeline.source_index.max())] + CAPTION_LOOKAHEAD_S
    needed = np.flatnonzero(track.present & (times <= shown_until))
    return int(needed[-1]) if needed.size else -1


CAPTION_LOOKAHEAD_S = 2.0


def _own_speech(reader: VideoReader) -> AudioTrack | None:
    """The source video's own audio track, if it has one (for speaker adaptation), on
    the video's clock."""
    try:
        return read_audio_on_video_clock(reader.path)
    except VideoRetalkError:  # no audio stream, or an undecodable one: adapt without it
        return None


def load_engine(
    settings: Settings,
    ref_image: str | os.PathLike[str] | None = None,
    query_face_threshold: int | None = None,
) -> LipSyncEngine:
    """The one place that chooses the engine implementation (`VIDEORETALK_ENGINE`)."""
    if settings.engine == "passthrough":
        return PassthroughEngine()
    return RetalkEngine(settings, ref_image=ref_image, query_face_threshold=query_face_threshold)
