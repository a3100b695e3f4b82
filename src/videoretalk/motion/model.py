"""The audio -> mouth-shape network, run in NumPy from the weights shipped in the package.

A stack of dilated 1-D convolutions over the 10 ms log-mel grid (receptive field about
±330 ms, enough for co-articulation: the lips round for an /u/ before it sounds), then a
linear read-out to a few principal components of mouth deformation. The read-out is the
part adapted to a speaker (`adapt_readout`); the convolutional trunk is shared.

A second, linear branch reads pretrained speech features (`audio/speech_embedding.py`)
at a few taps around each step (`scripts/fit_embedding_readout.py`). Its features sit
beside the trunk's in `hidden` and its read-out rows beside the trunk's, each scaled by
its share of the blend, so the output is the blend of both branches; adaptation re-fits
both, the branch's rows pulled harder towards the generic ones. The branches err
differently: held out, the blend follows the mouth better than either alone (median r
in speech 0.58 for the adapted trunk, 0.66 with the branch taking 70 %, 0.68 with the
branch adapted too).

The PyTorch twin used for training lives in `scripts/mouth_training/net.py`; both use
zero padding and the same layer order, and a test checks they agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from ..audio.analyse import analyse_audio
from ..audio.features import N_MELS, AudioFeatures
from ..audio.speech_embedding import EMBEDDING_DIM, FIRST_LAYERS
from ..media.decode import AudioTrack
from .settings import MotionSettings
from .shape import INNER_GAP_PAIRS, down_sign

WEIGHTS_FILE = "mouth_model.npz"
MANIFEST_FILE = "mouth_model.json"


def _taps(x: np.ndarray, k: int, dilation: int) -> np.ndarray:
    """(..., S, C) -> (..., S, K * C): the K zero-padded shifts a 'same' conv reads.

    Each shift is copied straight into its block of columns (zeros where it reads past
    an end), one pass over memory instead of padding and then concatenating.
    """
    steps, channels = x.shape[-2], x.shape[-1]
    out = np.empty(x.shape[:-2] + (steps, k * channels), x.dtype)
    for j in range(k):
        shift = j * dilation - (k - 1) // 2 * dilation  # row t reads row t + shift
        block = out[..., j * channels : (j + 1) * channels]
        first, stop = max(0, -shift), min(steps, steps - shift)
        block[..., :first, :] = 0.0
        block[..., max(stop, first) :, :] = 0.0
        if first < stop:
            block[..., first:stop, :] = x[..., first + shift : stop + shift, :]
    return out


def _tap_weights(w: np.ndarray) -> np.ndarray:
    """(Cout, Cin, K) conv weight -> (K * Cin, Cout), matching `_taps`' channel order."""
    return np.concatenate(list(w.transpose(2, 1, 0)), axis=0)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """'Same' zero-padded conv over time: x (S, Cin), w (Cout, Cin, K) -> (S, Cout)."""
    return _taps(x, w.shape[2], dilation) @ _tap_weights(w) + b


Layers = tuple[tuple[np.ndarray, np.ndarray, int], ...]  # (weight, bias, dilation) per layer
# Per layer: (members, K * Cin, Cout) weights, (members, 1, Cout) biases, dilation.
StackedLayers = tuple[tuple[np.ndarray, np.ndarray, int], ...]


def _stacked_trunks(x: np.ndarray, layers: StackedLayers) -> np.ndarray:
    """Every member's trunk over x (S, Cin) at once -> (S, members * C), as `hidden`."""
    h: np.ndarray | None = None
    for w, b, d in layers:
        if h is None:  # input projection: all members read x, so one product serves them
            members, kc, c = w.shape
            y = _taps(x, kc // x.shape[1], d) @ w.transpose(1, 0, 2).reshape(kc, members * c)
            h = np.maximum(y.reshape(x.shape[0], members, c).transpose(1, 0, 2) + b, 0.0)
        else:  # residual layer, (members, S, C) batched
            h = h + np.maximum(np.matmul(_taps(h, w.shape[1] // h.shape[-1], d), w) + b, 0.0)
    assert h is not None
    return h.transpose(1, 0, 2).reshape(x.shape[0], -1)


def _members(z: np.lib.npyio.NpzFile) -> tuple[Layers, ...]:
    """Trunks of the ensemble, from either layout of the weights file.

    Same-shaped members: `dilations` + `conv{i}_w` (members, Cout, Cin, K) (a single member
    may drop the first axis). Members of different sizes (a merged ensemble):
    `member{m}_dilations` + `member{m}_conv{i}_w` (Cout, Cin, K).
    """
    if "dilations" in z:
        dilations = z["dilations"].tolist()
        ws = [np.asarray(z[f"conv{i}_w"], np.float32) for i in range(len(dilations))]
        bs = [np.asarray(z[f"conv{i}_b"], np.float32) for i in range(len(dilations))]
        if ws[0].ndim == 3:
            ws, bs = [w[None] for w in ws], [b[None] for b in bs]
        return tuple(
            tuple((ws[i][m], bs[i][m], int(d)) for i, d in enumerate(dilations))
            for m in range(ws[0].shape[0])
        )
    members = []
    m = 0
    while f"member{m}_dilations" in z:
        dilations = z[f"member{m}_dilations"].tolist()
        members.append(
            tuple(
                (
                    np.asarray(z[f"member{m}_conv{i}_w"], np.float32),
                    np.asarray(z[f"member{m}_conv{i}_b"], np.float32),
                    int(d),
                )
                for i, d in enumerate(dilations)
            )
        )
        m += 1
    return tuple(members)


@dataclass(frozen=True)
class MouthModel:
    """Trained weights plus the shape basis the outputs live in."""

    # One trunk per ensemble member, each a stack of (weight, bias, dilation) layers.
    members: tuple[Layers, ...]
    readout_w: np.ndarray  # (members * C, P): the members' read-outs stacked, each / members
    readout_b: np.ndarray  # (P,)
    basis: np.ndarray  # (P, len(points) * 3): deformation = coefs @ basis
    points: np.ndarray  # (n,) mesh indices the basis covers
    rest_shape: np.ndarray  # (478, 3) generic relaxed closed mouth (mean over speakers)
    typical_range: float  # mean over speakers of (p95 opening - rest opening)
    manifest: dict
    # Steps around each step at which the embedding branch reads (None: no such branch).
    embedding_taps: tuple[int, ...] | None = None
    # Layers of the speech network it reads (`speech_embedding.LAYERS`); files written
    # before the branch read a second one record none, and read block 14 alone.
    embedding_layers: tuple[int, ...] = FIRST_LAYERS

    @classmethod
    def load(cls, path: str | Path | None = None) -> MouthModel:
        if path is None:
            root = resources.files(__package__)
            with resources.as_file(root / WEIGHTS_FILE) as p:
                return cls.load(p)
        path = Path(path)
        with np.load(path) as z:
            members = _members(z)
            manifest_path = path.with_suffix(".json")
            manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
            readout_w = z["readout_w"].astype(np.float32)
            readout_b = z["readout_b"].astype(np.float32)
            taps = None
            layers: tuple[int, ...] = FIRST_LAYERS
            if "embedding_readout_w" in z:
                share = float(z["embedding_blend"])
                readout_w = np.vstack(
                    [(1 - share) * readout_w, share * z["embedding_readout_w"].astype(np.float32)]
                )
                readout_b = (1 - share) * readout_b + share * z["embedding_readout_b"]
                taps = tuple(int(t) for t in z["embedding_taps"])
                if "embedding_layers" in z:
                    layers = tuple(int(b) for b in z["embedding_layers"])
            return cls(
                members=members,
                readout_w=readout_w,
                readout_b=readout_b,
                basis=z["basis"].astype(np.float32),
                points=z["points"].astype(np.int64),
                rest_shape=z["rest_shape"].astype(np.float32),
                typical_range=float(z["typical_range"]),
                manifest=manifest,
                embedding_taps=taps,
                embedding_layers=layers,
            )

    @property
    def n_components(self) -> int:
        return int(self.basis.shape[0])

    @property
    def n_inputs(self) -> int:
        """Trunk input channels per step: the log-mel bands, then phone classes if it uses them."""
        return int(self.members[0][0][0].shape[1])

    @property
    def trunk_width(self) -> int:
        """Features the trunks give `hidden`; the embedding branch's follow them."""
        return sum(int(layers[-1][0].shape[0]) for layers in self.members)

    @property
    def uses_embedding(self) -> bool:
        return self.embedding_taps is not None

    @property
    def embedding_width(self) -> int:
        """Speech-embedding features per step the branch reads: 96 per layer."""
        return EMBEDDING_DIM * len(self.embedding_layers)

    @property
    def uses_phones(self) -> bool:
        return self.n_inputs > N_MELS

    def hidden(
        self,
        log_mel: np.ndarray,
        phones: np.ndarray | None = None,
        embedding: np.ndarray | None = None,
    ) -> np.ndarray:
        """Features the read-out reads, on the 10 ms grid: every member's trunk side by side,
        then (with an embedding branch) the embedding at each tap.

        `log_mel` is (S, N_MELS), or (copies, S, N_MELS): the same track read at
        neighbouring vocal-tract warps, whose trunk features are averaged.

        The stacked read-out averages the members' outputs (a seed ensemble: each trunk
        errs differently on unseen voices), and speaker adaptation sees them all. A phone
        model given no `phones` sees all-zero phone inputs, the "recogniser unavailable"
        case it was trained on (phone inputs randomly blanked).
        """
        copies = log_mel[None] if log_mel.ndim == 2 else log_mel
        trunk = self._trunks(copies[0].astype(np.float32), phones)
        for more in copies[1:]:
            trunk += self._trunks(more.astype(np.float32), phones)
        trunk /= len(copies)
        if self.embedding_taps is None:
            return trunk
        if embedding is None or embedding.shape != (trunk.shape[0], self.embedding_width):
            raise ValueError("this mouth model needs the speech embedding of every step")
        return np.hstack([trunk, embedding_context(embedding, self.embedding_taps)])

    def hidden_for(self, features: AudioFeatures) -> np.ndarray:
        """`hidden` over an analysed track (see `analyse_for_model`)."""
        log_mel = np.stack(features.log_mel_copies) if features.log_mel_copies else features.log_mel
        return self.hidden(log_mel, features.phones, features.embedding)

    def _trunks(self, x: np.ndarray, phones: np.ndarray | None) -> np.ndarray:
        if self.uses_phones:
            extra = np.zeros((x.shape[0], self.n_inputs - x.shape[1]), np.float32)
            if phones is not None:
                n = min(x.shape[0], phones.shape[0])
                extra[:n] = phones[:n]
            x = np.hstack([x, extra])
        if self._stacked is not None:
            return _stacked_trunks(x, self._stacked)
        out = []
        for layers in self.members:
            h = x
            for i, (w, b, d) in enumerate(layers):
                y = np.maximum(_conv(h, w, b, d), 0.0)
                h = y if i == 0 else h + y  # residual after the input projection
            out.append(h)
        return np.concatenate(out, axis=1)

    @cached_property
    def _stacked(self) -> StackedLayers | None:
        """All members' layers as one batched product per layer, when they share a layout.

        Six members of 64 channels otherwise run as 36 small convolutions; one batched
        product per layer over the taps side by side took 10 s of audio from 0.235 s to
        0.012 s on the 2-core machine.
        """
        layouts = {tuple((w.shape, d) for w, _, d in layers) for layers in self.members}
        if len(layouts) != 1:
            return None
        stacked = []
        for i in range(len(self.members[0])):
            d = self.members[0][i][2]
            # (members, K * Cin, Cout): each member's taps side by side, as `_taps` reads.
            w = np.stack([_tap_weights(m[i][0]) for m in self.members])
            b = np.stack([m[i][1] for m in self.members])[:, None, :]
            stacked.append((w.astype(np.float32), b.astype(np.float32), d))
        return tuple(stacked)

    def coefficients(
        self, hidden: np.ndarray, readout: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        w, b = readout if readout is not None else (self.readout_w, self.readout_b)
        return hidden @ w + b

    @property
    def gap_direction(self) -> np.ndarray:
        """(P,) how much each shape coefficient parts the inner lips vertically.

        The mean vertical inner-lip gap (canonical space, positive = parted) of a shape
        rest + coefs @ basis is the rest's gap + coefs @ gap_direction: linear in coefs.
        """
        basis = self.basis.reshape(self.n_components, -1, 3).astype(np.float64)
        column = {int(p): k for k, p in enumerate(self.points)}
        parting = [
            basis[:, column[lower], 1] - basis[:, column[upper], 1]
            for upper, lower in self._held_pairs
        ]
        return (self._down * np.sum(parting, axis=0) / len(INNER_GAP_PAIRS)).astype(np.float32)

    @cached_property
    def _held_pairs(self) -> list[tuple[int, int]]:
        held = {int(p) for p in self.points}
        return [(int(u), int(lo)) for u, lo in INNER_GAP_PAIRS if u in held and lo in held]

    @cached_property
    def _down(self) -> float:
        """+1 where canonical y grows downwards (the lips lie below the eyes), else -1."""
        return down_sign(self.rest_shape)

    def deformation(self, coefs: np.ndarray) -> np.ndarray:
        """(T, P) coefficients -> (T, len(points), 3) displacement from the rest shape."""
        return (coefs @ self.basis).reshape(coefs.shape[0], -1, 3)


def embedding_context(embedding: np.ndarray, taps: tuple[int, ...]) -> np.ndarray:
    """(S, D) -> (S, len(taps) * D): each step's embedding at every tap offset (edges held)."""
    index = np.arange(embedding.shape[0])
    last = embedding.shape[0] - 1
    return np.hstack([embedding[np.clip(index + t, 0, last)] for t in taps]).astype(np.float32)


def adapt_readout(
    model: MouthModel,
    hidden: np.ndarray,
    target: np.ndarray,
    strength: float,
    branch_strength: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge re-fit of the read-out to one speaker, pulled towards the generic one.

    Minimises |[H 1] W - Y|^2 + N * sum over rows of s_row * |W_row - W0_row|^2, closed
    form, so a few seconds of the speaker's own audio/video bend the mapping without
    overfitting it; with little data the generic read-out dominates. The trunk's rows and
    the bias are pulled with `strength`; the embedding branch's (its inputs are many and
    roughly standardised, the trunk's are not) with `branch_strength`, which held out
    had to be far stronger: 2 / 6 / 20 / 60 scored median r 0.448 / 0.472 / 0.473 / 0.468
    (against 0.462 with the branch's rows left as trained), and only 20 and above kept
    the lip error at or under that of the fixed branch (0.0310).

    The pull grows with N, so a long source bends the read-out no further than a short
    one. A fixed pull (as if N were 135, the median clip's adaptation frames, or 300) let
    the long sources adapt more, but held-out r within speech moved by +0.000 +- 0.002 /
    -0.002 +- 0.006 per clip (3 folds of the shipped model): more of the speaker's own
    frames do not buy a better linear read-out, so the pull stays per frame.
    """
    n = hidden.shape[0]
    x = np.hstack([hidden, np.ones((n, 1), np.float32)]).astype(np.float64)
    w0 = np.vstack([model.readout_w, model.readout_b[None]]).astype(np.float64)
    pull = np.full(x.shape[1], strength * n)
    pull[model.trunk_width : hidden.shape[1]] = branch_strength * n
    gram = x.T @ x + np.diag(pull)
    w = np.linalg.solve(gram, x.T @ target.astype(np.float64) + pull[:, None] * w0)
    return w[:-1].astype(np.float32), w[-1].astype(np.float32)


def analyse_for_model(
    model: MouthModel, audio: AudioTrack, settings: MotionSettings
) -> AudioFeatures:
    """A track's features, with the extra inputs this model reads (phones, embeddings)."""
    return analyse_audio(
        audio,
        settings.vad,
        model.uses_phones and settings.phones,
        settings.normalise_voice,
        embedding_layers=model.embedding_layers if model.uses_embedding else (),
        warp_copies=settings.warp_copies,
    )
