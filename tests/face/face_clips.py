"""Build hard face-tracking cases from the shared dev clips, in code, into temp folders.

Frames are read once per (clip, count, height) and cached for the session; cases are
lists of RGB frames written to H.264 so the analyser sees real decoded video.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from videoretalk.face import FaceTrack
from videoretalk.media.decode import iter_frames

FPS = 25
N_FRAMES = 50  # 2 s at 25 fps: enough for cuts, gaps and re-identification
BIG, SMALL = 480, 360  # heights of the larger and the smaller person


@functools.cache
def _frames(path: str, count: int, height: int) -> tuple[np.ndarray, ...]:
    out = []
    for frame in iter_frames(path):
        if len(out) >= count:
            break
        img = frame.image
        scale = height / img.shape[0]
        out.append(
            cv2.resize(
                img, (round(img.shape[1] * scale) // 2 * 2, height), interpolation=cv2.INTER_AREA
            )
        )
    return tuple(out)


def frames(dev_dir: Path, name: str, count: int, height: int) -> list[np.ndarray]:
    """The first `count` frames of dev clip `name`, scaled to `height` (read-only arrays)."""
    return list(_frames(str(dev_dir / f"{name}.mp4"), count, height))


def last_frame(dev_dir: Path, name: str) -> np.ndarray:
    """A still from the end of a clip, away from the frames the cases use (a reference)."""
    last = None
    for frame in iter_frames(dev_dir / f"{name}.mp4"):
        last = frame.image
    assert last is not None
    return np.ascontiguousarray(last)


def side_by_side(left: np.ndarray, right: np.ndarray, height: int) -> np.ndarray:
    """Two frames on one canvas `height` tall, each centred vertically in its half."""
    width = left.shape[1] + right.shape[1]
    canvas = np.full((height, width, 3), 90, np.uint8)
    for x0, img in ((0, left), (left.shape[1], right)):
        y0 = (height - img.shape[0]) // 2
        canvas[y0 : y0 + img.shape[0], x0 : x0 + img.shape[1]] = img
    return canvas


def write_video(path: Path, images: Sequence[np.ndarray], fps: int = FPS) -> Path:
    h, w = images[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for img in images:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def face_centre_x(track: FaceTrack, index: int) -> float:
    return float(np.mean(track.landmarks[index, :, 0]))
