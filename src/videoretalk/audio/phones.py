"""Phone classes on the 10 ms grid, from pocketsphinx's English all-phone recogniser.

Why: log-mel alone leaves the mouth model guessing which sounds close the lips; a phone
label (M/B/P close, AA/AE/AY open) carries that directly. The data README measured a
per-phone opening table alone at median r ~0.46 against ~0.3-0.4 for spectral models.

The recogniser is English (CMU 39-phone set, model shipped in the pocketsphinx wheel).
On other languages (Mandarin) it is a proxy: it still labels each stretch with the
nearest English phone, so bilabials, open vowels and silences land in roughly the right
classes, but tones, retroflexes and Mandarin-only vowels map to neighbours. The mouth
model is trained with these inputs randomly blanked, so it also runs (slightly less
accurately) when pocketsphinx is not installed: `phone_inputs` then returns None.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from .features import n_steps

# CMU/ARPAbet 39 phones + silence; the recogniser's filler words (+NSN+, +SPN+...) -> SIL.
# fmt: off
PHONES: tuple[str, ...] = (
    "SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
    "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S",
    "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)
# fmt: on
N_PHONE_INPUTS = len(PHONES) + 1  # one-hot classes + an "available" flag channel
_INDEX = {p: i for i, p in enumerate(PHONES)}
# pocketsphinx frame i covers samples [160 i, 160 i + 410): its centre is ~1 step after
# the 10 ms grid's step i (centred at sample 160 i).
_FRAME_SHIFT_STEPS = 1
_LOCK = threading.Lock()  # one decoder, not re-entrant


@lru_cache(maxsize=1)
def _decoder() -> Any | None:
    try:
        from pocketsphinx import Config, Decoder, get_model_path
    except ImportError:
        return None
    model = get_model_path()
    config = Config(
        hmm=os.path.join(model, "en-us", "en-us"),
        allphone=os.path.join(model, "en-us", "en-us-phone.lm.bin"),
        loglevel="FATAL",
    )
    return Decoder(config)


def phones_available() -> bool:
    return _decoder() is not None


def phone_inputs(mono: np.ndarray) -> np.ndarray | None:
    """(n_steps, N_PHONE_INPUTS) float32: one-hot phone class + a constant 1 flag.

    `mono` is float 16 kHz audio in [-1, 1]. None when pocketsphinx is not installed.
    """
    decoder = _decoder()
    if decoder is None:
        return None
    steps = n_steps(mono.size)
    out = np.zeros((steps, N_PHONE_INPUTS), np.float32)
    out[:, -1] = 1.0
    out[:, _INDEX["SIL"]] = 1.0
    if mono.size == 0:
        return out
    pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    with _LOCK:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        segments = [(s.word, s.start_frame, s.end_frame) for s in decoder.seg()]
    for word, start, end in segments:
        lo = max(0, start + _FRAME_SHIFT_STEPS)
        hi = min(steps, end + 1 + _FRAME_SHIFT_STEPS)
        if hi <= lo:
            continue
        out[lo:hi, : len(PHONES)] = 0.0
        out[lo:hi, _INDEX.get(word, _INDEX["SIL"])] = 1.0
    return out
