"""Driving-audio analysis: features on a 10 ms grid and voice activity."""

from __future__ import annotations

from .._lazy import lazy_attributes
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


__getattr__ = lazy_attributes(__name__, _LAZY)
