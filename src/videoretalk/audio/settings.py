"""Voice-activity settings, read from `VIDEORETALK_MOTION_VAD_*` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameter


@dataclass(frozen=True)
class VadSettings:
    aggressiveness: int = 3  # webrtcvad 0..3; 3 lets the fewest breaths and noise through
    below_speech_db: float = 30.0  # steps this far under the loud-speech level are breaths / noise
    above_floor_db: float = 8.0  # steps must rise this far above the noise floor
    bridge_gap_s: float = 0.08  # gaps shorter than this inside speech are bridged
    min_speech_s: float = 0.05  # speech runs shorter than this are dropped
    min_tone_s: float = 0.15  # a steady pure tone this long counts as voice (a bleep)

    def __post_init__(self) -> None:
        if self.aggressiveness not in (0, 1, 2, 3):
            raise InvalidParameter(
                f"VadSettings.aggressiveness must be 0..3, got {self.aggressiveness}"
            )
        if self.below_speech_db <= 0 or self.above_floor_db < 0:
            raise InvalidParameter(
                "VadSettings: below_speech_db must be > 0 and above_floor_db >= 0"
            )
