"""Vocal-tract normalisation: formant spacing of synthetic vowels, and the band warp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthvoice import TUBE, vowel

from videoretalk.audio import SAMPLE_RATE, analyse_audio
from videoretalk.audio.features import log_mel, mel_power, normalise, power_spectrum, to_mono_16k
from videoretalk.audio.vocal_tract import (
    NEIGHBOUR_LOG_SPREAD,
    REFERENCE_SPACING_HZ,
    WARP_LIMITS,
    formant_spacing,
    neighbouring_warps,
)
from videoretalk.media.decode import AudioTrack, read_audio


def test_spacing_of_a_uniform_tube_vowel() -> None:
    mono = vowel(TUBE)
    spacing = formant_spacing(mono, np.ones(mono.size // 160 + 1, bool))
    assert spacing is not None and abs(spacing - 515.0) < 25.0


def test_a_shorter_tract_scales_the_spacing_whatever_the_vowel() -> None:
    # An /a/-like and an /i/-like vowel of the same tract give about the same spacing...
    speech = np.ones(SAMPLE_RATE * 2 // 160 + 1, bool)
    a_like = formant_spacing(vowel((700.0, 1220.0, 2600.0, 3600.0)), speech)
    i_like = formant_spacing(vowel((300.0, 2200.0, 2950.0, 3700.0)), speech)
    assert a_like is not None and i_like is not None
    assert abs(a_like / i_like - 1.0) < 0.15
    # ... and the same vowel from a tract 1.25x shorter is 1.25x wider spaced.
    child = formant_spacing(vowel(tuple(1.25 * f for f in TUBE), pitch=260.0), speech)
    adult = formant_spacing(vowel(TUBE), speech)
    assert child is not None and adult is not None
    assert abs(child / adult - 1.25) < 0.06


def test_no_estimate_without_enough_voice() -> None:
    mono = vowel(TUBE)
    assert formant_spacing(mono, np.zeros(mono.size // 160 + 1, bool)) is None
    silence = np.zeros(2 * SAMPLE_RATE, np.float32)
    assert formant_spacing(silence, np.ones(silence.size // 160 + 1, bool)) is None


def test_features_warp_to_the_voice_within_the_trained_range(dev_dir: Path) -> None:
    audio = read_audio(dev_dir / "speech1.wav")
    plain = analyse_audio(audio)
    assert WARP_LIMITS[0] <= plain.voice_warp <= WARP_LIMITS[1]
    # The same speech played 1.2x faster: every formant 1.2x higher, so a larger warp.
    faster = analyse_audio(AudioTrack(audio.samples, round(audio.sample_rate * 1.2)))
    assert faster.voice_warp > plain.voice_warp * 1.08
    off = analyse_audio(audio, normalise_voice=False)
    assert off.voice_warp == 1.0
    assert not np.allclose(off.log_mel, plain.log_mel) or plain.voice_warp == 1.0
    # A synthetic child-sized voice is warped no further than the model was trained on.
    child = vowel(tuple(1.6 * f for f in TUBE), seconds=3.0, pitch=300.0)
    t = np.arange(child.size) / SAMPLE_RATE
    syllables = child * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)).astype(np.float32)
    warped = analyse_audio(AudioTrack(syllables[None], SAMPLE_RATE))
    assert warped.speech.mean() > 0.5  # the VAD takes it for speech, so it is measured
    assert warped.voice_warp == WARP_LIMITS[1]
    assert REFERENCE_SPACING_HZ * WARP_LIMITS[1] < 1.6 * 515.0


def test_neighbouring_warps_spread_evenly_around_the_measured_one() -> None:
    warps = neighbouring_warps(1.1, 5)
    assert len(warps) == 5 and warps[2] == 1.1
    assert np.allclose(np.diff(np.log(warps)), NEIGHBOUR_LOG_SPREAD / 2)
    assert np.isclose(warps[0], 1.1 * np.exp(-NEIGHBOUR_LOG_SPREAD))
    assert neighbouring_warps(1.1, 1) == (1.1,)


def test_features_at_neighbouring_warps(dev_dir: Path) -> None:
    audio = read_audio(dev_dir / "speech1.wav")
    assert analyse_audio(audio).log_mel_copies == ()
    three = analyse_audio(audio, warp_copies=3)
    assert len(three.log_mel_copies) == 3
    assert np.array_equal(three.log_mel_copies[1], three.log_mel)  # the measured warp
    spectrum = power_spectrum(to_mono_16k(audio))
    for copy, warp in zip(three.log_mel_copies, neighbouring_warps(three.voice_warp, 3)):
        expected = normalise(log_mel(mel_power(spectrum, warp)), three.speech)
        assert np.allclose(copy, expected, atol=1e-5)
    assert not np.allclose(three.log_mel_copies[0], three.log_mel_copies[2], atol=0.1)
