"""Driving-audio analysis: features on a 10 ms grid and voice activity."""

from __future__ import annotations

from typing import Any

from .settings import VadSettings

__all__ = [
    "SAMPLE_RATE",
    "STEP_SECONDS",
    "AudioFeatures",
    "VadSettings",
    "analyse_audio",
    "detect_speech",
    "sample_at",
    "to_mono_16k",
]

# `config` imports `VadSettings` through here: numpy/scipy/webrtcvad load on first use.
_LAZY = {
    "SAMPLE_RATE": "features",
    "STEP_SECONDS": "features",
    "AudioFeatures": "features",
    "sample_at": "features",
    "to_mono_16k": "features",
    "analyse_audio": "analyse",
    "detect_speech": "vad",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
