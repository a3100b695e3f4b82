"""The mouth-motion benchmark's printout: a line per clip, the medians over clips with
their uncertainty, and issue 4's targets against the held-out clips.
"""

from __future__ import annotations

import math

import numpy as np
from clip_stats import finite_median, median_interval, paired_change

# Issue 4's targets: median r of mouth opening on held-out clips, share of silent frames
# closed, seconds to predict 60 s of audio.
TARGET_R, TARGET_SILENT_CLOSED, TARGET_SECONDS = 0.7, 0.95, 3.0


def target_lines(rows: list[dict], seconds: float) -> list[str]:
    """Issue 4's targets against the medians of the held-out clips only."""
    held = [r for r in rows if r["held_out"]]
    speed_line = f"  60 s of audio in <= {TARGET_SECONDS:.0f} s: " + _against(
        f"{seconds:.2f} s", seconds <= TARGET_SECONDS
    )
    head = f"issue 4's targets, over the {len(held)} held-out clips of {len(rows)} scored:"
    if not held:
        why = (
            "  no held-out clip: the model was trained on every clip scored (by name or by"
            " audio), so no r here is a held-out figure (score unseen clips, or use"
            " --weights-dir folds)"
        )
        return [head, why, speed_line]

    def r_figure(name: str, key: str) -> str:
        value = finite_median(r[key] for r in held)
        if math.isnan(value):
            return f"{name}: none (no held-out clip has speech in its scored part)"
        return f"{name} " + _against(f"{value:.3f}", value >= TARGET_R)

    silent = sum(r["silent"] for r in held)
    closed = silent_share(held, "silent_closed")
    silent_figure = (
        _against(f"{closed:.1%} of {silent}", closed >= TARGET_SILENT_CLOSED)
        if silent
        else "no silent frame scored"
    )
    r_figures = (
        r_figure("within speech, at the lag measured on the adapted part", "r_speech"),
        r_figure("at the best lag within ±4 frames", "r_speech_best"),
        r_figure("whole clips (pauses closed)", "r"),
    )
    return [
        head,
        f"  median r of mouth opening >= {TARGET_R}: " + "; ".join(r_figures),
        f"  silent frames closed >= {TARGET_SILENT_CLOSED:.0%}: {silent_figure}",
        speed_line,
    ]


def silent_share(rows: list[dict], key: str) -> float:
    """A per-clip share of silent frames (`key`), pooled over the clips' silent frames."""
    total = sum(r["silent"] for r in rows)
    return sum(r[key] * r["silent"] for r in rows if r["silent"]) / max(total, 1)


def _against(figure: str, met: bool) -> str:
    return f"{figure} ({'meets it' if met else 'short of it'})"


def uncertainty_lines(rows: list[dict], previous: list[dict] | None = None) -> list[str]:
    """How much the medians can be trusted, and (given an earlier run's rows) the change."""
    lines = []
    for key, name in (("r", "r"), ("r_speech", "r in speech")):
        low, high = median_interval([r[key] for r in rows])
        interval = (
            f"{low:.3f}-{high:.3f} (bootstrap)"
            if math.isfinite(low)
            else "none: it needs two or more clips with the figure"
        )
        lines.append(f"median {name}: 95 % interval over clips {interval}")
    if previous is None:
        return lines
    for key, lower_is_better in (("r", False), ("r_speech", False), ("lip_err", True)):
        change = paired_change(previous, rows, key, lower_is_better)
        if change is not None:
            lines.append(
                # Five places: a lip error moves in the fifth (0.0308 +- 0.00004).
                f"against the earlier run, {key}: median {change.median_before:.4f} ->"
                f" {change.median_after:.4f}; per clip {change.mean:+.5f} ± {change.stderr:.5f}"
                f" (mean ± se), better on {change.better}/{change.clips} clips"
            )
    return lines


def clip_line(r: dict) -> str:
    """One clip's figures (a row of `score_clip`), as the benchmark prints them."""
    silent = (
        f"silent closed={r['silent_closed']:.0%} of {r['silent']} (base {r['base_silent_closed']:.0%}, real {r['real_silent_closed']:.0%})"
        if r["silent"]
        else "silent closed: no pause scored"
    )
    return (
        f"{r['clip']:30s} n={r['frames']:4d} lag={r['lag_ms']:+4d}ms  r={r['r']:+.2f} (best±4 {r['r_best']:+.2f}, speech {r['r_speech']:+.2f}, best±4 {r['r_speech_best']:+.2f})"
        f"  base r={r['base_r']:+.2f} ({r['base_r_best']:+.2f})  lip err={r['lip_err']:.3f} (rest {r['rest_err']:.3f})"
        f"  {silent}  closures hit {r['hit']}/{r['closures']} (base {r['base_hit']})"
        f"  width r={r['r_width']:+.2f}"
        + ("" if r["held_out"] else f"  ({r.get('seen') or 'trained on'})")
    )


def summary_lines(
    rows: list[dict],
    previous: list[dict] | None,
    music_snr: float | None = None,
    noise_snr: float | None = None,
) -> list[str]:
    """The medians and pooled figures over the scored clips (and, given an earlier run's
    rows, the change); with a music bed or noise mixed in, what the bed alone opened."""
    med = lambda k: finite_median(r[k] for r in rows)
    silent_total = sum(r["silent"] for r in rows)
    silent_closed, real_silent, base_silent = (
        silent_share(rows, key)
        for key in ("silent_closed", "real_silent_closed", "base_silent_closed")
    )
    lines = [
        (
            f"\nMEDIAN r={med('r'):.3f} (best±4 {med('r_best'):.3f}, in speech {med('r_speech'):.3f}, best±4 {med('r_speech_best'):.3f}, pauses at own posture {med('r_own_pause'):.3f}; a perfect model closed in pauses {med('r_ceiling'):.3f}; landmark noise caps r in speech at >= {med('r_noise_cap'):.3f})  baseline r={med('base_r'):.3f} ({med('base_r_best'):.3f})"
            f"  lip err={med('lip_err'):.4f} (rest-only {med('rest_err'):.4f})"
        )
    ]
    lines += uncertainty_lines(rows, previous)
    if silent_total:
        lines.append(
            f"silent frames closed: {silent_closed:.1%} of {silent_total} (baseline {base_silent:.1%};"
            f" the real speakers' lips were closed on {real_silent:.1%} of them)"
        )
    else:
        lines.append("silent frames closed: none to score (no pause in the scored parts)")
    if music_snr is not None or noise_snr is not None:
        bed = "the music bed" if noise_snr is None else "the background noise"
        bed += "" if music_snr is None or noise_snr is None else " and music"
        lines.append(
            f"{bed} alone, no voice: mouth open on {med('bed_open'):.1%} of frames"
            f" (median over clips), mean opening above rest {med('bed_lift'):.4f} inter-ocular"
        )
    lines.append(
        f"closures hit: {sum(r['hit'] for r in rows)}/{sum(r['closures'] for r in rows)}"
        f" (baseline {sum(r['base_hit'] for r in rows)})"
    )
    lines.append(
        f"closures the prediction itself closes: {sum(r['reached'] for r in rows)}/"
        f"{sum(r['closures'] for r in rows)};  range of motion in speech, predicted / real:"
        f" median {med('range_ratio'):.2f}; frame-to-frame change {med('change_ratio'):.2f}"
    )
    moved = [np.concatenate([r[k] for r in rows]) for k in ("moves_pred", "moves_real")]
    lines.append(
        "fastest moves (share of the speaker's range per 40 ms), predicted / real:"
        + "".join(
            f" p{q} {np.percentile(moved[0], q):.2f} / {np.percentile(moved[1], q):.2f};"
            for q in (99, 99.9)
        )
        + f" over 0.8: {np.mean(moved[0] > 0.8):.2%} / {np.mean(moved[1] > 0.8):.2%} of steps"
    )
    lines.append(f"mouth width (rounding) in speech: median r={med('r_width'):.3f}")
    pooled: dict[str, np.ndarray] = {}  # class -> frames, summed predicted, summed real
    for r in rows:
        for name, sums in r["by_class"].items():
            pooled[name] = pooled.get(name, 0) + np.asarray(sums)
    if pooled:
        lines.append(
            "mean opening in speech by English phone class (pocketsphinx labels; 1 = the"
            " speaker's wide opening), predicted / real: "
            + ", ".join(
                f"{name} {p / max(n, 1):.2f} / {q / max(n, 1):.2f} (n={n:.0f})"
                for name, (n, p, q) in pooled.items()
            )
        )
    return lines
