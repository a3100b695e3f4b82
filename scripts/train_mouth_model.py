"""Train the audio -> mouth-shape model shipped in `videoretalk/motion/`.

Reproducible (seeded, deterministic data order) and CPU-only. Steps:
 1. landmarks + audio of each clip from the cache `scripts/extract_mouth_landmarks.py` fills;
 2. pose-normalise, find each speaker's rest shape (median of their most-closed frames)
    and scale their deformation to a common range, so speakers are comparable;
 3. PCA of the lower-face deformation -> a few components (the model's outputs);
 4. pass A: train briefly with no A/V offset, then measure each clip's offset as the lag
    (±200 ms) that best correlates predicted and real mouth opening;
 5. pass B: train `members` nets from scratch (different seeds) with the offsets
    corrected; export them as one NumPy seed ensemble + a manifest of data and settings.

Landmarks are put in the face stage's canonical space (`videoretalk.face`), so the
shipped basis and rest shape are in the space `FaceTrack.canonical` uses.

This script holds the steps; the parts live beside it in `mouth_training/`: the settings
with the checks behind each value (`config`), the clips and their augmented copies
(`clips`), and the PyTorch twin of the trunk with its training loop (`net`).

Augmentation for voice/recording invariance: vocal-tract-length warp of the mel axis
(factor 0.85-1.18, covers male/female/child formant spacing), additive noise
(SNR 10-40 dB), a synthetic music bed (SNR 0-20 dB) and a higher pitch with the formants
kept (x1.15-2.0, as singers and children). Loudness needs none: features are
per-utterance normalised.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/extract_mouth_landmarks.py
    .venv/bin/python scripts/train_mouth_model.py     # ~5-8 min, 1 thread of a busy 2-core CPU
    .venv/bin/python scripts/train_mouth_model.py --exclude talk1 talk2 --out /tmp/fold1
    .venv/bin/python scripts/train_mouth_model.py --offsets-from src/videoretalk/motion/mouth_model.json

The shipped weights are two runs merged (`scripts/merge_mouth_models.py`): the defaults and
`--dropout 0.3 --weight-decay 1e-3`, both with `--offsets-from`; 3-fold CV median r 0.328
(0.359 at best lag) against 0.313 (0.352) for either run's kind alone. Then
`scripts/fit_embedding_readout.py` adds the linear branch over pretrained speech features
(3-fold CV median r 0.373 -> 0.473, in speech 0.582 -> 0.675, with both branches adapted).
Feeding the network's final embeddings to these nets as extra inputs instead was worse
(one fold: r in speech 0.42 against 0.64); its mid layer, beside the log-mel, with the
branch kept, was no better (3 folds: r in speech 0.680 against 0.677, lip error 0.0324
against 0.0308), though it fitted the training clips far more closely. Nor was training
the trunks beside the branch: their loss on the blend with a branch ridge-fitted first,
and the meta-adaptation re-fitting the joint read-out as inference does (3 folds, one
seed: r in speech -0.029 +- 0.014 per clip, lip error worse on 23 of 25 clips). Nor does
a recurrent trunk err differently enough to help: three members of the input projection
plus a bidirectional GRU (32 units a direction, added back to the projection), merged
beside the six convolutional members with a third of the read-out, moved held-out r in
speech by -0.002 +- 0.004 / -0.007 +- 0.004 per clip (3 folds, trunk seeds 1234 / 99);
with the whole trunk share of the read-out (convolutional rows zeroed), -0.007 +- 0.006
(seed 1234). The embedding branch carries 70 % of the output.

The trunks are trained for speaker adaptation (`TrainConfig.meta_adapt`): half the loss
is taken after a closed-form re-fit of the read-out on each window's first 60 % of frames,
as inference re-fits it on the source video's own speech.

`scripts/build_mouth_model.py` runs that recipe, for the package or as cross-validation
folds whose held-out figures `benchmarks/motion_benchmark.py --weights-dir` prints.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from mouth_training.clips import CACHE, Clip, load_clips  # scripts/mouth_training/
from mouth_training.config import TrainConfig
from mouth_training.net import Net, predict_opening_coefs, train

from videoretalk.audio.features import sample_at
from videoretalk.audio.phones import PHONES
from videoretalk.motion.adapt import best_lag, pearson
from videoretalk.motion.shape import (
    INNER_GAP_PAIRS,
    JAW,
    LIPS,
    MOUTH_REGION,
    typical_deformation,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "src" / "videoretalk" / "motion"
LAG_PENALTY_PER_S = 0.25  # r lost per second of offset: a 100 ms shift must gain 0.025 in r


def parse_args(argv: list[str] | None) -> tuple[TrainConfig, argparse.Namespace]:
    """The run's settings from the command line, and the flags that are not settings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--exclude", nargs="*", default=[], help="clip stems to leave out (held-out evaluation)"
    )
    ap.add_argument(
        "--out", type=Path, default=PACKAGE_DIR, help="folder for mouth_model.npz/.json"
    )
    ap.add_argument("--iters", type=int, default=TrainConfig.iters)
    ap.add_argument("--phones", action="store_true", help="add English phone-class inputs")
    ap.add_argument("--no-phones", dest="phones", action="store_false", help="(the default)")
    ap.add_argument("--channels", type=int, default=TrainConfig.channels)
    ap.add_argument("--components", type=int, default=TrainConfig.components)
    ap.add_argument("--silence-weight", type=float, default=TrainConfig.silence_weight)
    ap.add_argument(
        "--no-normalise-voice",
        dest="normalise_voice",
        action="store_false",
        help="train on the voices as recorded, not warped to the reference voice",
    )
    ap.add_argument("--closure-weight", type=float, default=TrainConfig.closure_weight)
    ap.add_argument(
        "--rest-in-pauses",
        choices=("never", "music", "always"),
        default=TrainConfig.rest_in_pauses,
        help="target the rest shape outside speech: never, in the music copies, always",
    )
    ap.add_argument(
        "--music-variants",
        type=int,
        default=TrainConfig.music_variants,
        help="extra copies of each clip with a synthetic music bed (SNR 0-20 dB)",
    )
    ap.add_argument(
        "--pitch-variants",
        type=int,
        default=TrainConfig.pitch_variants,
        help="extra copies of each clip at a higher pitch, formants kept (x1.15-2.0)",
    )
    ap.add_argument("--members", type=int, default=TrainConfig.members)
    ap.add_argument(
        "--meta-adapt",
        type=float,
        default=TrainConfig.meta_adapt,
        help="share of the loss taken after a per-window speaker re-fit of the read-out",
    )
    ap.add_argument("--meta-pull", type=float, default=TrainConfig.meta_pull)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--crop-steps", type=int, default=TrainConfig.crop_steps)
    ap.add_argument("--batch", type=int, default=TrainConfig.batch)
    ap.add_argument("--opening-weight", type=float, default=TrainConfig.opening_weight)
    ap.add_argument("--velocity-weight", type=float, default=TrainConfig.velocity_weight)
    ap.add_argument("--variants", type=int, default=TrainConfig.variants)
    ap.add_argument("--tempos", type=float, nargs="*", default=list(TrainConfig.tempos))
    ap.add_argument("--dropout", type=float, default=TrainConfig.dropout)
    ap.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay)
    ap.add_argument(
        "--dilations",
        type=int,
        nargs="+",
        default=list(TrainConfig.dilations),
        help="first entry is the input projection; context = ±(1 + sum of the rest) steps",
    )
    ap.add_argument(
        "--offsets-from", type=Path, help="reuse the A/V offsets of a manifest (skips pass A)"
    )
    args = ap.parse_args(argv)
    if args.iters < 20:  # the one-cycle schedule needs a warm-up step and a decay
        ap.error("--iters must be at least 20")
    cfg = TrainConfig(
        exclude=tuple(args.exclude),
        iters=args.iters,
        phones=args.phones,
        channels=args.channels,
        components=args.components,
        dropout=args.dropout,
        weight_decay=args.weight_decay,
        silence_weight=args.silence_weight,
        closure_weight=args.closure_weight,
        music_variants=args.music_variants,
        rest_in_pauses=args.rest_in_pauses,
        normalise_voice=args.normalise_voice,
        tempos=tuple(args.tempos),
        members=args.members,
        pitch_variants=args.pitch_variants,
        dilations=tuple(args.dilations),
        meta_adapt=args.meta_adapt,
        meta_pull=args.meta_pull,
        seed=args.seed,
        crop_steps=args.crop_steps,
        batch=args.batch,
        opening_weight=args.opening_weight,
        velocity_weight=args.velocity_weight,
        variants=args.variants,
    )
    if cfg.phones and cfg.tempos:
        raise SystemExit("--tempos and --phones together are not supported")
    return cfg, args


def shape_space(
    clips: list[Clip], reference: np.ndarray, cfg: TrainConfig
) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
    """Lower-face points, PCA basis of their deformation from each speaker's rest (scaled
    to a common range), that range, the share of variance kept, and the inner-lip gap as
    a direction in coefficient space (the opening loss). Sets each clip's `coefs`."""
    points = np.unique(
        np.concatenate(
            [np.flatnonzero(reference[:, 1] > reference[2, 1] - 0.02), JAW, LIPS, MOUTH_REGION]
        )
    )
    typical = float(np.mean([c.range_ for c in clips]))
    deform = [typical_deformation(c.canonical, c.rest, points, c.range_, typical) for c in clips]
    stacked = np.concatenate([d[c.present] for d, c in zip(deform, clips)])
    _, sv, vt = np.linalg.svd(stacked, full_matrices=False)
    basis = vt[: cfg.components]
    explained = float((sv[: cfg.components] ** 2).sum() / (sv**2).sum())
    print(f"PCA: {cfg.components} components explain {explained:.1%} of deformation")
    for d, c in zip(deform, clips):
        c.coefs = (d @ basis.T).astype(np.float32)
    # Linearised inner-lip vertical gap in coefficient space.
    where = {p: i for i, p in enumerate(points)}
    g = np.zeros((len(points), 3))
    for up, low in INNER_GAP_PAIRS:
        g[where[low], 1] += 1 / len(INNER_GAP_PAIRS)
        g[where[up], 1] -= 1 / len(INNER_GAP_PAIRS)
    return points, basis, typical, explained, basis @ g.reshape(-1)


def measure_offsets(clips: list[Clip], cfg: TrainConfig, gap_vec: np.ndarray) -> dict:
    """Pass A: train briefly with no offsets, then each clip's A/V offset by `best_lag`."""
    print("pass A: offsets")
    net = train(clips, cfg, cfg.iters_offset_pass, gap_vec, cfg.seed)
    offsets = {}
    for c in clips:
        if c.tempo != 1.0:
            continue  # copies take the offset of their original
        grid_gap = predict_opening_coefs(net, c) @ gap_vec
        times, real = c.times[c.present], c.opening[c.present]
        lag = best_lag(grid_gap, times, real, cfg.max_lag_s, LAG_PENALTY_PER_S)
        r = pearson(sample_at(grid_gap, times + lag), real)
        offsets[c.name] = {"lag_s": round(lag, 3), "r_at_lag": round(r, 3)}
        print(f"  {c.name:32s} lag {lag * 1000:+5.0f} ms  r {r:.2f}")
    return offsets


def ensemble_arrays(nets: list[Net], cfg: TrainConfig) -> dict[str, np.ndarray]:
    """The trained members as one seed ensemble, in `videoretalk.motion.model`'s layout:
    conv weights stacked (members, Cout, Cin, K); read-out rows side by side, each divided
    by the member count, so one product over all members' features gives their mean."""
    arrays = {"dilations": np.array(cfg.dilations)}
    for i in range(len(cfg.dilations)):
        arrays[f"conv{i}_w"] = np.stack(
            [n.weights[i].detach().numpy().transpose(2, 1, 0) for n in nets]
        ).astype(np.float32)
        arrays[f"conv{i}_b"] = np.stack([n.biases[i].detach().numpy() for n in nets])
    arrays["readout_w"] = np.concatenate(
        [n.readout.weight.detach().numpy().T / len(nets) for n in nets]
    ).astype(np.float32)
    arrays["readout_b"] = np.mean([n.readout.bias.detach().numpy() for n in nets], axis=0)
    return arrays


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    torch.set_num_threads(1)  # 2 threads on a shared 2-core box run 4x slower
    t0 = time.time()
    rng = np.random.default_rng(cfg.seed)
    names = sorted(p.stem for p in CACHE.glob("*.npz") if p.stem not in cfg.exclude)
    print(f"{len(names)} clips: {', '.join(names)}")
    clips, reference = load_clips(names, cfg, rng)
    points, basis, typical, explained, gap_vec = shape_space(clips, reference, cfg)
    if args.offsets_from:
        offsets = json.loads(args.offsets_from.read_text())["av_offsets"]
    else:
        offsets = measure_offsets(clips, cfg, gap_vec)
    for c in clips:
        c.lag = offsets[c.name]["lag_s"]
    nets = []
    for m in range(cfg.members):
        print(f"pass B: model, member {m + 1}/{cfg.members}")
        nets.append(train(clips, cfg, cfg.iters, gap_vec, cfg.seed + 1 + m))

    args.out.mkdir(parents=True, exist_ok=True)
    arrays = ensemble_arrays(nets, cfg)
    generic_rest = np.mean([c.rest for c in clips], axis=0)
    arrays.update(
        basis=basis.astype(np.float32),
        points=points.astype(np.int16),
        rest_shape=generic_rest.astype(np.float32),
        typical_range=np.float32(typical),
    )
    weights = args.out / "mouth_model.npz"
    np.savez_compressed(weights, **arrays)
    spacings = [c.formant_spacing for c in clips if c.tempo == 1.0 and c.formant_spacing]
    manifest = {
        "model": "dilated 1-D conv over 40-band log-mel (10 ms)"
        + (" + English phone classes" if cfg.phones else "")
        + " -> PCA mouth deformation",
        "phone_inputs": {
            "recogniser": "pocketsphinx en-us all-phone",
            "pocketsphinx": version("pocketsphinx"),
            "classes": PHONES,
            "blanked_share": cfg.phone_dropout,
        }
        if cfg.phones
        else None,
        "trained_on": [
            {
                "file": n + ".mp4",
                "sha1_landmarks": hashlib.sha1((CACHE / f"{n}.npz").read_bytes()).hexdigest()[:12],
            }
            for n in names
        ],
        "data_dirs": ["../shared/data/train", "../shared/data/dev"],
        "excluded": list(cfg.exclude),
        "config": asdict(cfg),
        "pca_explained": round(explained, 4),
        "typical_range": round(typical, 4),
        # Compare with audio/vocal_tract.REFERENCE_SPACING_HZ, the voice inference warps to.
        "formant_spacing_hz": round(float(np.median(spacings)), 1),
        "av_offsets": offsets,
        "landmarks": "MediaPipe face mesh 478 (refined), canonicalised by videoretalk.motion.shape.canonicalise",
        "torch": torch.__version__,
        "train_seconds": round(time.time() - t0, 1),
        "sha1_weights": hashlib.sha1(weights.read_bytes()).hexdigest(),
    }
    (args.out / "mouth_model.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
