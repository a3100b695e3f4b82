"""Constructed faces with known mouths: landmark sets, a cartoon talking head, its speech."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from mediafactory import encode_audio

from videoretalk.eval.signals import INNER_LIP_PAIRS
from videoretalk.face.landmarks import (
    JAW,
    LEFT_EYE_OUTER,
    LIPS_OUTER,
    NOSE_BASE,
    NUM_POINTS,
    RIGHT_EYE_OUTER,
)

FPS = 25
SIZE = 480  # px; the metrics have no size minimum, and the face fills the frame as in the clips
CARTOON_SECONDS = 4.0
SPEECH_RATE = 16_000


def synthetic_landmarks(
    centre: tuple[float, float] = (320.0, 320.0),
    iod: float = 200.0,
    gap: float = 0.0,
    roll_degrees: float = 0.0,
) -> np.ndarray:
    """(478, 2) points: eyes `iod` apart, inner lips `gap` px apart, a jaw arc, all rolled."""
    cx, cy = centre
    points = np.tile(np.array([cx, cy], np.float64), (NUM_POINTS, 1))
    points[RIGHT_EYE_OUTER] = (cx - iod / 2, cy - 0.6 * iod)
    points[LEFT_EYE_OUTER] = (cx + iod / 2, cy - 0.6 * iod)
    mouth_y = cy + 0.5 * iod
    for k, (upper, lower) in enumerate(INNER_LIP_PAIRS):
        x = cx + (k - 2) * 0.08 * iod
        points[upper] = (x, mouth_y - gap / 2)
        points[lower] = (x, mouth_y + gap / 2)
    for k, index in enumerate(LIPS_OUTER):
        angle = 2 * np.pi * k / len(LIPS_OUTER)
        points[index] = (
            cx - 0.3 * iod * np.cos(angle),
            mouth_y + (0.12 * iod + gap / 2) * np.sin(angle),
        )
    for k, index in enumerate(JAW):
        angle = np.pi * (1 - k / (len(JAW) - 1))  # ear (left of image) → chin → ear
        points[index] = (cx + 0.75 * iod * np.cos(angle), cy + 0.95 * iod * np.sin(angle))
    points[NOSE_BASE] = (cx, cy + 0.25 * iod)
    theta = np.radians(roll_degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return (points - centre) @ rotation.T + centre


def mouth_gap(t: np.ndarray) -> np.ndarray:
    """The cartoon's inner-lip gap in px: syllables at 2 Hz, closed 1.6–2.4 s (a pause)."""
    gap = 8.0 * (1 - np.cos(2 * np.pi * 2.0 * t))  # 0..16 px
    return np.where((t >= 1.6) & (t < 2.4), 0.0, gap)


def cartoon_face(gap: float) -> np.ndarray:
    """A drawn face MediaPipe's mesh finds; its mouth slit is 2·`gap` px tall (`gap` up to ~20)."""
    image = np.full((SIZE, SIZE, 3), (90, 120, 150), np.uint8)  # RGB
    cx, cy = SIZE // 2, SIZE // 2 + 10
    cv2.ellipse(image, (cx, cy), (120, 160), 0, 0, 360, (170, 190, 225), -1)
    for x in (cx - 45, cx + 45):
        cv2.ellipse(image, (x, cy - 40), (24, 12), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(image, (x, cy - 40), 9, (60, 40, 30), -1)
        cv2.line(image, (x - 28, cy - 70), (x + 28, cy - 75), (60, 40, 30), 5)
    cv2.line(image, (cx, cy - 35), (cx - 12, cy + 30), (130, 140, 180), 4)
    cv2.line(image, (cx - 12, cy + 30), (cx + 10, cy + 32), (130, 140, 180), 4)
    g = round(gap)
    cv2.ellipse(image, (cx, cy + 80), (45, 8 + g), 0, 0, 360, (150, 60, 70), -1)
    cv2.ellipse(image, (cx, cy + 80), (36, max(1, g)), 0, 0, 360, (40, 10, 20), -1)
    return image


def modulated_speech(seconds: float, lag: float) -> np.ndarray:
    """A voice whose loudness follows the cartoon's mouth, `lag` s later (> 0: sound after mouth).

    A 130 Hz buzz with its harmonics and a little breath noise: voiced, as speech is (the
    VAD drops unpitched noise that no neural voice detector hears).
    """
    t = np.arange(int(seconds * SPEECH_RATE)) / SPEECH_RATE
    envelope = mouth_gap(t - lag) / 18.0
    buzz = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 30))
    rng = np.random.default_rng(7)
    voice = buzz / np.abs(buzz).max() + 0.1 * rng.standard_normal(t.size)
    return (0.3 * envelope * voice).astype(np.float32)


def write_video(path: Path, frames: list[np.ndarray], audio: np.ndarray | None = None) -> Path:
    time_base = Fraction(1, 30000)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.codec_context.options = {"crf": "12", "preset": "ultrafast"}
        sound = (
            _audio_stream(out, "aac") if audio is not None else None
        )  # before the header is written
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = round(i / FPS / time_base)
            frame.time_base = time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None and audio is not None:
            encode_audio(out, sound, audio)
    return path


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with av.open(str(path), mode="w") as out:
        encode_audio(out, _audio_stream(out, "pcm_s16le"), samples)
    return path


def _audio_stream(out: av.container.OutputContainer, codec: str) -> av.AudioStream:
    stream = out.add_stream(codec, rate=SPEECH_RATE)
    stream.codec_context.layout = "mono"
    return stream
