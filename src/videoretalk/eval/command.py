"""`videoretalk eval`: score one output, or a batch from a manifest or a folder, into a report.

    videoretalk eval --video V --audio A --output OUT.mp4 [--reference GT.mp4] [--report R.html]
    videoretalk eval --manifest clips.json [--report R.html]
    videoretalk eval --folder outputs/ [--report R.html]

Prints one summary line per clip and writes R.html (self-contained) and R.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidParameter

DEFAULT_REPORT = "quality-report.html"


def add_eval_command(sub: Any) -> None:
    parser = sub.add_parser(
        "eval", help="score lip-synced outputs into an HTML + JSON quality report"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--output", help="one lip-synced output .mp4 (with --video and --audio)")
    source.add_argument(
        "--manifest", help="JSON list of clips: video, audio, output[, reference, seconds]"
    )
    source.add_argument("--folder", help="folder with manifest.json, or X.mp4 + X.json sidecars")
    parser.add_argument("--video", help="the input video the output was made from")
    parser.add_argument("--audio", help="the driving speech")
    parser.add_argument(
        "--reference", help="ground-truth video (the person really saying the audio)"
    )
    parser.add_argument("--seconds", type=float, help="processing time of the output, if known")
    parser.add_argument("--name", help="clip name in the report (default: the output's file name)")
    parser.add_argument(
        "--report",
        help=f"HTML report path; JSON goes beside it (default: {DEFAULT_REPORT} "
        "beside the output, or in the folder / manifest's folder)",
    )
    parser.set_defaults(command=run_eval_command)


def run_eval_command(args: argparse.Namespace) -> int:
    from .batch import ClipJob, load_manifest, scan_folder
    from .report import write_report
    from .run import evaluate_jobs, summary_lines

    if args.output:
        if not args.video or not args.audio:
            raise InvalidParameter(
                "eval --output needs --video and --audio (the inputs it was made from)."
            )
        output = Path(args.output)
        jobs = [
            ClipJob(
                name=args.name or output.stem,
                video=Path(args.video),
                audio=Path(args.audio),
                output=output,
                reference=Path(args.reference) if args.reference else None,
                seconds=args.seconds,
            )
        ]
        base = output.parent
    elif args.manifest:
        jobs, base = load_manifest(args.manifest), Path(args.manifest).parent
    else:
        jobs, base = scan_folder(args.folder), Path(args.folder)
    if (args.video or args.audio or args.reference) and not args.output:
        raise InvalidParameter(
            "--video, --audio and --reference go with --output; a batch names them per clip."
        )
    missing = [
        str(p)
        for job in jobs
        for p in (job.video, job.audio, job.output, job.reference)
        if p is not None and not p.is_file()
    ]
    if missing:
        raise InvalidParameter(f"No such file: {', '.join(missing[:5])}.")

    reports, failed = evaluate_jobs(jobs, log=lambda line: print(line, file=sys.stderr))
    html_path, json_path = write_report(
        reports,
        Path(args.report) if args.report else base / DEFAULT_REPORT,
        meta={"clips": len(jobs), "failed": failed or "none"},
    )
    print("\n".join(summary_lines(reports)))
    for name, error in failed.items():
        print(f"{name}: not scored: {error}")
    print(f"report: {html_path}\nnumbers: {json_path}")
    return 1 if failed else 0
