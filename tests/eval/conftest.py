"""Fixtures for the quality-metric tests: constructed landmarks and a cartoon talking head."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for eval_media (importlib mode)

from eval_media import (
    CARTOON_SECONDS,
    FPS,
    cartoon_face,
    modulated_speech,
    mouth_gap,
    synthetic_landmarks,
    write_video,
    write_wav,
)


@pytest.fixture
def landmarks() -> Callable[..., np.ndarray]:
    return synthetic_landmarks


@pytest.fixture(scope="session")
def cartoon(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A cartoon talking head, its speech (sound 0.12 s after the mouth) and a frozen-mouth copy."""
    folder = tmp_path_factory.mktemp("cartoon")
    times = np.arange(int(CARTOON_SECONDS * FPS)) / FPS
    frames = [cartoon_face(g) for g in mouth_gap(times)]
    speech = modulated_speech(CARTOON_SECONDS, lag=0.12)
    return {
        "video": write_video(folder / "talking.mp4", frames, speech),
        "audio": write_wav(folder / "speech.wav", speech),
        "frozen": write_video(folder / "frozen.mp4", [cartoon_face(0.0)] * len(frames), speech),
    }
