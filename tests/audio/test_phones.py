"""Phone classes from the English all-phone recogniser, on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.audio import analyse_audio
from videoretalk.audio.phones import N_PHONE_INPUTS, PHONES, phone_inputs
from videoretalk.media.decode import AudioTrack

pytest.importorskip("pocketsphinx")


def _vowelish(seconds: float, start: float, stop: float) -> np.ndarray:
    t = np.arange(int(seconds * 16_000)) / 16_000
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((120, 240, 700, 1200, 2500), 1))
    return (0.3 * x * ((t >= start) & (t < stop))).astype(np.float32)


def test_one_hot_on_the_feature_grid() -> None:
    mono = _vowelish(3.0, 1.0, 2.0)
    phones = phone_inputs(mono)
    assert phones is not None
    feats = analyse_audio(AudioTrack(mono[None], 16_000), with_phones=True)
    assert feats.phones is not None and feats.phones.shape == (
        feats.log_mel.shape[0],
        N_PHONE_INPUTS,
    )
    assert np.allclose(phones[:, : len(PHONES)].sum(axis=1), 1.0)
    assert np.all(phones[:, -1] == 1.0)  # "available" flag


def test_digital_silence_is_all_silence() -> None:
    phones = phone_inputs(np.zeros(32_000, np.float32))
    assert phones is not None
    assert phones[:, PHONES.index("SIL")].mean() > 0.9


def test_phones_only_when_asked() -> None:
    assert analyse_audio(AudioTrack(np.zeros((1, 16_000), np.float32), 16_000)).phones is None
