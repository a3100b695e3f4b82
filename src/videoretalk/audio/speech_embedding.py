"""Pretrained speech embeddings on the 10 ms grid: Google's `speech_embedding` network.

Why: the mouth model learns from about six minutes of talking heads, too little to learn
which sounds a voice is making across speakers, languages and microphones from log-mel
alone. This network was trained by Google on a very large speech corpus (keyword
spotting, arXiv:2002.01322, Apache-2.0) and turns 0.76 s of log-mel into 96 numbers that
describe the sounds in it. A linear read-out of them alone followed held-out mouths
better (median r 0.53) than one of log-mel windows (0.38); the mouth model reads both.

The ONNX files ship inside the `openwakeword` 0.4.0 wheel (its feature front end, which
wraps Google's model), run by onnxruntime; nothing is downloaded. We read the files from
the installed distribution without importing the package.

The network sees 76 mel frames (10 ms each) and strides 8 frames internally, so one
embedding per 80 ms is all it resolves; they are interpolated onto the 10 ms grid at
each window's centre.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InternalError
from .features import HOP, STEP_SECONDS, n_steps, sample_at

EMBEDDING_DIM = 96
PACKAGE = "openwakeword"
_MODELS = "openwakeword/resources/models"
WINDOW_FRAMES = 76  # mel frames per embedding: the network's fixed input
# The network's own time stride (80 ms). A finer stride added nothing in a linear probe of
# held-out mouth opening (median r 0.541 at 40 ms, 0.538 at 80 ms) and costs twice the time.
STRIDE_FRAMES = 8
# Silence each side, so that window k (frames 8k..8k+75 of the padded track, one mel frame
# per HOP) is centred on step 8k of the track itself: the embeddings form a grid from 0 s.
_PAD = WINDOW_FRAMES // 2 * HOP
_INT16 = 32767.0  # the front end expects 16-bit sample values
_BATCH = 256


def _model_file(name: str) -> Path | None:
    try:
        path = Path(str(metadata.distribution(PACKAGE).locate_file(f"{_MODELS}/{name}")))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def _sessions() -> tuple[Any, Any] | None:
    mel, emb = _model_file("melspectrogram.onnx"), _model_file("embedding_model.onnx")
    if mel is None or emb is None:
        return None
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Two threads halve the time on the 2-core target; more only contend with the
    # renderer's workers.
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    return (
        ort.InferenceSession(str(mel), options, providers=providers),
        ort.InferenceSession(str(emb), options, providers=providers),
    )


def embedding_available() -> bool:
    return _sessions() is not None


def speech_embedding(mono: np.ndarray) -> np.ndarray:
    """(n_steps, EMBEDDING_DIM) float32 embeddings of 16 kHz mono, one per 10 ms step.

    Raises InternalError when the model files are missing: a model that reads embeddings
    cannot run without them (`openwakeword` is a core dependency).
    """
    sessions = _sessions()
    if sessions is None:
        raise InternalError(
            "the speech-embedding model is missing: reinstall videoretalk so that its"
            f" dependency {PACKAGE}==0.4.0 is present"
        )
    mel_session, embedding_session = sessions
    steps = n_steps(mono.size)
    padded = np.concatenate(
        [np.zeros(_PAD, np.float32), np.asarray(mono, np.float32), np.zeros(_PAD, np.float32)]
    )
    # onnxruntime's run() is thread-safe, so concurrent callers share the sessions.
    spec = mel_session.run(None, {"input": (padded * _INT16)[None]})[0]
    # The front end's own scaling of its log-mel to the range the network was trained on.
    spec = (spec.reshape(-1, spec.shape[-1]) / 10.0 + 2.0).astype(np.float32)
    starts = np.arange(0, max(spec.shape[0] - WINDOW_FRAMES + 1, 1), STRIDE_FRAMES)
    if spec.shape[0] < WINDOW_FRAMES:  # shorter than one window: pad with its own floor
        fill = np.full((WINDOW_FRAMES - spec.shape[0], spec.shape[1]), spec.min(), np.float32)
        spec = np.vstack([spec, fill])
    out = []
    for i in range(0, starts.size, _BATCH):
        batch = np.stack([spec[s : s + WINDOW_FRAMES] for s in starts[i : i + _BATCH]])
        out.append(embedding_session.run(None, {"input_1": batch[..., None]})[0])
    emb = np.concatenate(out).reshape(-1, EMBEDDING_DIM)
    grid = np.arange(steps) * STEP_SECONDS
    return sample_at(emb, grid, step=STRIDE_FRAMES * STEP_SECONDS)
