"""Write the quality report: one self-contained HTML page and a JSON file with every number.

The page embeds its plots (PNG) and frame strips (JPEG) as base64, so it can be mailed
or attached to an issue as a single file. JSON holds NaN/inf as null (strict JSON).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .clip import ClipReport, ClipScores, Moment, Tracks

Pathish = str | os.PathLike[str]
JPEG_QUALITY = 85


def write_report(
    reports: Sequence[ClipReport], html_path: Pathish, meta: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write `html_path` and the JSON beside it (same name, .json); return both paths."""
    html_path = Path(html_path)
    json_path = html_path.with_suffix(".json")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(to_json(reports, meta), indent=1, allow_nan=False))
    html_path.write_text(render_html(reports, meta or {}))
    return html_path, json_path


# -- JSON -----------------------------------------------------------------------------------
def to_json(reports: Sequence[ClipReport], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "meta": _plain(meta or {}),
        "clips": [
            {
                "name": r.scores.name,
                "paths": r.paths,
                "scores": _plain(r.scores),
                "moments": [{"kind": m.kind, "index": m.index, "time": m.time} for m in r.moments],
                "tracks": _plain(r.tracks),
            }
            for r in reports
        ],
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


# -- HTML -----------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.bad{background:#fdd}.good{background:#dfd}
figure{display:inline-block;margin:4px 8px 12px 0}figcaption{font-size:12px;color:#555}
h2{border-top:2px solid #888;padding-top:12px;margin-top:32px}
.note{color:#666;font-size:12px}
"""

_GLOSSARY = """
<p class="note"><b>Opening</b>: inner-lip gap / outer-eye-corner distance. <b>r</b>: Pearson
correlation of the mouth-opening track with the speech loudness envelope (log, 40 dB range) at
the best lag within ±0.4 s (lag &gt; 0: mouth after sound) and at lag 0. <b>Ref r</b>: the
output's opening against the reference's. <b>Closed in silence</b>: share of frames inside the
driving audio's pauses (≥ 0.3 s, 0.1 s edges dropped) with opening &lt; 0.04.
<b>PSNR outside</b>: dB over pixels outside the dilated lower face, input frame vs the output frame
showing it (100 = identical). <b>Identity</b>: dlib descriptor distance input vs output
(&lt; 0.6 same person). <b>Flicker</b>: mean frame-to-frame change in the mouth box, output / input.
<b>Input</b> rows score the unedited input shown on the output's timeline: the baseline to beat.</p>
"""


def render_html(reports: Sequence[ClipReport], meta: dict[str, Any]) -> str:
    parts = [
        (
            "<!doctype html><html><head><meta charset='utf-8'><title>videoretalk quality report"
            f"</title><style>{_CSS}</style></head><body><h1>videoretalk quality report</h1>"
        )
    ]
    if meta:
        parts.append(
            "<table>"
            + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta.items())
            + "</table>"
        )
    parts.append(_GLOSSARY)
    parts.append(_summary_table([r.scores for r in reports]))
    for report in reports:
        parts.append(_clip_section(report))
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary_table(scores: Sequence[ClipScores]) -> str:
    head = (
        "<tr><th>clip</th><th>r out</th><th>lag out</th><th>r input</th><th>r ref</th>"
        "<th>ref r out</th><th>closed in silence out / in</th><th>PSNR outside</th>"
        "<th>identity</th><th>flicker</th><th>timing</th><th>× real time</th></tr>"
    )
    rows = []
    for s in scores:
        ref = s.reference_mouth
        out_ref = s.output_mouth.reference
        rows.append(
            f"<tr><td><a href='#{_anchor(s.name)}'>{_e(s.name)}</a></td>"
            f"<td>{_f(s.output_mouth.speech.best_r)}</td>"
            f"<td>{_f(s.output_mouth.speech.best_lag)} s</td>"
            f"<td>{_f(s.input_mouth.speech.best_r)}</td>"
            f"<td>{_f(ref.speech.best_r) if ref else '–'}</td>"
            f"<td>{_f(out_ref.r_at_zero) if out_ref else '–'}</td>"
            f"<td>{_pct(s.output_mouth.closure.closed_fraction)} / "
            f"{_pct(s.input_mouth.closure.closed_fraction)}</td>"
            f"<td>{_f(s.psnr_outside_db, 1)}</td>"
            f"<td{_flag(s.identity_distance < 0.6)}>{_f(s.identity_distance)}</td>"
            f"<td>{_f(s.flicker_ratio)}</td>"
            f"<td{_flag(s.timing.ok)}>{'ok' if s.timing.ok else 'off'}</td>"
            f"<td>{_f(s.realtime_factor, 2) if s.realtime_factor is not None else '–'}</td></tr>"
        )
    return "<h2>Summary</h2><table>" + head + "".join(rows) + "</table>"


def _clip_section(report: ClipReport) -> str:
    s = report.scores
    parts = [f"<h2 id='{_anchor(s.name)}'>{_e(s.name)}</h2>"]
    parts.append(
        "<p class='note'>" + " · ".join(f"{k}: {_e(v)}" for k, v in report.paths.items()) + "</p>"
    )
    parts.append(_mouth_table(s))
    t = s.timing
    timing_rows = [
        ("video extension (matched)", "yes" if t.video_extension else "no"),
        ("duration", f"{t.duration:.3f} s (planned {t.expected_duration:.3f} s)"),
        ("frames", f"{t.frames} (planned {t.expected_frames})"),
        ("frame rate", f"{t.fps:.2f} fps (input {t.input_fps:.2f})"),
        ("frame time error, max", f"{t.max_frame_time_error * 1000:.1f} ms"),
        ("audio track", f"{t.audio_duration:.3f} s"),
        (
            "A/V offset (audio vs driving)",
            f"{_f(t.audio_offset * 1000, 1)} ms, match {_f(t.audio_match)}",
        ),
        ("stream start offset", f"{t.stream_start_offset * 1000:.1f} ms"),
        (
            "PSNR outside lower face",
            f"{_f(s.psnr_outside_db, 2)} dB (worst frame {_f(s.psnr_outside_worst_db, 2)})",
        ),
        ("identity distance", f"{_f(s.identity_distance)} (max {_f(s.identity_distance_max)})"),
        ("mouth flicker ratio", _f(s.flicker_ratio)),
        (
            "processing",
            f"{_f(s.processing_seconds, 1)} s, {_f(s.realtime_factor, 2)} × real time"
            if s.processing_seconds is not None
            else "not known",
        ),
    ]
    parts.append(
        "<table>"
        + "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td></tr>" for a, b in timing_rows)
        + "</table>"
    )
    parts.append(
        f"<img alt='mouth opening and speech' src='data:image/png;base64,{_plot(report.tracks)}'>"
    )
    for moment in report.moments:
        parts.append(_strip(moment))
    return "\n".join(parts)


def _mouth_table(s: ClipScores) -> str:
    rows = [("output", s.output_mouth), ("input (as shown)", s.input_mouth)]
    if s.reference_mouth is not None:
        rows.append(("reference", s.reference_mouth))
    head = (
        "<tr><th>mouth track</th><th>face frames</th><th>speech r (best)</th><th>best lag</th>"
        "<th>speech r at 0</th><th>vs reference r (best / at 0)</th><th>ref lag</th>"
        "<th>silence: closed</th><th>silence: mean opening</th><th>speech: mean opening</th></tr>"
    )
    body = []
    for label, m in rows:
        ref = m.reference
        body.append(
            f"<tr><td>{label}</td><td>{m.face_frames}/{m.frames}</td><td>{_f(m.speech.best_r)}</td>"
            f"<td>{_f(m.speech.best_lag)} s</td><td>{_f(m.speech.r_at_zero)}</td>"
            f"<td>{_f(ref.best_r) + ' / ' + _f(ref.r_at_zero) if ref else '–'}</td>"
            f"<td>{_f(ref.best_lag) + ' s' if ref else '–'}</td>"
            f"<td>{_pct(m.closure.closed_fraction)} of {m.closure.silent_frames}</td>"
            f"<td>{_f(m.closure.mean_opening, 3)}</td>"
            f"<td>{_f(m.closure.speech_mean_opening, 3)}</td></tr>"
        )
    return "<table>" + head + "".join(body) + "</table>"


def _plot(tracks: Tracks) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(13, 3.6), dpi=90)
    ax, lag_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]})
    for start, end in tracks.silences:
        ax.axvspan(start, end, color="0.85", lw=0)
    t = tracks.times
    ax.plot(t, tracks.input_opening, color="tab:blue", lw=1, alpha=0.6, label="input (as shown)")
    if tracks.reference_opening is not None:
        ax.plot(t, tracks.reference_opening, color="tab:green", lw=1.2, label="reference")
    ax.plot(t, tracks.output_opening, color="tab:red", lw=1.6, label="output")
    ax.set_xlabel("output time (s)")
    ax.set_ylabel("mouth opening (IOD)")
    ax.set_xlim(0, max(float(t[-1]) if t.size else 1.0, 1e-3))
    envelope = ax.twinx()
    envelope.fill_between(t, 0, tracks.envelope, color="tab:orange", alpha=0.25, lw=0)
    envelope.set_ylim(0, 1.05)
    envelope.set_ylabel("speech loudness (0 = −40 dB)")
    ax.set_zorder(envelope.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax.set_title("mouth opening, speech envelope (orange), silences (grey)", fontsize=10)
    lags = np.asarray(tracks.speech_lag_r["lags"])
    for label, colour in (("input", "tab:blue"), ("reference", "tab:green"), ("output", "tab:red")):
        if label in tracks.speech_lag_r:
            lag_ax.plot(lags, tracks.speech_lag_r[label], color=colour, label=label)
    lag_ax.axvline(0, color="0.5", lw=0.8)
    lag_ax.set_xlabel("lag (s), > 0: mouth after sound")
    lag_ax.set_ylabel("r with speech")
    lag_ax.set_title("correlation vs lag", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _strip(moment: Moment) -> str:
    figures = []
    for name, image in moment.images.items():
        ok, data = cv2.imencode(
            ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        if ok:
            figures.append(
                f"<figure><img src='data:image/jpeg;base64,{_b64(data.tobytes())}'>"
                f"<figcaption>{_e(name)}</figcaption></figure>"
            )
    return f"<h3>{_e(moment.kind)} — frame {moment.index}, {moment.time:.2f} s</h3>" + "".join(
        figures
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _e(value: object) -> str:
    return html.escape(str(value))


def _f(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–" if value is None or math.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value * 100:.0f} %"


def _flag(ok: bool) -> str:
    return " class='good'" if ok else " class='bad'"


def _anchor(name: str) -> str:
    return "clip-" + "".join(c if c.isalnum() else "-" for c in name)
