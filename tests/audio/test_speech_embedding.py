"""Pretrained speech embeddings: shipped in a dependency, on the 10 ms grid, any length."""

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


def test_embeddings_are_centred_on_their_step() -> None:
    """Speech after a second of silence (from step 100): each step's embedding reads 0.38 s
    either side of it, so it starts to change ~38 steps early. Windows aligned on their
    end would change only from step 100, on their start from step 24."""
    mono = np.concatenate([np.zeros(16_000, np.float32), _syllables(2.0)])
    e = se.speech_embedding(mono)
    change = np.linalg.norm(e - e[:20].mean(0), axis=1)
    change /= change.max()
    first = int(np.argmax(change > 0.1))
    assert 50 <= first <= 72, first
    assert change[:45].max() < 0.05 and change[140:].min() > 0.5


def test_level_does_not_move_the_normalised_embedding() -> None:
    loud = _syllables()
    quiet = analyse_audio(AudioTrack(loud[None] * 0.03, 16_000), with_embedding=True).embedding
    full = analyse_audio(AudioTrack(loud[None], 16_000), with_embedding=True).embedding
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
