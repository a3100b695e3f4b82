"""Shared cases for the face tests, built once per session from the dev clips."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for face_clips (importlib mode)

from face_clips import BIG, N_FRAMES, SMALL, frames, last_frame, side_by_side, write_video


@pytest.fixture(scope="session")
def face_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("face_cases")


@pytest.fixture(scope="session")
def refs(dev_dir: Path) -> dict[str, np.ndarray]:
    """Reference stills of each person, from the end of their clip (not in the cases)."""
    return {name: last_frame(dev_dir, name) for name in ("talk2", "talk3", "talk4")}


@pytest.fixture(scope="session")
def two_person(dev_dir: Path, face_cases: Path) -> dict[str, Path]:
    """talk4 | talk2 side by side, each version with a different person larger."""
    out = {}
    for big, small in (("talk4", "talk2"), ("talk2", "talk4")):
        left = frames(dev_dir, big, N_FRAMES, BIG)
        right = frames(dev_dir, small, N_FRAMES, SMALL)
        images = [side_by_side(a, b, BIG) for a, b in zip(left, right)]
        out[big] = write_video(face_cases / f"{big}_big_left.mp4", images)
    return out
