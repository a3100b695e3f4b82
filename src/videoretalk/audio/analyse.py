"""One call from a decoded track to the features the mouth model consumes."""

from __future__ import annotations

from ..media.decode import AudioTrack
from .features import AudioFeatures, log_mel, mel_power, normalise, step_energy_db, to_mono_16k
from .phones import phone_inputs
from .vad import VadSettings, detect_speech


def analyse_audio(
    audio: AudioTrack, vad: VadSettings | None = None, with_phones: bool = False
) -> AudioFeatures:
    """Mono 16 kHz, voice activity, then log-mel normalised over the speech steps.

    `with_phones` adds English phone classes (None where pocketsphinx is missing).
    """
    mono = to_mono_16k(audio)
    speech = detect_speech(mono, vad or VadSettings())
    features = normalise(log_mel(mel_power(mono)), speech)
    return AudioFeatures(
        log_mel=features,
        speech=speech,
        energy_db=step_energy_db(mono),
        duration=mono.size / 16_000,
        phones=phone_inputs(mono) if with_phones else None,
    )
