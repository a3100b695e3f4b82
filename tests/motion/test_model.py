"""The NumPy mouth model: packaged weights load, and it matches its PyTorch twin."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scriptload import import_from_scripts, load_script

from videoretalk.audio.features import N_MELS, AudioFeatures
from videoretalk.motion import MOUTH_REGION, MouthModel, load_model
from videoretalk.motion.model import _conv, adapt_readout, embedding_context

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PACKAGED = Path(__file__).resolve().parents[2] / "src/videoretalk/motion/mouth_model.npz"


def test_packaged_weights_and_manifest() -> None:
    model = load_model()
    assert set(MOUTH_REGION) <= set(model.points.tolist())
    assert model.basis.shape == (model.n_components, model.points.size * 3)
    assert model.rest_shape.shape == (478, 3)
    assert model.manifest["trained_on"], "manifest must record the training clips"
    weights = Path(__file__).resolve().parents[2] / "src/videoretalk/motion/mouth_model.npz"
    assert weights.stat().st_size < 5_000_000


def _trunk_only(model: MouthModel) -> MouthModel:
    """The packaged model's trunks and their own read-out, without the embedding branch."""
    share = float(model.manifest["embedding_branch"]["blend"])
    trunk = model.trunk_width
    with np.load(PACKAGED) as z:
        readout_b = z["readout_b"]
    return replace(
        model,
        readout_w=model.readout_w[:trunk] / (1 - share),
        readout_b=readout_b,
        embedding_taps=None,
    )


def test_hidden_features_are_finite_and_sized() -> None:
    model = load_model()
    rng = np.random.default_rng(0)
    x, e = (rng.standard_normal((300, n)).astype(np.float32) for n in (40, model.embedding_width))
    h = model.hidden(x, embedding=e)
    assert model.uses_embedding
    assert h.shape == (300, model.readout_w.shape[0])
    assert np.isfinite(h).all()
    with pytest.raises(ValueError, match="speech embedding"):
        model.hidden(x)  # a branch model cannot silently run without its second input
    with pytest.raises(ValueError, match="speech embedding"):
        model.hidden(x, embedding=e[:, :96])  # one layer where it reads two


def test_the_branch_reads_the_layers_its_file_names(tmp_path: Path) -> None:
    model = load_model()
    assert model.embedding_layers == (14, 15) and model.embedding_width == 192
    assert model.readout_w.shape[0] == model.trunk_width + 4 * 192  # four taps
    # A file from before the second layer names none: it reads block 14 alone.
    with np.load(PACKAGED) as z:
        arrays = {k: z[k] for k in z.files if k != "embedding_layers"}
    older = tmp_path / "mouth_model.npz"
    np.savez(older, **arrays)
    assert MouthModel.load(older).embedding_layers == (14,)


def test_embedding_branch_blends_with_the_trunks() -> None:
    model = load_model()
    rng = np.random.default_rng(6)
    x, e = (rng.standard_normal((200, n)).astype(np.float32) for n in (40, model.embedding_width))
    share = float(model.manifest["embedding_branch"]["blend"])
    assert 0.0 < share < 1.0
    with np.load(PACKAGED) as z:
        taps = tuple(int(t) for t in z["embedding_taps"])
        branch = embedding_context(e, taps) @ z["embedding_readout_w"] + z["embedding_readout_b"]
    trunks = _trunk_only(model)
    expected = (1 - share) * trunks.coefficients(trunks.hidden(x)) + share * branch
    assert np.allclose(model.coefficients(model.hidden(x, embedding=e)), expected, atol=1e-4)


def test_trunks_average_over_the_warped_copies() -> None:
    model = load_model()
    rng = np.random.default_rng(8)
    copies = rng.standard_normal((3, 150, 40)).astype(np.float32)
    e = rng.standard_normal((150, model.embedding_width)).astype(np.float32)
    averaged = model.hidden(copies, embedding=e)
    singles = [model.hidden(c, embedding=e) for c in copies]
    assert np.allclose(averaged, np.mean(singles, axis=0), atol=1e-5)
    assert not np.allclose(averaged, singles[1], atol=1e-3)
    feats = AudioFeatures(
        log_mel=copies[1],
        speech=np.ones(150, bool),
        energy_db=np.zeros(150, np.float32),
        duration=1.5,
        embedding=e,
        log_mel_copies=tuple(copies),
    )
    assert np.allclose(model.hidden_for(feats), averaged)
    assert np.allclose(model.hidden_for(replace(feats, log_mel_copies=())), singles[1])


def test_embedding_context_reads_each_tap_and_holds_the_edges() -> None:
    e = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    ctx = embedding_context(e, (-2, 0, 3))
    assert ctx.shape == (10, 6)
    assert ctx[5].tolist() == [3, 3, 5, 5, 8, 8]
    assert ctx[0].tolist() == [0, 0, 0, 0, 3, 3] and ctx[9].tolist() == [7, 7, 9, 9, 9, 9]


def test_adaptation_pulls_the_branch_harder_than_the_trunks() -> None:
    model = load_model()
    rng = np.random.default_rng(7)
    h = rng.standard_normal((80, model.readout_w.shape[0])).astype(np.float32)
    y = rng.standard_normal((80, model.n_components)).astype(np.float32)
    trunk = model.trunk_width

    def moved(w: np.ndarray, rows: slice) -> float:
        return float(np.abs(w[rows] - model.readout_w[rows]).mean())

    w, _ = adapt_readout(model, h, y, strength=0.3, branch_strength=20.0)
    assert moved(w, slice(trunk, None)) > 1e-5  # the branch is re-fitted too...
    assert moved(w, slice(trunk, None)) < 0.2 * moved(w, slice(None, trunk))  # ...held closer
    held, _ = adapt_readout(model, h, y, strength=0.3, branch_strength=1e9)
    assert np.allclose(held[trunk:], model.readout_w[trunk:], atol=1e-6)
    assert not np.allclose(held[:trunk], model.readout_w[:trunk], atol=1e-3)


def _member_by_member(model: MouthModel, x: np.ndarray) -> np.ndarray:
    """The trunks written out plainly: each member, each layer, each tap, zero padding."""
    out = []
    for layers in model.members:
        h = x
        for i, (w, b, d) in enumerate(layers):
            k = w.shape[2]
            half = (k - 1) // 2 * d
            padded = np.pad(h, ((half, half), (0, 0)))
            y = b + sum(padded[j * d : j * d + h.shape[0]] @ w[:, :, j].T for j in range(k))
            h = np.maximum(y, 0) if i == 0 else h + np.maximum(y, 0)
        out.append(h)
    return np.concatenate(out, axis=1)


def test_batched_trunks_match_the_members_run_one_by_one() -> None:
    model = MouthModel.load()  # a fresh instance: the batched layout is built on first use
    x = np.random.default_rng(3).standard_normal((257, 40)).astype(np.float32)
    assert model._stacked is not None  # the packaged members share one layout
    assert np.allclose(model._trunks(x, None), _member_by_member(model, x), atol=1e-4)


def test_adapt_readout_with_no_data_weight_returns_generic() -> None:
    model = load_model()
    h = np.random.default_rng(1).standard_normal((50, model.readout_w.shape[0])).astype(np.float32)
    y = np.random.default_rng(2).standard_normal((50, model.n_components)).astype(np.float32)
    w, b = adapt_readout(model, h, y, strength=1e9, branch_strength=1e9)
    assert np.allclose(w, model.readout_w, atol=1e-4) and np.allclose(b, model.readout_b, atol=1e-4)


@pytest.mark.parametrize("phones", [False, True])
def test_numpy_model_matches_torch_twin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phones: bool
) -> None:
    torch = pytest.importorskip("torch")
    config = import_from_scripts(SCRIPTS, "mouth_training.config", monkeypatch)
    net_module = import_from_scripts(SCRIPTS, "mouth_training.net", monkeypatch)
    script = load_script(SCRIPTS / "train_mouth_model.py", monkeypatch)
    torch.manual_seed(0)
    cfg = config.TrainConfig(channels=8, components=3, dilations=(1, 1, 2, 4), phones=phones)
    nets = [net_module.Net(cfg).eval() for _ in range(2)]
    # Exported as the training script writes a seed ensemble: the model is their mean.
    arrays = script.ensemble_arrays(nets, cfg)
    arrays.update(
        basis=np.eye(3, 6, dtype=np.float32),
        points=np.array([13, 14]),
        rest_shape=np.zeros((478, 3), np.float32),
        typical_range=np.float32(0.1),
    )
    np.savez(tmp_path / "m.npz", **arrays)
    model = MouthModel.load(tmp_path / "m.npz")
    assert len(model.members) == 2
    x = np.random.default_rng(3).standard_normal((120, cfg.n_inputs)).astype(np.float32)

    def twin(inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.mean([n(torch.from_numpy(inputs[None]))[0].numpy() for n in nets], axis=0)

    expected = twin(x)
    got = model.coefficients(model.hidden(x[:, :40], x[:, 40:] if phones else None))
    assert model.uses_phones == phones
    assert np.allclose(got, expected, atol=1e-4)
    # Neither member alone is the answer: both are read.
    with torch.no_grad():
        first = nets[0](torch.from_numpy(x[None]))[0].numpy()
    assert not np.allclose(got, first, atol=1e-3)
    if phones:  # no recogniser: the phone inputs are blanked, as in training
        blank = x.copy()
        blank[:, 40:] = 0.0
        assert np.allclose(model.coefficients(model.hidden(x[:, :40])), twin(blank), atol=1e-4)


def test_merged_ensemble_averages_its_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod = load_script(SCRIPTS / "merge_mouth_models.py", monkeypatch)
    # The packaged trunks without their embedding branch (merging comes before the branch).
    full = MouthModel.load(PACKAGED)
    with np.load(PACKAGED) as z:
        trunk_arrays = {k: z[k] for k in z.files if not k.startswith("embedding_")}
    packaged = tmp_path / "trunks.npz"
    np.savez(packaged, **trunk_arrays)
    packaged.with_suffix(".json").write_text(PACKAGED.with_suffix(".json").read_text())
    with pytest.raises(SystemExit, match="fit_embedding_readout"):
        mod.merge([PACKAGED, packaged], tmp_path / "refused")
    # A second model on the same basis: the packaged one's first trunk on its own.
    a = MouthModel.load(packaged)
    assert not a.uses_embedding and a.trunk_width == full.trunk_width
    members = len(a.members)
    with np.load(packaged) as z:
        arrays = {k: z[k] for k in ("basis", "points", "rest_shape", "typical_range")}
    layers = a.members[0]
    arrays["member0_dilations"] = np.array([d for _, _, d in layers])
    for i, (w, b, _) in enumerate(layers):
        arrays[f"member0_conv{i}_w"], arrays[f"member0_conv{i}_b"] = w, b
    channels = layers[-1][0].shape[0]
    arrays.update(readout_w=a.readout_w[:channels] * members, readout_b=a.readout_b)
    np.savez(tmp_path / "one.npz", **arrays)
    (tmp_path / "one.json").write_text(packaged.with_suffix(".json").read_text())
    merged = mod.merge([packaged, tmp_path / "one.npz"], tmp_path / "merged")
    b, m = (MouthModel.load(p) for p in (tmp_path / "one.npz", merged))
    assert len(m.members) == len(a.members) + 1
    x = np.random.default_rng(4).standard_normal((200, 40)).astype(np.float32)
    expected = (members * a.coefficients(a.hidden(x)) + b.coefficients(b.hidden(x))) / (members + 1)
    assert np.allclose(m.coefficients(m.hidden(x)), expected, atol=1e-4)
    assert m.manifest["trained_on"] == a.manifest["trained_on"]


def test_members_of_different_layouts_run_one_by_one() -> None:
    model = _trunk_only(MouthModel.load())
    # A member with one layer fewer (another depth) cannot be batched with the rest.
    members = (model.members[0][:-1],) + model.members[1:]
    mixed = replace(model, members=members)
    x = np.random.default_rng(5).standard_normal((120, 40)).astype(np.float32)
    assert mixed._stacked is None
    assert np.allclose(mixed.hidden(x), _member_by_member(mixed, x), atol=1e-4)


def test_training_copies_with_a_music_bed(monkeypatch: pytest.MonkeyPatch) -> None:
    clips = import_from_scripts(SCRIPTS, "mouth_training.clips", monkeypatch)
    rng = np.random.default_rng(0)
    t = np.arange(3 * 16_000) / 16_000
    mono = (0.2 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    speech = np.sin(2 * np.pi * 3 * np.arange(301) * 0.01) > 0
    feats = clips._augmented_features(mono, speech, 1, rng, 1.0, music_variants=2)
    assert len(feats) == 4 and all(f.shape == feats[0].shape for f in feats)
    assert all(np.isfinite(f).all() for f in feats)
    # The music fills the pauses the clean copy has none in.
    pauses = ~speech[: feats[0].shape[0]]
    assert all(np.abs(f - feats[0])[pauses].mean() > 0.3 for f in feats[2:])


def test_training_copies_sung_higher(monkeypatch: pytest.MonkeyPatch) -> None:
    clips = import_from_scripts(SCRIPTS, "mouth_training.clips", monkeypatch)
    t = np.arange(3 * 16_000) / 16_000
    mono = (0.2 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    speech = np.sin(2 * np.pi * 3 * np.arange(301) * 0.01) > 0
    cfg = clips.TrainConfig(pitch_variants=2)
    feats = clips._pitch_copies("clip", mono, speech, cfg)
    assert len(feats) == 2 and all(f.shape == (301, N_MELS) for f in feats)
    assert all(np.isfinite(f).all() for f in feats)
    # Seeded by the clip's name alone: the same copies whatever else was drawn before.
    again = clips._pitch_copies("clip", mono, speech, cfg)
    assert all(np.array_equal(a, b) for a, b in zip(feats, again))
    # The voice moved: its bands differ from the clean copy's where it sounds.
    clean = clips._augmented_features(mono, speech, 0, np.random.default_rng(0))[0]
    assert all(np.abs(f - clean)[speech].mean() > 0.1 for f in feats)
    assert clips._pitch_copies("clip", mono, speech, clips.TrainConfig(pitch_variants=0)) == []


def test_training_adapts_the_read_out_as_inference_does(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    net_module = import_from_scripts(SCRIPTS, "mouth_training.net", monkeypatch)
    model = _trunk_only(MouthModel.load())
    rng = np.random.default_rng(6)
    h = rng.standard_normal((60, model.trunk_width)).astype(np.float32)
    y = rng.standard_normal((60, model.n_components)).astype(np.float32)
    expected_w, expected_b = adapt_readout(model, h, y, strength=0.3, branch_strength=0.3)
    x = torch.from_numpy(np.hstack([h, np.ones((60, 1), np.float32)]).astype(np.float64))
    w0 = torch.from_numpy(np.vstack([model.readout_w, model.readout_b[None]]).astype(np.float64))
    got = net_module.adapted_readout(x, torch.from_numpy(y.astype(np.float64)), w0, 0.3).numpy()
    assert np.allclose(got[:-1], expected_w, atol=1e-4)
    assert np.allclose(got[-1], expected_b, atol=1e-4)
    # The generic read-out is not the answer: the speaker's frames moved it.
    assert np.abs(got[:-1] - model.readout_w).max() > 1e-3


def test_the_adapted_loss_scores_frames_the_fit_did_not_see(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch = pytest.importorskip("torch")
    net_module = import_from_scripts(SCRIPTS, "mouth_training.net", monkeypatch)
    torch.manual_seed(0)
    cfg = net_module.TrainConfig(channels=8, components=3, dilations=(1, 1, 2), crop_steps=100)
    net = net_module.Net(cfg).eval()
    hidden = net.hidden(torch.randn(2, 100, cfg.n_inputs))
    positions = np.tile(np.arange(2.0, 98.0, 4.0), 2)  # a frame every 40 ms, two windows
    windows = np.repeat([0, 1], positions.size // 2)
    y, weights, gap = torch.randn(positions.size, 3), torch.ones(positions.size), torch.ones(3)
    loss = net_module._adapted_loss(net, hidden, windows, positions, y, weights, gap, cfg)
    # By hand: per window, fit on the frames before `meta_split` of it, score the rest.
    w0 = torch.cat([net.readout.weight.T, net.readout.bias[None]])
    errs = []
    for window in (0, 1):
        at = positions[windows == window]
        feats = torch.cat([hidden[window, at], torch.ones(at.size, 1)], 1)
        target = y[torch.from_numpy(windows == window)]
        fit = torch.from_numpy(positions[windows == window] < cfg.meta_split * cfg.crop_steps)
        readout = net_module.adapted_readout(feats[fit], target[fit], w0, cfg.meta_pull)
        errs.append(feats[~fit] @ readout - target[~fit])
    err = torch.cat(errs)
    expected = ((err**2).mean(1) + cfg.opening_weight * (err @ gap) ** 2).mean()
    assert torch.allclose(loss, expected, atol=1e-5)
    # The trunk learns through the fit: the loss has a gradient on every layer's weights.
    loss.backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in net.weights)


@pytest.mark.parametrize(
    ("steps", "k", "dilation"), [(50, 3, 1), (50, 3, 16), (7, 3, 16), (1, 3, 2)]
)
def test_convolution_matches_a_direct_sum(steps: int, k: int, dilation: int) -> None:
    """The 'same' zero-padded dilated convolution the trunks run, against the sum it
    stands for; tracks shorter than the dilation read zeros past both ends."""
    rng = np.random.default_rng(steps + dilation)
    x = rng.standard_normal((steps, 5)).astype(np.float32)
    w = rng.standard_normal((4, 5, k)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    half = (k - 1) // 2 * dilation
    expected = np.tile(b, (steps, 1)).astype(np.float64)
    for t in range(steps):
        for j in range(k):
            source = t + j * dilation - half
            if 0 <= source < steps:
                expected[t] += w[:, :, j] @ x[source]
    assert np.allclose(_conv(x, w, b, dilation), expected, atol=1e-4)


def test_the_velocity_loss_scores_changes_within_a_window_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch = pytest.importorskip("torch")
    net_module = import_from_scripts(SCRIPTS, "mouth_training.net", monkeypatch)
    gap = torch.tensor([1.0, 0.0])
    windows = np.array([0, 0, 0, 1, 1])
    # A constant error inside each window, different between them: no change to score.
    steady = torch.tensor([[0.3, 5.0], [0.3, -1.0], [0.3, 2.0], [-0.4, 0.0], [-0.4, 9.0]])
    assert float(net_module._velocity_loss(steady, windows, gap)) == 0.0
    # Errors that flip from frame to frame, on the gap: changes of 0.2, -0.2 and 0.5.
    flipping = torch.tensor([[0.1, 0.0], [-0.1, 0.0], [0.1, 0.0], [0.0, 0.0], [0.5, 0.0]])
    expected = (0.2**2 + 0.2**2 + 0.5**2) / 3
    assert float(net_module._velocity_loss(flipping, windows, gap)) == pytest.approx(expected)
