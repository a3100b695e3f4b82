"""Encode and mux the output: H.264 yuv420p + AAC in a fast-start MP4.

Frames are written one at a time with their exact presentation times (so
variable-frame-rate input keeps its timing), and the driving audio is encoded
alongside, never more than a frame ahead of the video, so the file is well
interleaved for progressive playback.
"""

from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Self

import av
import numpy as np

from ..config import EncodeSettings
from .decode import AudioTrack
from .probe import UNSPECIFIED, UNTAGGED, ColourTags

# Output timestamps are kept in 1/90000 s ticks (the MPEG clock): fine enough for
# any input timing while keeping integer pts.
OUTPUT_TIME_BASE = Fraction(1, 90000)
# AAC encoders accept only these rates; anything else is resampled to 48 kHz.
_AAC_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000}
_AUDIO_FRAME_SAMPLES = 1024  # one AAC frame
# Matrices (AVColorSpace numbers) that FFmpeg's scaler converts RGB to YUV with, and its
# own number for each: BT.709, FCC, BT.601 (as BT.470BG and as SMPTE 170M), SMPTE 240M,
# BT.2020 (non-constant luminance). Others are encoded as BT.601 and left untagged.
_CONVERTIBLE_MATRICES = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9}


class VideoWriter:
    """Write upright RGB frames at given times, plus the audio trimmed to `duration`.

    Pixels are square unless `pixel_aspect` (width over height of one pixel) says not;
    colours are encoded and tagged as `colour` says (the source's: `ColourTags`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        nominal_fps: float,
        audio: AudioTrack,
        duration: float,
        settings: EncodeSettings,
        pixel_aspect: Fraction = Fraction(1),
        colour: ColourTags = UNTAGGED,
    ) -> None:
        self.path = Path(path)
        self.duration = duration
        self._container = av.open(
            str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(nominal_fps).limit_denominator(1001) if nominal_fps > 0 else Fraction(25)
        self._video = self._container.add_stream("libx264", rate=rate)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = OUTPUT_TIME_BASE
        self._video.codec_context.time_base = OUTPUT_TIME_BASE
        self._video.codec_context.options = {"crf": str(settings.crf), "preset": settings.preset}
        if pixel_aspect != 1:  # the source's non-square pixels (`VideoInfo.pixel_aspect`)
            self._video.codec_context.sample_aspect_ratio = pixel_aspect
        self._matrix = _CONVERTIBLE_MATRICES.get(colour.matrix)
        context = self._video.codec_context
        if self._matrix is not None:
            context.colorspace = colour.matrix
        if colour.primaries != UNSPECIFIED:
            context.color_primaries = colour.primaries
        if colour.transfer != UNSPECIFIED:
            context.color_trc = colour.transfer
        if settings.threads:
            self._video.codec_context.thread_count = settings.threads
        self._audio_samples = self._prepare_audio(audio, duration)
        self._audio = self._container.add_stream("aac", rate=self._audio_rate)
        self._audio.codec_context.layout = "mono" if self._audio_samples.shape[0] == 1 else "stereo"
        self._audio.codec_context.bit_rate = settings.audio_bitrate
        self._audio_written = 0
        self._closed = False
        self.frames_written = 0

    def _prepare_audio(self, audio: AudioTrack, duration: float) -> np.ndarray:
        samples, rate = audio.samples, audio.sample_rate
        if rate not in _AAC_RATES:
            samples, rate = _resample(samples, rate, 48000), 48000
        self._audio_rate = rate
        wanted = round(duration * rate)
        if samples.shape[1] < wanted:
            # Only possible by rounding (audio is never shorter than the output):
            # pad with silence rather than end the audio early.
            samples = np.pad(samples, ((0, 0), (0, wanted - samples.shape[1])))
        return np.ascontiguousarray(samples[:, :wanted], dtype=np.float32)

    def write(self, image: np.ndarray, time: float) -> None:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        if self._matrix is not None:  # else the encoder converts, as BT.601
            frame = frame.reformat(format="yuv420p", dst_colorspace=self._matrix)
        frame.pts = round(time / OUTPUT_TIME_BASE)
        frame.time_base = OUTPUT_TIME_BASE
        self._container.mux(self._video.encode(frame))
        self.frames_written += 1
        self._write_audio_until(time)

    def _write_audio_until(self, time: float | None) -> None:
        total = self._audio_samples.shape[1]
        end = total if time is None else min(total, int(time * self._audio_rate))
        layout = self._audio.codec_context.layout.name
        while self._audio_written < end:
            stop = min(self._audio_written + _AUDIO_FRAME_SAMPLES, total)
            if (
                time is not None
                and stop - self._audio_written < _AUDIO_FRAME_SAMPLES
                and stop < total
            ):
                break
            chunk = self._audio_samples[:, self._audio_written : stop]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = self._audio_rate
            frame.pts = self._audio_written
            frame.time_base = Fraction(1, self._audio_rate)
            self._container.mux(self._audio.encode(frame))
            self._audio_written = stop

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._container.mux(self._video.encode(None))
        self._write_audio_until(None)
        self._container.mux(self._audio.encode(None))
        self._container.close()

    def abort(self) -> None:
        """Close without finishing and remove the partial file."""
        self._closed = True
        try:
            self._container.close()
        finally:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    g = np.gcd(rate, new_rate)
    return resample_poly(samples, new_rate // g, rate // g, axis=1).astype(np.float32)


class WriteBehind:
    """Hand frames to `VideoWriter.write` on a helper thread, `depth` frames deep.

    Colour conversion and x264 run without the GIL, so encoding frame t overlaps
    rendering frame t+1. Errors from the writer are raised in the caller, at the
    next `write` or on leaving the block; the thread is always joined.
    """

    def __init__(self, writer: VideoWriter, depth: int = 4) -> None:
        self._writer = writer
        self._slots: queue.Queue[tuple[np.ndarray, float] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="videoretalk-encode", daemon=True)

    def _run(self) -> None:
        while (item := self._slots.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write(*item)
                except BaseException as error:  # noqa: BLE001 - raised in the caller
                    self._error = error

    def write(self, image: np.ndarray, time: float) -> None:
        if self._error is not None:
            raise self._error
        self._slots.put((image, time))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._slots.put(None)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error
