"""How far a benchmark's median over a few short clips can be trusted.

The motion benchmark scores 25 clips of 5-60 s, each on its last 40 %. Swapping a few
clips, or even re-encoding one, moves a clip's r by several hundredths, so a median
alone cannot say whether a target is missed by noise or for real, nor whether a change
between two runs is more than noise. These helpers say both: a bootstrap interval over
clips for a median, and the per-clip change between two runs of the same clips.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def _finite(values: Iterable[float]) -> np.ndarray:
    """The clips that have the figure: NaN marks one that has not (e.g. r in speech on a
    clip with no speech scored)."""
    return np.asarray([v for v in values if math.isfinite(v)], np.float64)


def finite_median(values: Iterable[float]) -> float:
    """Median over the clips that have the figure; NaN if none has it."""
    finite = _finite(values)
    return float(np.median(finite)) if finite.size else math.nan


def median_interval(
    values: Sequence[float], level: float = 0.95, draws: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median, resampling whole clips.

    Clips, not frames, are resampled: frames within a clip share its speaker, recording
    and adaptation, so they are far from independent. NaNs (clips without the figure)
    are left out; with fewer than two clips there is no interval (NaN, NaN).
    """
    finite = _finite(values)
    if finite.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    medians = np.median(finite[rng.integers(0, finite.size, (draws, finite.size))], axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(medians, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class PairedChange:
    """One figure's change from a previous run to this one, clip by clip."""

    key: str
    clips: int  # clips scored in both runs with the figure finite in both
    mean: float  # mean of (this run - previous run) over those clips
    stderr: float  # standard error of that mean
    better: int  # clips that moved the good way (up, or down for an error)
    median_before: float
    median_after: float


def paired_change(
    before: Sequence[dict], after: Sequence[dict], key: str, lower_is_better: bool = False
) -> PairedChange | None:
    """Compare `key` between two runs' per-clip rows (the benchmark's --json), matched by
    clip name. Pairing removes what the clips themselves contribute (a hard speaker is
    hard in both runs), which is most of the spread of a median over clips."""
    old = {row["clip"]: float(row[key]) for row in before if key in row}
    pairs = [
        (old[row["clip"]], float(row[key])) for row in after if row["clip"] in old and key in row
    ]
    pairs = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if not pairs:
        return None
    a, b = np.asarray(pairs).T
    diff = b - a
    stderr = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else math.nan
    better = int(np.sum(diff < 0 if lower_is_better else diff > 0))
    return PairedChange(
        key=key,
        clips=int(diff.size),
        mean=float(diff.mean()),
        stderr=stderr,
        better=better,
        median_before=float(np.median(a)),
        median_after=float(np.median(b)),
    )
