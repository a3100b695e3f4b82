"""Score a batch of clips and summarise them as text lines (for the CLI and the benchmark)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..face.identity import IdentityModel
from .batch import ClipJob
from .clip import ClipReport, ClipScores, evaluate_clip
from .tracking import Landmarker, default_landmarker

Log = Callable[[str], None]


def evaluate_jobs(
    jobs: Sequence[ClipJob], log: Log | None = None, landmarker: Landmarker | None = None
) -> tuple[list[ClipReport], dict[str, str]]:
    """Score every clip; a clip that cannot be scored is reported in `failed`, not raised."""
    landmarker = landmarker or default_landmarker()
    identity = IdentityModel()  # loaded once: the ResNet weights take a second to read
    reports: list[ClipReport] = []
    failed: dict[str, str] = {}
    for number, job in enumerate(jobs, 1):
        if log:
            log(f"[{number}/{len(jobs)}] {job.name}")
        try:
            reports.append(
                evaluate_clip(
                    job.video,
                    job.audio,
                    job.output,
                    job.reference,
                    name=job.name,
                    processing_seconds=job.seconds,
                    landmarker=landmarker,
                    identity=identity,
                )
            )
        except Exception as error:  # noqa: BLE001 - one bad clip must not lose the rest of a batch
            failed[job.name] = f"{type(error).__name__}: {error}"
            if log:
                log(f"    failed: {failed[job.name]}")
    return reports, failed


SUMMARY_HEADER = (
    f"{'clip':<24} {'r_out':>6} {'lag':>6} {'r_in':>6} {'r_ref':>6} {'refr0':>6} "
    f"{'shut_o':>6} {'shut_i':>6} {'psnr':>6} {'ident':>6} {'flick':>6} {'timing':>6} {'xRT':>6}"
)


def summary_line(s: ClipScores) -> str:
    ref = s.reference_mouth
    out_ref = s.output_mouth.reference
    return (
        f"{s.name:<24} {_n(s.output_mouth.speech.best_r)} {_n(s.output_mouth.speech.best_lag)} "
        f"{_n(s.input_mouth.speech.best_r)} {_n(ref.speech.best_r if ref else None)} "
        f"{_n(out_ref.r_at_zero if out_ref else None)} "
        f"{_n(s.output_mouth.closure.closed_fraction)} {_n(s.input_mouth.closure.closed_fraction)} "
        f"{_n(s.psnr_outside_db, 1)} {_n(s.identity_distance, 3)} {_n(s.flicker_ratio)} "
        f"{'ok' if s.timing.ok else 'OFF':>6} {_n(s.realtime_factor)}"
    )


def summary_lines(reports: Sequence[ClipReport]) -> list[str]:
    return [SUMMARY_HEADER] + [summary_line(r.scores) for r in reports]


def _n(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return f"{'-':>6}"
    return f"{value:>6.{digits}f}"
