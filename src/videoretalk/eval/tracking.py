"""Face landmarks for every frame of a video, as the metrics need them.

Two sources, chosen in `default_landmarker()`: the engine's own face stage
(`videoretalk.face.analyse_video`) when it is installed, else MediaPipe's FaceMesh
solution with refined lips (478 points). Either way the result is a `VideoTrack`
with NaN landmarks where no face was found, so a missing face never aborts a report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..face.landmarks import NUM_POINTS
from ..media.decode import VideoReader

Pathish = str | os.PathLike[str]


@dataclass(frozen=True)
class VideoTrack:
    """Per-frame landmarks of one video, in that video's own frame order."""

    path: Path
    times: np.ndarray  # (N,) seconds from the first frame
    landmarks: np.ndarray  # (N, 478, 2) float32 pixels (x, y); NaN where no face
    width: int
    height: int
    source: str  # which landmarker produced it

    @property
    def present(self) -> np.ndarray:
        return np.isfinite(self.landmarks[:, 0, 0])

    def landmarks_at(self, index: int) -> np.ndarray | None:
        points = self.landmarks[index]
        return points if np.isfinite(points[0, 0]) else None


Landmarker = Callable[[Pathish], VideoTrack]


def default_landmarker() -> Landmarker:
    """The one place that chooses how faces are measured."""
    try:
        from ..face import analyse_video
    except ImportError:
        return mediapipe_track
    return lambda path: _face_stage_track(path, analyse_video)


def mediapipe_track(path: Pathish) -> VideoTrack:
    """Track one face through the video with MediaPipe FaceMesh (tracking mode)."""
    import mediapipe as mp

    times: list[float] = []
    rows: list[np.ndarray] = []
    width = height = 0
    missing = np.full((NUM_POINTS, 2), np.nan, np.float32)
    # A fresh tracker per video: its state must not carry one clip's face into the next.
    with (
        mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=True
        ) as mesh,
        VideoReader(path) as reader,
    ):
        for frame in reader.frames():
            height, width = frame.image.shape[:2]
            found = mesh.process(frame.image).multi_face_landmarks
            if found:
                points = np.array(
                    [(p.x * width, p.y * height) for p in found[0].landmark], np.float32
                )
                rows.append(points[:NUM_POINTS])
            else:
                rows.append(missing)
            times.append(frame.time)
    landmarks = np.stack(rows) if rows else np.zeros((0, NUM_POINTS, 2), np.float32)
    return VideoTrack(Path(path), np.asarray(times), landmarks, width, height, "mediapipe-facemesh")


def _face_stage_track(path: Pathish, analyse_video: Callable[[Pathish], Any]) -> VideoTrack:
    track = analyse_video(path)
    landmarks = np.array(track.landmarks, np.float32)[..., :2]
    landmarks[~np.asarray(track.present, bool)] = np.nan
    width, height = track.frame_size
    return VideoTrack(
        Path(path),
        np.asarray(track.frame_times, np.float64),
        landmarks,
        int(width),
        int(height),
        "videoretalk.face",
    )
