"""Fixtures for renderer tests: real frames of shared clips with their face-mesh track.

The stand-in track comes from `benchmarks/render_support.py` (MediaPipe + similarity
fit), the same self-reenactment set-up the benchmark and the strips use.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from render_support import MeshTrack, inner_opening, read_frames, track_images

from videoretalk.media.decode import DecodedFrame

CLIP_FRAMES = 36


@dataclass
class Clip:
    frames: list[DecodedFrame]
    track: MeshTrack
    opening: np.ndarray


def _tracked(video: Path, n_frames: int, crop: tuple[slice, slice] | None = None) -> Clip:
    """The first `n_frames` of `video` (cut to `crop`) with their face track; every frame
    must have a face."""
    frames = read_frames(video, n_frames)
    if crop is not None:
        frames = [
            DecodedFrame(f.index, f.time, np.ascontiguousarray(f.image[crop])) for f in frames
        ]
    track = track_images(f.image for f in frames)
    assert track.present.all()
    return Clip(frames, track, inner_opening(track.canonical))


@pytest.fixture(scope="session")
def talk1(dev_dir: Path) -> Clip:
    return _tracked(dev_dir / "talk1.mp4", CLIP_FRAMES)


@pytest.fixture(scope="session")
def talk4(dev_dir: Path) -> Clip:
    """100 frames of talk4: closed-mouth frames (13, 42, 78) and wide ones (92-96)."""
    return _tracked(dev_dir / "talk4.mp4", 100)


@pytest.fixture(scope="session")
def seated_vertical(train_dir: Path) -> Clip:
    """30 frames of a 1080x1920 phone video, cut to 540 px around the face (120 px between
    the outer eye corners): the mouth opens wide (0.37-0.39) at frames 20-24."""
    return _tracked(
        train_dir / "speaker_seated_vertical_20s.mp4", 30, (slice(450, 990), slice(350, 890))
    )
