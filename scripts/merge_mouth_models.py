"""Merge trained mouth models (same clips, same shape basis) into one ensemble.

Trunks of different sizes or contexts err differently on unseen voices; averaging them
is the cheapest accuracy gain left once one architecture's seed ensemble has saturated.
Every member weighs the same in the averaged read-out. The models must come from the
same clips (`trained_on` and `excluded`), so their PCA basis and rest shape agree.

    .venv/bin/python scripts/merge_mouth_models.py A/mouth_model.npz B/mouth_model.npz --out DIR
    .venv/bin/python scripts/fit_embedding_readout.py DIR    # then the embedding branch
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from videoretalk.motion.model import MouthModel

SHARED_ARRAYS = ("basis", "points", "rest_shape", "typical_range")


def _describe(members: int, manifest: dict) -> str:
    config = manifest["config"]
    if isinstance(config, list):  # already a merged ensemble
        return f"({manifest['model']})"
    return (
        f"{members} x {manifest['model']} (channels {config['channels']}, "
        f"dilations {config['dilations']}, dropout {config['dropout']}, "
        f"weight decay {config['weight_decay']})"
    )


def merge(paths: list[Path], out: Path) -> Path:
    models = [MouthModel.load(p) for p in paths]
    for p, model in zip(paths, models):
        if model.uses_embedding:  # its read-out rows are blended with the branch's
            raise SystemExit(f"{p}: merge the trunks first, then fit_embedding_readout.py")
    manifests = [m.manifest for m in models]
    first = np.load(paths[0])
    for p, man in zip(paths[1:], manifests[1:]):
        other = np.load(p)
        for key in SHARED_ARRAYS:
            if not np.allclose(first[key], other[key], atol=1e-5):
                raise SystemExit(f"{p}: {key} differs from {paths[0]}; train on the same clips")
        if sorted(man["excluded"]) != sorted(manifests[0]["excluded"]):
            raise SystemExit(f"{p}: excludes other clips than {paths[0]}")
    n_total = sum(len(m.members) for m in models)
    arrays: dict[str, np.ndarray] = {k: first[k] for k in SHARED_ARRAYS}
    readouts, bias = [], np.zeros_like(models[0].readout_b)
    m_out = 0
    for model in models:
        n = len(model.members)
        # A model's stacked read-out is already divided by its own member count.
        readouts.append(model.readout_w * n / n_total)
        bias += model.readout_b * n / n_total
        for layers in model.members:
            arrays[f"member{m_out}_dilations"] = np.array([d for _, _, d in layers])
            for i, (w, b, _) in enumerate(layers):
                arrays[f"member{m_out}_conv{i}_w"] = w
                arrays[f"member{m_out}_conv{i}_b"] = b
            m_out += 1
    arrays["readout_w"] = np.concatenate(readouts).astype(np.float32)
    arrays["readout_b"] = bias.astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / "mouth_model.npz"
    np.savez_compressed(weights, **arrays)
    manifest = dict(manifests[0])
    manifest["model"] = "ensemble of: " + "; ".join(
        _describe(len(m.members), man) for m, man in zip(models, manifests)
    )
    configs = [man["config"] for man in manifests]
    manifest["config"] = [c for cfg in configs for c in (cfg if isinstance(cfg, list) else [cfg])]
    manifest["train_seconds"] = round(sum(man.get("train_seconds", 0.0) for man in manifests), 1)
    manifest["merged_from"] = [man.get("sha1_weights") for man in manifests]
    manifest["sha1_weights"] = hashlib.sha1(weights.read_bytes()).hexdigest()
    (out / "mouth_model.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return weights


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", nargs="+", type=Path, help="mouth_model.npz files")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    print(f"wrote {merge(args.weights, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
