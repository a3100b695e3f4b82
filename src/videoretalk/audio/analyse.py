"""One call from a decoded track to the features the mouth model consumes."""

from __future__ import annotations

from ..media.decode import AudioTrack
from .features import AudioFeatures, log_mel, mel_power, normalise, step_energy_db, to_mono_16k
from .vad import VadSettings, detect_speech


def analyse_audio(audio: AudioTrack, vad: VadSettings | None = None) -> AudioFeatures:
    """Mono 16 kHz, voice activity, then log-mel normalised over the speech steps."""
    mono = to_mono_16k(audio)
    speech = detect_speech(mono, vad or VadSettings())
    features = normalise(log_mel(mel_power(mono)), speech)
    return AudioFeatures(
        log_mel=features,
        speech=speech,
        energy_db=step_energy_db(mono),
        duration=mono.size / 16_000,
    )
