"""The build recipe for the shipped mouth model and its cross-validation folds."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest
from scriptload import load_script

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"clip{i:02d}" for i in range(25)]


@pytest.fixture()
def build(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(REPO / "scripts" / "build_mouth_model.py", monkeypatch)


def test_folds_hold_every_clip_out_exactly_once(build, tmp_path: Path) -> None:
    builds = build.plan(list(reversed(NAMES)), 3, tmp_path)
    assert [b.out for b in builds] == [tmp_path / f"fold{k}" for k in range(3)]
    held_out = [name for b in builds for name in b.excluded]
    assert sorted(held_out) == NAMES  # all of them, none twice
    assert [len(b.excluded) for b in builds] == [9, 8, 8]
    # Clip i of the sorted names sits in fold i mod 3, whatever order the cache lists:
    # the folds behind the held-out figures in the notes.
    assert builds[1].excluded == tuple(NAMES[1::3])


def test_without_folds_one_model_sees_every_clip(build, tmp_path: Path) -> None:
    assert build.plan(NAMES, 0, tmp_path) == [build.Build(tmp_path, ())]
    for folds in (1, 26):
        with pytest.raises(SystemExit, match="--folds"):
            build.plan(NAMES, folds, tmp_path)


def test_a_fold_trains_both_runs_on_the_same_clips_then_merges_and_fits(
    build, tmp_path: Path
) -> None:
    fold = build.Build(tmp_path / "fold0", ("clip00", "clip03"))
    offsets = tmp_path / "offsets.json"
    train, merge, fit = build.commands(fold, tmp_path / "runs", offsets)
    assert len(train) == 2
    for command in train:
        assert command[command.index("--exclude") + 1 :] == ["clip00", "clip03"]
        assert command[command.index("--offsets-from") + 1] == str(offsets)
    regularised = [c for c in train if "--dropout" in c]
    assert len(regularised) == 1 and "--weight-decay" in regularised[0]
    runs = [c[c.index("--out") + 1] for c in train]
    assert merge[0][2:4] == [f"{run}/mouth_model.npz" for run in runs]
    assert merge[0][-2:] == ["--out", str(fold.out)]
    assert fit == [
        [sys.executable, str(REPO / "scripts" / "fit_embedding_readout.py"), str(fold.out)]
    ]
    # The model on every clip passes no --exclude at all.
    everything = build.Build(tmp_path, ())
    assert all("--exclude" not in c for c in build.commands(everything, tmp_path, offsets)[0])


def test_a_failed_step_stops_the_build_and_names_its_log(build, tmp_path: Path) -> None:
    ok = [sys.executable, "-c", "print('trained')"]
    build.run_step([ok, ok], tmp_path / "train.log")
    assert (tmp_path / "train.0.log").read_text().strip() == "trained"
    assert (tmp_path / "train.1.log").read_text().strip() == "trained"
    broken = [sys.executable, "-c", "raise SystemExit(3)"]
    with pytest.raises(SystemExit, match=r"train\.1\.log"):
        build.run_step([ok, broken], tmp_path / "train.log")


def test_dry_run_lists_every_fold_and_runs_nothing(
    build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in NAMES[:6]:
        (cache / f"{name}.npz").write_bytes(b"")
    monkeypatch.setattr(build, "CACHE", cache)
    monkeypatch.setattr(build, "LOGS", tmp_path / "logs")
    assert build.main(["--folds", "2", "--out", str(tmp_path / "folds"), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("train_mouth_model.py") == 4 and printed.count("3 clips held out") == 2
    assert not (tmp_path / "folds").exists() and not (tmp_path / "logs").exists()


def test_trunk_flags_reach_both_runs_and_nothing_else(
    build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fold = build.Build(tmp_path / "fold0", ("clip00",))
    flags = ("--meta-adapt", "0.5", "--seed", "99")
    train, merge, fit = build.commands(fold, tmp_path / "runs", tmp_path / "o.json", flags)
    for command in train:
        at = command.index("--meta-adapt")
        assert tuple(command[at : at + 4]) == flags
    # A variant's own flags come first, so a flag given here wins where both set it.
    regularised = next(c for c in train if "--dropout" in c)
    assert regularised.index("--dropout") < regularised.index("--meta-adapt")
    assert all("--meta-adapt" not in c for c in merge + fit)
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in NAMES[:4]:
        (cache / f"{name}.npz").write_bytes(b"")
    monkeypatch.setattr(build, "CACHE", cache)
    argv = ["--folds", "2", "--out", str(tmp_path / "f"), "--trunk-flags", "--seed 7", "--dry-run"]
    assert build.main(argv) == 0
    assert capsys.readouterr().out.count("train_mouth_model.py --seed 7 --offsets-from") == 2
