"""The benchmark's uncertainty figures: a median's interval over clips, paired changes."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scriptload import load_script

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def stats(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script(REPO / "benchmarks" / "clip_stats.py", monkeypatch)


def test_median_interval_covers_the_true_median_about_as_often_as_it_claims(stats) -> None:
    rng = np.random.default_rng(1)
    # 25 clips' r drawn around a true median of 0.68, spread like the benchmark's clips.
    trials = 300
    covered = 0
    for trial in range(trials):
        low, high = stats.median_interval(
            0.68 + 0.08 * rng.standard_normal(25), draws=2000, seed=trial
        )
        covered += low <= 0.68 <= high
    # A percentile bootstrap of a median over 25 values is close to, not exactly, 95 %.
    assert 0.88 <= covered / trials <= 0.99


def test_median_interval_holds_the_median_and_narrows_with_more_clips(stats) -> None:
    rng = np.random.default_rng(2)
    few = 0.68 + 0.08 * rng.standard_normal(25)
    many = 0.68 + 0.08 * rng.standard_normal(400)
    low, high = stats.median_interval(few)
    assert low <= np.median(few) <= high
    low_many, high_many = stats.median_interval(many)
    assert high_many - low_many < (high - low) / 2  # about 1/sqrt(16) as wide
    assert stats.median_interval([0.7] * 10) == (0.7, 0.7)  # no spread, no doubt


def test_median_interval_leaves_out_clips_without_the_figure(stats) -> None:
    values = [0.5, 0.6, math.nan, 0.7, 0.8]
    assert stats.median_interval(values) == stats.median_interval([0.5, 0.6, 0.7, 0.8])
    assert all(math.isnan(v) for v in stats.median_interval([0.6, math.nan]))


def test_paired_change_matches_clips_by_name_and_counts_the_good_direction(stats) -> None:
    before = [
        {"clip": "a", "r": 0.50, "lip_err": 0.030},
        {"clip": "b", "r": 0.60, "lip_err": 0.020},
        {"clip": "c", "r": 0.70, "lip_err": 0.040},
        {"clip": "gone", "r": 0.10, "lip_err": 0.090},
    ]
    after = [  # another order, one clip new, one clip without a finite r
        {"clip": "c", "r": 0.74, "lip_err": 0.041},
        {"clip": "a", "r": 0.52, "lip_err": 0.028},
        {"clip": "b", "r": math.nan, "lip_err": 0.018},
        {"clip": "new", "r": 0.99, "lip_err": 0.001},
    ]
    change = stats.paired_change(before, after, "r")
    assert change.clips == 2 and change.better == 2
    assert change.mean == pytest.approx(0.03)
    assert change.stderr == pytest.approx(0.01)  # diffs 0.02, 0.04: sd 0.0141 / sqrt(2)
    assert (change.median_before, change.median_after) == pytest.approx((0.60, 0.63))
    errors = stats.paired_change(before, after, "lip_err", lower_is_better=True)
    assert errors.clips == 3 and errors.better == 2  # a and b fell; c rose
    assert stats.paired_change(before, [{"clip": "new", "r": 0.9}], "r") is None


def test_benchmark_prints_the_interval_and_the_change_against_an_earlier_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = load_script(REPO / "benchmarks" / "motion_summary.py", monkeypatch)
    rows = [
        {"clip": f"c{i}", "r": 0.4 + 0.01 * i, "r_speech": 0.6 + 0.01 * i, "lip_err": 0.03}
        for i in range(10)
    ]
    alone = summary.uncertainty_lines(rows)
    assert len(alone) == 2 and "r in speech: 95 % interval over clips" in alone[1]
    low, high = (float(v) for v in alone[1].split("clips ")[1].split(" ")[0].split("-"))
    assert low < np.median([r["r_speech"] for r in rows]) < high
    earlier = [{**r, "r_speech": r["r_speech"] - 0.02} for r in rows]
    lines = summary.uncertainty_lines(rows, earlier)
    speech = next(line for line in lines if "earlier run, r_speech" in line)
    assert "per clip +0.02000" in speech and "better on 10/10 clips" in speech


def test_one_clip_says_it_has_no_interval_instead_of_printing_nan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = load_script(REPO / "benchmarks" / "motion_summary.py", monkeypatch)
    lines = summary.uncertainty_lines(
        [{"clip": "only", "r": 0.5, "r_speech": 0.7, "lip_err": 0.03}]
    )
    assert len(lines) == 2
    assert all("none: it needs two or more clips" in line and "nan" not in line for line in lines)


def test_finite_median_leaves_out_clips_without_the_figure(stats) -> None:
    assert stats.finite_median([math.nan, 1.0, 3.0, 2.0]) == 2.0
    assert math.isnan(stats.finite_median([math.nan, math.nan]))
    assert math.isnan(stats.finite_median([]))
