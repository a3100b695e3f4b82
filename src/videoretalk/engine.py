"""The lip-sync engine seen by the pipeline: observe source frames, plan, render.

The pipeline does not know how lips are re-drawn; it hands the engine each source
frame once (`observe`), then the timeline and audio (`plan`), then asks for each
output frame (`render`). A frame the engine does not edit is returned as the very
same array, which the pipeline counts as untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import Settings
from .media.decode import AudioTrack, DecodedFrame
from .media.timeline import Timeline


class LipSyncEngine(Protocol):
    def observe(self, frame: DecodedFrame) -> None: ...

    def plan(
        self, frame_times: np.ndarray, timeline: Timeline, audio: AudioTrack, source_audio_path: Path
    ) -> None: ...

    def render(self, output_index: int, frame: DecodedFrame) -> np.ndarray: ...


class PassthroughEngine:
    """Leaves every frame as it is: the media layer on its own (timing, encoding)."""

    def observe(self, frame: DecodedFrame) -> None:
        pass

    def plan(
        self, frame_times: np.ndarray, timeline: Timeline, audio: AudioTrack, source_audio_path: Path
    ) -> None:
        pass

    def render(self, output_index: int, frame: DecodedFrame) -> np.ndarray:
        return frame.image


def load_engine(
    settings: Settings,
    ref_image: str | os.PathLike[str] | None = None,
    query_face_threshold: int | None = None,
) -> LipSyncEngine:
    """The one place that chooses the engine implementation."""
    return PassthroughEngine()
