"""Driving-audio analysis: features on a 10 ms grid and voice activity."""

from .analyse import analyse_audio
from .features import SAMPLE_RATE, STEP_SECONDS, AudioFeatures, sample_at, to_mono_16k
from .vad import VadSettings, detect_speech

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
