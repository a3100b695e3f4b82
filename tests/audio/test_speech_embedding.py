"""Pretrained speech features: shipped in a dependency, on the 10 ms grid, any length."""

from __future__ import annotations

import numpy as np
import pytest

from videoretalk.audio import speech_embedding as se
from videoretalk.audio.analyse import analyse_audio
from videoretalk.audio.features import n_steps
from videoretalk.errors import InternalError
from videoretalk.media.decode import AudioTrack


def _syllables(seconds: float = 3.0) -> np.ndarray:
    """A 140 Hz buzz with a moving formant-like band, on and off four times a second."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20))
    vowel = buzz * (1 + np.sin(2 * np.pi * (600 + 400 * np.sin(2 * np.pi * 2 * t)) * t))
    return (0.1 * vowel * (np.sin(2 * np.pi * 4 * t) > 0)).astype(np.float32)


def test_the_model_ships_in_the_dependency() -> None:
    assert se.embedding_available()
    assert se._model_file("embedding_model.onnx") is not None


@pytest.mark.parametrize("samples", [0, 10, 1_000, 16_000, 16_000 * 3 + 77])
def test_one_embedding_per_grid_step_for_any_length(samples: int) -> None:
    mono = np.random.default_rng(0).standard_normal(samples).astype(np.float32) * 0.05
    e = se.speech_embedding(mono)
    assert e.shape == (n_steps(samples), se.EMBEDDING_DIM)
    assert e.dtype == np.float32 and np.isfinite(e).all()


def test_features_are_centred_on_their_step() -> None:
    """A 50 ms burst at 1.0-1.05 s (steps 100-105): the layer reads about 0.2 s either side
    of each column, so the response spans roughly steps 81-126, centred on the burst.
    Columns labelled by their window's start or end would put it 0.38 s off."""
    mono = np.zeros(32_000, np.float32)
    mono[16_000:16_800] = 0.1 * np.random.default_rng(0).standard_normal(800)
    e = se.speech_embedding(mono)
    change = np.linalg.norm(e - e[:20].mean(0), axis=1)
    change /= change.max()
    responding = np.flatnonzero(change > 0.1)
    assert abs((responding[0] + responding[-1]) / 2 - 102.5) <= 3, responding
    assert 70 <= responding[0] <= 95 and 110 <= responding[-1] <= 135, responding
    assert change[:60].max() < 0.01 and change[150:].max() < 0.01


def test_layers_sit_side_by_side_on_the_same_columns() -> None:
    """Block 15 pools block 14's frequency rows on the same 40 ms columns: read together,
    block 14 is as when read alone, and block 15 answers a burst on the same steps."""
    mono = np.zeros(32_000, np.float32)
    mono[16_000:16_800] = 0.1 * np.random.default_rng(0).standard_normal(800)
    both = se.speech_embedding(mono, (14, 15))
    assert both.shape == (n_steps(mono.size), 2 * se.EMBEDDING_DIM)
    np.testing.assert_array_equal(both[:, : se.EMBEDDING_DIM], se.speech_embedding(mono))
    assert se.speech_embedding(mono, (15, 14))[:, se.EMBEDDING_DIM :].tolist() == (
        both[:, : se.EMBEDDING_DIM].tolist()
    )

    def responding(e: np.ndarray) -> np.ndarray:
        change = np.linalg.norm(e - e[:20].mean(0), axis=1)
        return np.flatnonzero(change / change.max() > 0.1)

    low, high = both[:, : se.EMBEDDING_DIM], both[:, se.EMBEDDING_DIM :]
    assert not np.allclose(low, high, atol=1e-2)
    r14, r15 = responding(low), responding(high)
    assert abs((r14[0] + r14[-1]) / 2 - (r15[0] + r15[-1]) / 2) <= 1, (r14, r15)  # a column: 4
    with pytest.raises(ValueError, match="layers"):
        se.speech_embedding(mono, (13,))


def test_a_delay_of_whole_columns_delays_the_features_exactly() -> None:
    """The sequence is stitched from windows 0.4 s apart; audio delayed by 40 ms (one
    column) must give the same features 4 steps later, seams included."""
    mono = _syllables(3.0)
    e = se.speech_embedding(mono, (14, 15))
    later = se.speech_embedding(np.concatenate([np.zeros(640, np.float32), mono]), (14, 15))
    assert later.shape[0] == e.shape[0] + 4
    np.testing.assert_allclose(later[4 + 30 : -30], e[30:-30], atol=1e-3)
    # ...while half a column is not a whole one: the features do move.
    half = se.speech_embedding(np.concatenate([np.zeros(320, np.float32), mono]), (14, 15))
    assert np.abs(half[2 + 30 : -32] - e[30:-32]).max() > 1e-2


def test_level_does_not_move_the_normalised_embedding() -> None:
    loud = _syllables()
    quiet = analyse_audio(
        AudioTrack(loud[None] * 0.03, 16_000), embedding_layers=(14, 15)
    ).embedding
    full = analyse_audio(AudioTrack(loud[None], 16_000), embedding_layers=(14, 15)).embedding
    assert quiet is not None and full is not None
    r = np.corrcoef(quiet.ravel(), full.ravel())[0, 1]
    assert r > 0.9, r
    assert analyse_audio(AudioTrack(loud[None], 16_000)).embedding is None


def test_a_missing_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    se._sessions.cache_clear()
    monkeypatch.setattr(se, "_model_file", lambda name: None)
    try:
        assert not se.embedding_available()
        with pytest.raises(InternalError, match="openwakeword"):
            se.speech_embedding(np.zeros(16_000, np.float32))
    finally:
        se._sessions.cache_clear()
