"""Pretrained speech features on the 10 ms grid: mid layers of Google's `speech_embedding`.

Why: the mouth model learns from about six minutes of talking heads, too little to learn
which sounds a voice is making across speakers, languages and microphones from log-mel
alone. Google's `speech_embedding` network was trained on a very large speech corpus
(keyword spotting, arXiv:2002.01322, Apache-2.0). It turns 0.76 s of log-mel into one
96-number embedding, but that summary is coarse for lips; its 14th conv block still keeps
time, one 96-channel column per 40 ms. A linear read-out of that layer (averaged over its
frequency rows, at -60, -20, +20 and +60 ms) followed held-out mouth opening better
(median r 0.59, in speech 0.62) than one of the final embedding at five taps (0.53 /
0.56) or of log-mel windows (0.38 / 0.41).

The next block (15) pools that layer's four frequency rows into two, on the same 40 ms
columns, and is read beside it (`layers`, as the mouth model asks). In the shipped model
(3 folds, branch re-fitted, paired per clip) it raised r within speech by +0.006 to
+0.007 on each of three trunk seeds, +0.016 / +0.018 under noise / music 10 dB down, and
mouth width's r (lip rounding) by +0.035; `scripts/fit_embedding_readout.py` lists the
other layers tried.

Why not a Whisper encoder: the only one we found inside a wheel is Whisper-tiny's, as
fine-tuned in pipecat's Smart Turn v3 (`pipecat-ai` 0.0.85-1.14). Every such version needs
protobuf >= 5.29 and mediapipe 0.10.21 (our face models) needs < 5, so pip cannot install
both. We measured it anyway (layers 2 and 3 of its residual stream at -40, 0 and +40 ms,
beside this layer, one ridge over both): without speaker adaptation it followed opening
within speech better, +0.036 +- 0.012 per clip (21 of 25, leave-one-clip-out); with the
adaptation on each clip's first 60 % and scoring the rest, as the benchmark does, only
+0.007 +- 0.023 (17 of 25), within noise.

The ONNX files ship inside the `openwakeword` 0.4.0 wheel (its feature front end, which
wraps Google's model), run by onnxruntime; nothing is downloaded. We read the files from
the installed distribution without importing the package. The layer is not one of the
graph's outputs, so we declare it as one when loading (`_with_output`).

The layer's convolutions are unpadded in time, so each column depends only on its own
stretch of log-mel: column k of a window that starts at mel frame s is column k - 10 of
the window that starts at s + 40. Windows 40 frames apart therefore give the layer's
whole sequence, every column computed once. Between columns the layer is interpolated:
reading it every 10 ms or 20 ms instead (the network run on windows shifted by one or two
mel frames, columns interleaved; 2.4x / 1.5x the time) moved held-out r within speech by
-0.003 +- 0.004 / -0.001 +- 0.002 per clip (3 folds of the shipped trunks, branch re-fitted).
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

EMBEDDING_DIM = 96  # channels of each layer
PACKAGE = "openwakeword"
_MODELS = "openwakeword/resources/models"
# The layers that can be read, by block: both keep 10 time columns per window (block 15
# pools block 14's 4 frequency rows into 2; the blocks around them trim columns).
LAYERS = {
    14: "model/tf.math.maximum_14/Maximum:0",  # (batch, 96, 10 columns, 4 frequency rows)
    15: "model/tf.math.maximum_15/Maximum:0",  # (batch, 96, 10 columns, 2 frequency rows)
}
# The one layer the mouth model's branch read first: weights files that name no layers
# were fitted on it.
FIRST_LAYERS = (14,)
WINDOW_FRAMES = 76  # mel frames per window: the network's fixed input
COLUMNS = 10  # layer columns per window
COLUMN_FRAMES = 4  # mel frames (40 ms) between columns: two 2x poolings in time
STRIDE_FRAMES = COLUMNS * COLUMN_FRAMES
# Column k of a window starting at mel frame s is centred on frame s + 20 + 4k (the
# unpadded convolutions trim the window evenly at both ends), and the front end's frame j
# on sample 160j + 320 (it reads 640 samples per frame). Padding the track with that much
# silence puts column i of the sequence on step 4i: a grid from 0 s.
_FIRST_CENTRE_FRAMES = 20
_MEL_CENTRE = 320  # samples
_PAD = _FIRST_CENTRE_FRAMES * HOP + _MEL_CENTRE
_INT16 = 32767.0  # the front end expects 16-bit sample values
_BATCH = 128


def _model_file(name: str) -> Path | None:
    try:
        path = Path(str(metadata.distribution(PACKAGE).locate_file(f"{_MODELS}/{name}")))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    key, length, out = (number << 3) | 2, len(payload), bytearray()
    for value in (key, length):
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out) + payload


def _with_outputs(model: bytes) -> bytes:
    """The ONNX model with every tensor of `LAYERS` added to its graph's outputs.

    Protobuf merges a message field that appears twice, and appends to repeated fields,
    so a serialised ModelProto{graph{output{name, float tensor type}}} appended to the
    file's bytes adds one output; this spares a dependency on the `onnx` package.
    """
    float_tensor = _field(1, b"\x08\x01")  # TypeProto.tensor_type{elem_type: FLOAT}
    for name in LAYERS.values():
        value_info = _field(1, name.encode()) + _field(2, float_tensor)
        model += _field(7, _field(12, value_info))  # ModelProto.graph, GraphProto.output
    return model


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
        ort.InferenceSession(_with_outputs(emb.read_bytes()), options, providers=providers),
    )


def embedding_available() -> bool:
    return _sessions() is not None


def speech_embedding(mono: np.ndarray, layers: tuple[int, ...] = FIRST_LAYERS) -> np.ndarray:
    """(n_steps, EMBEDDING_DIM * len(layers)) float32 speech features of 16 kHz mono, one
    per 10 ms step: each of `layers` (blocks, see `LAYERS`) averaged over its frequency
    rows, side by side.

    Raises InternalError when the model files are missing: a model that reads them cannot
    run without them (`openwakeword` is a core dependency).
    """
    sessions = _sessions()
    if sessions is None:
        raise InternalError(
            "the speech-embedding model is missing: reinstall videoretalk so that its"
            f" dependency {PACKAGE}==0.4.0 is present"
        )
    unknown = set(layers) - set(LAYERS)
    if unknown or not layers:
        raise ValueError(f"layers must be some of {sorted(LAYERS)}, got {layers}")
    mel_session, embedding_session = sessions
    names = [LAYERS[block] for block in layers]
    steps = n_steps(mono.size)
    columns = -(-steps // COLUMN_FRAMES) + 1  # up to one column past the last step
    windows = -(-columns // COLUMNS)
    frames = (windows - 1) * STRIDE_FRAMES + WINDOW_FRAMES
    # Silence after the track too, so that the front end yields every frame we read.
    tail = max(frames * HOP + 2 * _MEL_CENTRE - _PAD - mono.size, 0)
    padded = np.concatenate(
        [np.zeros(_PAD, np.float32), np.asarray(mono, np.float32), np.zeros(tail, np.float32)]
    )
    # onnxruntime's run() is thread-safe, so concurrent callers share the sessions.
    spec = mel_session.run(None, {"input": (padded * _INT16)[None]})[0]
    # The front end's own scaling of its log-mel to the range the network was trained on.
    spec = (spec.reshape(-1, spec.shape[-1]) / 10.0 + 2.0).astype(np.float32)[:frames]
    out = []
    starts = np.arange(windows) * STRIDE_FRAMES
    for i in range(0, windows, _BATCH):
        batch = np.stack([spec[s : s + WINDOW_FRAMES] for s in starts[i : i + _BATCH]])
        outputs = embedding_session.run(names, {"input_1": batch[..., None]})
        # Average each layer's frequency rows; columns in time order, layers side by side.
        per_window = np.concatenate([o.mean(axis=3).transpose(0, 2, 1) for o in outputs], axis=2)
        out.append(per_window.reshape(-1, EMBEDDING_DIM * len(layers)))
    sequence = np.concatenate(out)
    grid = np.arange(steps) * STEP_SECONDS
    return sample_at(sequence, grid, step=COLUMN_FRAMES * STEP_SECONDS)
