"""Quality report for lip-synced videos (issue 7): score outputs, draw them.

    >>> from videoretalk.eval import evaluate_clip, write_report
    >>> report = evaluate_clip("talk.mp4", "speech.wav", "out.mp4", reference="truth.mp4")
    >>> write_report([report], "report.html")   # and report.json beside it

Metrics (definitions in `signals` and `pixels`): mouth-opening tracks of output, input
and reference; their correlation with the driving speech (best lag and r) and with the
reference; lip closure in silences; PSNR outside the lower face; dlib identity distance;
mouth-region flicker; the timing rules; processing speed when known.

Names are imported on first use, so `videoretalk --help` does not load OpenCV, dlib and
MediaPipe just because the CLI registers the `eval` subcommand.
"""

from __future__ import annotations

from .._lazy import lazy_attributes

_EXPORTS = {
    "ClipJob": "batch",
    "load_manifest": "batch",
    "scan_folder": "batch",
    "ClipReport": "clip",
    "ClipScores": "clip",
    "MouthScores": "clip",
    "Sync": "clip",
    "evaluate_clip": "clip",
    "to_json": "report",
    "write_report": "report",
    "evaluate_jobs": "run",
    "summary_lines": "run",
}

__all__ = [
    "ClipJob",
    "ClipReport",
    "ClipScores",
    "MouthScores",
    "Sync",
    "evaluate_clip",
    "evaluate_jobs",
    "load_manifest",
    "scan_folder",
    "summary_lines",
    "to_json",
    "write_report",
]


__getattr__ = lazy_attributes(__name__, _EXPORTS)
