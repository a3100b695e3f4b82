"""Build the shipped mouth model, or the cross-validation folds its held-out figures use.

One recipe for both, so the figures in notes and docstrings can be reproduced:
 1. two trunk runs of `train_mouth_model.py` on the same clips, with the A/V offsets of
    the packaged manifest: the defaults, and `--dropout 0.3 --weight-decay 1e-3`;
 2. `merge_mouth_models.py` averages them into one ensemble;
 3. `fit_embedding_readout.py` adds the linear branch over pretrained speech features;
 4. for the shipped model, `benchmarks/training_audio.py` stores a print of each training
    clip's audio, so the benchmark knows a training clip under another name.

With `--folds K`, clip i (of the sorted cache stems) is held out of fold i mod K, and
fold k is built into OUT/foldK/; `benchmarks/motion_benchmark.py --weights-dir OUT` then
scores every clip with the fold that never saw it.

    .venv/bin/python scripts/build_mouth_model.py                 # the model in the package
    .venv/bin/python scripts/build_mouth_model.py --folds 3       # .cache/folds/fold0..2
    .venv/bin/python scripts/build_mouth_model.py --folds 3 --dry-run

The two runs of a build train side by side (one thread each), about 4 minutes per fold
on the 2-core machine with nothing else running; the branch fit adds about 30 s.
`--folds 25` leaves one clip out of each fold (the data README's protocol; about 110
minutes): its held-out median r within speech, 0.687, was within noise of 3 folds' 0.677
(paired per clip -0.001 +- 0.005), so 3 folds are what changes are judged on.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
CACHE = REPO / ".cache" / "motion"
LOGS = REPO / ".cache" / "build_logs"
PACKAGE_DIR = REPO / "src" / "videoretalk" / "motion"
# The two trunk runs that are merged; their kinds err differently on unseen voices.
RUNS = {"a": (), "b": ("--dropout", "0.3", "--weight-decay", "1e-3")}


@dataclass(frozen=True)
class Build:
    out: Path  # where mouth_model.npz / .json go
    excluded: tuple[str, ...]  # clip stems this model must not see


def plan(names: list[str], folds: int, out: Path) -> list[Build]:
    """One build per fold (clip i held out of fold i mod `folds`), or one on every clip."""
    names = sorted(names)
    if folds == 0:
        return [Build(out, ())]
    if not 2 <= folds <= len(names):
        raise SystemExit(f"--folds must be 0 or between 2 and {len(names)} (the clips)")
    return [
        Build(out / f"fold{k}", tuple(n for i, n in enumerate(names) if i % folds == k))
        for k in range(folds)
    ]


def commands(
    build: Build, runs_dir: Path, offsets: Path, trunk_flags: tuple[str, ...] = ()
) -> list[list[list[str]]]:
    """The build's steps; the commands of one step may run side by side.

    `trunk_flags` go to both trunk runs, after each run's own flags.
    """
    py = sys.executable
    train = [
        [
            py,
            str(SCRIPTS / "train_mouth_model.py"),
            *flags,
            *trunk_flags,
            "--offsets-from",
            str(offsets),
            "--out",
            str(runs_dir / tag),
            *(["--exclude", *build.excluded] if build.excluded else []),
        ]
        for tag, flags in RUNS.items()
    ]
    merge = [
        py,
        str(SCRIPTS / "merge_mouth_models.py"),
        *(str(runs_dir / tag / "mouth_model.npz") for tag in RUNS),
        "--out",
        str(build.out),
    ]
    fit = [py, str(SCRIPTS / "fit_embedding_readout.py"), str(build.out)]
    return [train, [merge], [fit]]


def run_step(step: list[list[str]], log: Path) -> None:
    """Run a step's commands side by side, each writing to its own log; stop on a failure."""
    procs = []
    for i, command in enumerate(step):
        path = log.with_name(f"{log.stem}.{i}.log") if len(step) > 1 else log
        with path.open("w") as handle:
            procs.append((subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT), path))
    failed = [path for proc, path in procs if proc.wait() != 0]
    if failed:
        raise SystemExit(f"a build step failed; see {', '.join(map(str, failed))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=0, help="cross-validation folds (0: one model)")
    ap.add_argument("--out", type=Path, help="default: the package, or .cache/folds with --folds")
    ap.add_argument(
        "--offsets-from", type=Path, default=PACKAGE_DIR / "mouth_model.json", dest="offsets"
    )
    ap.add_argument(
        "--trunk-flags",
        default="",
        help="extra train_mouth_model.py flags for both trunk runs, e.g. '--seed 99'",
    )
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    out = args.out or (REPO / ".cache" / "folds" if args.folds else PACKAGE_DIR)
    names = [p.stem for p in CACHE.glob("*.npz")]
    if not names:
        raise SystemExit(f"no clips in {CACHE}: run scripts/extract_mouth_landmarks.py first")
    with tempfile.TemporaryDirectory(prefix="mouth_runs_") as scratch:
        for index, build in enumerate(plan(names, args.folds, out)):
            runs_dir = Path(scratch) / f"build{index}"
            steps = commands(build, runs_dir, args.offsets, tuple(args.trunk_flags.split()))
            print(f"{build.out}: {len(build.excluded)} clips held out", flush=True)
            if not args.dry_run:
                build.out.mkdir(parents=True, exist_ok=True)
                LOGS.mkdir(parents=True, exist_ok=True)
            for name, step in zip(("train", "merge", "fit"), steps):
                if args.dry_run:
                    print("\n".join("  " + " ".join(c) for c in step))
                    continue
                run_step(step, LOGS / f"build{index}_{name}.log")
    if not args.folds:
        prints = [[sys.executable, str(REPO / "benchmarks" / "training_audio.py")]]
        if args.dry_run:
            print("  " + " ".join(prints[0]))
        else:
            run_step(prints, LOGS / "training_audio.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
