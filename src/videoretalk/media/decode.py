"""Streamed decoding: video frames one at a time (forward or backward), audio as samples.

Frames come out upright (display rotation applied) as RGB arrays with their
presentation time, so every later stage works in displayed pixels and real time.
Backward playback (for video extension) decodes short chunks from the nearest
keyframe and reverses each, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Self, TypeVar

import av
import av.error
import numpy as np

from ..errors import (
    InvalidFileContent,
    InvalidFileFormat,
    InvalidFileOpenError,
    InvalidFileResolution,
)
from .colour import frame_to_luma, frame_to_rgb
from .probe import is_avi, main_video_stream, packet_stamps, upright_rotation

# How far back (frames) a seek that landed past the frame it wanted tries again; doubled
# on each further try (`VideoReader._decode_from`).
SEEK_RETRY_FRAMES = 16
# Streams of one file starting further apart than this (s) are taken for a broken header.
MAX_STREAM_OFFSET_S = 60.0
# Frames held at once when playing backwards: 48 frames of 1080p RGB are ~300 MB. Larger
# frames are held fewer at a time, within about the same bytes (2048 x 2048: 25 frames),
# but never fewer than 8, or a long keyframe interval is decoded over and over.
REVERSE_CHUNK_FRAMES = 48
REVERSE_CHUNK_BYTES = 300 * 2**20
MIN_REVERSE_CHUNK_FRAMES = 8
# AAC's encoder delay (priming, 1024-2112 samples) plus the last frame's padding (< 1024),
# at most, in samples at the track's own rate.
MAX_AAC_PADDING_SAMPLES = 4096
# Decoded lossy audio overshoots full scale by a few per cent; only peaks past this are
# taken for a broken level and the track scaled down to 1.0.
OVERSHOOT_PEAK = 2.0


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # position in presentation order, 0-based
    time: float  # seconds since the first frame
    image: np.ndarray  # (height, width, 3) uint8 RGB, upright


# The image of a frame whose pixels were not asked for (`VideoReader.frames(rgb_until_s)`).
NO_IMAGE = np.zeros((0, 0, 3), np.uint8)
NO_IMAGE.flags.writeable = False


@dataclass(frozen=True)
class AudioTrack:
    samples: np.ndarray  # (channels, n) float32 in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0)


class VideoReader:
    """Opens a video once for its frame times; `frames()` and `frames_backward()` stream."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._container = _open_video(self.path)
        self._stream = main_video_stream(self._container)
        self._stream.thread_type = "AUTO"
        self._time_base = self._stream.time_base or Fraction(1, 90000)
        # After one forward pass: each frame's timestamp as decoded (its identity when a
        # later pass seeks), in presentation order, and its time in seconds.
        self._labels: list[int] | None = None
        self._index: dict[int, int] = {}
        self._times: np.ndarray | None = None
        self._rotation: int | None = None
        self._size: tuple[int, int] | None = None  # coded (width, height) of the first frame

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- forward ------------------------------------------------------------
    def frames(self, rgb_until_s: float | None = None) -> Iterator[DecodedFrame]:
        """Every frame in presentation order; also records the exact frame times.

        Frames later than `rgb_until_s` come with `NO_IMAGE`: only their index and time,
        without the colour conversion (half a 1080p frame's decoding cost).
        """
        clock = self._avi_clock()
        self._container.seek(0, stream=self._stream, backward=True)
        labels: list[int] = []
        index_of: dict[int, int] = {}
        times: list[float] = []
        for frame in self._decode():
            label = frame.pts if frame.pts is not None else (labels[-1] + 1 if labels else 0)
            # A duplicated timestamp from a broken muxer: keep the first. (Elsewhere than
            # in AVI a timestamp going back is a broken one too.)
            if label in index_of or (clock is None and labels and label < labels[-1]):
                continue
            index_of[label] = len(labels)
            labels.append(label)
            if clock is None:
                time = float((label - labels[0]) * self._time_base)
            else:
                time = _clock_time(clock, len(labels) - 1, self._time_base)
            times.append(time)
            if rgb_until_s is not None and time > rgb_until_s:
                self._check_size(len(labels) - 1, frame)
                yield DecodedFrame(len(labels) - 1, time, NO_IMAGE)
            else:
                yield self._to_decoded(len(labels) - 1, time, frame)
        self._labels, self._index = labels, index_of
        self._times = np.array(times, np.float64)

    @property
    def frame_times(self) -> np.ndarray:
        """Seconds since the first frame for every frame, after one full `frames()` pass."""
        if self._times is None:
            for _ in self.frames(rgb_until_s=-1.0):  # times only: no pixels needed
                pass
        assert self._times is not None
        return self._times.copy()

    def frames_forward(self, first: int, last: int) -> Iterator[DecodedFrame]:
        """Frames `first … last` (inclusive) in order, seeking to the nearest keyframe."""
        for frame in self._decode_from(first):
            index = self._index_of(frame)
            if index is None or index < first:
                continue
            if index > last:
                break
            yield self._to_decoded(index, self._time_of(index), frame)

    def frames_at(self, indices: Iterable[int]) -> Iterator[DecodedFrame]:
        """Only the frames at `indices`, in order, from one forward decode.

        Frames in between are decoded (H.264 needs them) but never converted to RGB,
        which is most of the cost of a pass that wants a few dozen frames.
        """
        wanted = sorted(set(indices))
        if not wanted:
            return
        pending = iter(wanted)
        target = next(pending)
        for frame in self._decode_from(target):
            index = self._index_of(frame)
            if index is None or index < target:
                continue
            while index > target:  # the wanted frame failed to decode: skip it
                target = next(pending, -1)
                if target < 0:
                    return
            if index == target:
                yield self._to_decoded(index, self._time_of(index), frame)
                target = next(pending, -1)
                if target < 0:
                    return

    def scan(self, indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray, DecodedFrame | None]]:
        """Every frame in order: its grey levels (the decoder's own luma plane, upright,
        with no colour conversion) and, at `indices`, the RGB frame as well."""
        wanted = set(indices)
        for frame in self._decode_from(0):
            index = self._index_of(frame)
            if index is None:
                continue
            self._check_size(index, frame)
            full = self._to_decoded(index, self._time_of(index), frame) if index in wanted else None
            yield index, self._luma(frame), full

    # -- backward -----------------------------------------------------------
    def frames_backward(self, first: int, last: int) -> Iterator[DecodedFrame]:
        """Frames `last, last-1, …, first` (inclusive), decoded chunk by chunk."""
        end = last
        frame_bytes = 3 * self._size[0] * self._size[1] if self._size else 0
        held = REVERSE_CHUNK_FRAMES
        if frame_bytes:
            held = max(MIN_REVERSE_CHUNK_FRAMES, min(held, REVERSE_CHUNK_BYTES // frame_bytes))
        while end >= first:
            start = max(first, end - held + 1)
            chunk: list[DecodedFrame] = []
            for frame in self._decode_from(start):
                index = self._index_of(frame)
                if index is None or index < start:
                    continue
                if index > end:
                    break
                chunk.append(self._to_decoded(index, self._time_of(index), frame))
            yield from reversed(chunk)
            end = start - 1

    # -- helpers ------------------------------------------------------------
    def _known_labels(self) -> list[int]:
        if self._labels is None:
            _ = self.frame_times
        assert self._labels is not None
        return self._labels

    def _decode_from(self, index: int) -> Iterator[av.VideoFrame]:
        """Decoded frames from a keyframe at or before frame `index` (presentation order).

        A seek to a frame's timestamp lands on the keyframe at or before it, but by which
        clock differs by container: seeking to one of the last B-frames before a keyframe
        lands past it in fragmented MP4, and in AVI, whose frame numbers are storage slots
        plus one. Where the first frame decoded is already past `index`, seek again from
        further back, then from the start.
        """
        labels = self._known_labels()
        back = 0
        while True:
            start = max(index - back, 0)
            self._container.seek(labels[start], stream=self._stream, backward=True)
            frames = self._decode()
            first = next((f for f in frames if self._index_of(f) is not None), None)
            if first is None:
                return
            landed = self._index_of(first)
            if start == 0 or (landed is not None and landed <= index):
                yield first
                yield from frames
                return
            back = max(2 * back, SEEK_RETRY_FRAMES)

    def _time_of(self, index: int) -> float:
        assert self._times is not None
        return float(self._times[index])

    def _index_of(self, frame: av.VideoFrame) -> int | None:
        """Source index of a decoded frame, matched by its timestamp to the forward pass."""
        self._known_labels()
        return None if frame.pts is None else self._index.get(frame.pts)

    def _avi_clock(self) -> list[int] | None:
        """For AVI, its frames' slots on the stream's constant-rate grid; None otherwise.

        AVI stores no presentation times: FFmpeg numbers its chunks in the order they are
        stored, which is decoding order. With B-frames the decoder hands back frames in
        presentation order carrying those numbers scrambled (1, 4, 3, 5, 2, ...); read as
        times, they put frames out of order, and a strictly rising clock dropped half of
        them. The numbers still name each frame uniquely, so they stay its identity, and
        the n-th frame shown takes the n-th slot (`probe.packet_stamps`) as its time.
        """
        if not is_avi(self._container):
            return None
        return packet_stamps(self._container, self._stream) or None

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Decoded frames, packet by packet: a damaged packet is skipped, as players do.

        Stopping at the first damaged packet cut a clip with one zeroed stretch a third
        of the way in to 59 of its 199 frames; skipping it keeps 169, and the decoder
        resumes cleanly at the next keyframe. A container that cannot be read further
        (a truncated tail) ends the video there; validation already proved the head.
        """
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except (StopIteration, av.error.FFmpegError, ValueError):
                return
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue
            yield from frames

    def _check_size(self, index: int, frame: av.VideoFrame) -> None:
        # Validation read the size of the first frame only. A stream that switches to
        # another size later (legal in H.264, and a way to smuggle 8K frames past the
        # limit) would be cropped or scaled by later stages: refuse it, before the
        # frame is converted to RGB.
        size = (frame.width, frame.height)
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise InvalidFileResolution(
                f"The video changes size mid-stream: frame {index} is {size[0]}×{size[1]}, "
                f"earlier frames {self._size[0]}×{self._size[1]}. Re-encode it at one size."
            )
        if self._rotation is None:
            self._rotation = upright_rotation(frame)

    def _luma(self, frame: av.VideoFrame) -> np.ndarray:
        """Grey levels of a frame, upright (`colour.frame_to_luma`)."""
        grey = frame_to_luma(frame)
        if self._rotation:
            grey = np.ascontiguousarray(np.rot90(grey, k=self._rotation // 90))
        return grey

    def _to_decoded(self, index: int, time: float, frame: av.VideoFrame) -> DecodedFrame:
        self._check_size(index, frame)
        image = frame_to_rgb(frame)
        if self._rotation:
            # FFmpeg's angle is counter-clockwise; np.rot90 turns counter-clockwise too.
            image = np.ascontiguousarray(np.rot90(image, k=self._rotation // 90))
        return DecodedFrame(index=index, time=time, image=image)


def _clock_time(clock: list[int], index: int, time_base: Fraction) -> float:
    """Seconds from the first entry of `clock` to its `index`-th, extended at its last
    step past its end (a stream that decodes more frames than it has chunks)."""
    if index < len(clock):
        return float((clock[index] - clock[0]) * time_base)
    step = clock[-1] - clock[-2] if len(clock) > 1 else 1
    return float((clock[-1] - clock[0] + (index - len(clock) + 1) * step) * time_base)


def _open_video(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError) as exc:
        raise InvalidFileOpenError(
            "The video file cannot be opened: it is damaged or not a video."
        ) from exc
    if not container.streams.video:
        container.close()
        raise InvalidFileOpenError("The video file has no video stream: it is not a video.")
    return container


def iter_frames(path: str | os.PathLike[str]) -> Iterator[DecodedFrame]:
    """Convenience: stream every frame of a video file, upright, in presentation order."""
    with VideoReader(path) as reader:
        yield from reader.frames()


def read_audio(
    path: str | os.PathLike[str], sample_rate: int | None = None, mono: bool = False
) -> AudioTrack:
    """Decode the first audio stream to float32, optionally resampled and mixed down.

    Audio is small next to video (120 s of 48 kHz stereo is 46 MB), so it is held whole.
    Samples come back finite and within about [-1, 1] (see `_full_scale`).
    """
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError) as exc:
        raise InvalidFileOpenError(
            "The audio file cannot be opened: it is damaged or not audio."
        ) from exc
    with container:
        if not container.streams.audio:
            raise InvalidFileOpenError("The audio file has no audio stream.")
        stream = container.streams.audio[0]
        rate = sample_rate or stream.codec_context.sample_rate
        channels_in = stream.codec_context.channels
        native_rate = stream.codec_context.sample_rate or rate
        layout = "mono" if mono or channels_in == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as exc:
            if not chunks:  # not a damaged tail: nothing at all could be mixed down
                raise InvalidFileFormat(
                    f"The audio ({channels_in} channels) cannot be decoded and mixed down to "
                    "stereo: save it as mono or stereo."
                ) from exc
            # A damaged tail: keep what decoded (validation checked the whole file).
        # AAC decoders emit whole 1024-sample frames, padding the end; in an MP4 the
        # track's duration (from its edit list) says where the real audio stops.
        # Elsewhere (mp3, ADTS) durations are estimates, so nothing is trimmed.
        declared = None
        if container.format.name.startswith("mov") and stream.duration and stream.time_base:
            declared = float(stream.duration * stream.time_base)
    channels = 1 if layout == "mono" else 2
    samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    if declared is not None:
        kept = round(declared * rate)
        # Only padding is trimmed: a header that claims far less than the samples hold
        # is wrong (validation measured the samples), and trusting it cut a 5 s track
        # to nothing.
        if samples.shape[1] - kept <= MAX_AAC_PADDING_SAMPLES * rate / native_rate:
            samples = samples[:, :kept]
    return AudioTrack(samples=_full_scale(samples.astype(np.float32, copy=False)), sample_rate=rate)


def read_audio_on_video_clock(path: str | os.PathLike[str]) -> AudioTrack:
    """A video file's own audio track with sample 0 at the video stream's start.

    The two streams of a file may start apart: a cut copied without re-encoding starts
    the video at the keyframe before the audio, and some recorders start the audio late.
    `read_audio` starts at the first audio sample, so a frame and the sound heard with it
    were paired that far apart. Leading silence is added or leading samples dropped; an
    offset past `MAX_STREAM_OFFSET_S` is taken for a broken header and ignored.
    """
    track = read_audio(path)
    offset = _audio_start_after_video(path)
    if abs(offset) > MAX_STREAM_OFFSET_S:
        return track
    n = round(abs(offset) * track.sample_rate)
    if offset > 0:
        samples = np.pad(track.samples, ((0, 0), (n, 0)))
    else:
        samples = track.samples[:, n:]
    return AudioTrack(np.ascontiguousarray(samples), track.sample_rate)


def _audio_start_after_video(path: str | os.PathLike[str]) -> float:
    """Seconds from the video stream's start to the audio stream's (negative: audio first)."""
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        video, audio = main_video_stream(container), container.streams.audio[0]
        starts = [
            float(s.start_time * s.time_base) if s.start_time is not None and s.time_base else 0.0
            for s in (video, audio)
        ]
    return starts[1] - starts[0]


def _full_scale(samples: np.ndarray) -> np.ndarray:
    """Refuse non-finite samples; scale audio far beyond full scale back within [-1, 1].

    Float WAV can hold NaN or values far past 1.0: the AAC encoder fails on them after the
    whole job has run, and the mouth model turns them into NaN shapes. Scaling (rather
    than clipping) keeps the speech whole, as float audio is meant to be turned down.
    Peaks up to `OVERSHOOT_PEAK` are left as they are: decoded AAC or MP3 overshoots 1.0
    a little, and turning the whole track down for that would change its loudness.
    """
    if not np.isfinite(samples).all():
        raise InvalidFileContent(
            "The audio holds invalid samples (NaN or infinite values): re-export it as PCM."
        )
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > OVERSHOOT_PEAK:
        samples = samples / np.float32(peak)
    return samples


_DONE = object()


Item = TypeVar("Item")


def prefetch(frames: Iterator[Item], depth: int = 4) -> Iterator[Item]:
    """Decode up to `depth` frames (or `scan` items) ahead on a helper thread.

    FFmpeg decodes and converts pixels without holding the GIL, so decoding the next
    frames overlaps the face model, the renderer and x264 working on this one. The
    thread is stopped and joined before this generator returns (also on error or
    when the consumer stops early), so the container is never closed under it.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        slots.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            slots.put(error)

    worker = threading.Thread(target=produce, name="videoretalk-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:  # unblock a producer waiting on a full queue
                slots.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)
