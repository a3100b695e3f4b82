"""Command line: `videoretalk run | serve | keys | eval`.

Each subcommand parses its arguments and calls one domain function; errors are
printed as one line carrying the DashScope code, with a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from .api.cli import add_commands as add_service_commands
from .errors import VideoRetalkError
from .eval.command import add_eval_command

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except VideoRetalkError as error:
        _print_error(error.code, error.message, getattr(args, "json", False))
        return EXIT_BAD_INPUT if error.status < 500 else EXIT_INTERNAL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: one line, no traceback
        if getattr(args, "debug", False):
            raise
        _print_error(
            "InternalError", f"{type(error).__name__}: {error}", getattr(args, "json", False)
        )
        return EXIT_INTERNAL


def _print_error(code: str, message: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"status": "FAILED", "code": code, "message": message}))
    print(f"error: {code}: {message}", file=sys.stderr)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videoretalk", description="Self-hosted lip-sync video service."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="subcommand", required=True)

    run = sub.add_parser("run", help="lip-sync one video to an audio track, offline")
    run.add_argument("--video", required=True, help="input video (mp4/mov/avi, H.264/H.265)")
    run.add_argument("--audio", required=True, help="driving speech (wav/mp3/aac/m4a)")
    run.add_argument("--ref-image", help="photo of the person to edit when several are visible")
    run.add_argument(
        "--video-extension",
        action="store_true",
        help="extend the video (forward/backward) when the audio is longer",
    )
    run.add_argument(
        "--query-face-threshold",
        type=int,
        default=None,
        help="face match strictness 120-200 (default 170) for --ref-image",
    )
    run.add_argument(
        "--music-bed",
        action="store_true",
        help="the audio is speech over music: keep the mouth shut where a neural voice "
        "detector hears no voice (needs the 'music' extra; not for songs)",
    )
    run.add_argument("-o", "--output", required=True, help="output .mp4")
    run.add_argument("--json", action="store_true", help="print a one-line JSON summary")
    run.set_defaults(command=_cmd_run)
    add_service_commands(sub)  # serve, keys
    add_eval_command(sub)  # quality report (issue 7)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .config import Settings
    from .pipeline import retalk

    settings = Settings.from_env()
    if args.music_bed:
        motion = settings.motion
        settings = replace(
            settings, motion=replace(motion, vad=replace(motion.vad, music_bed=True))
        )
    bar = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    started = time.perf_counter()
    result = retalk(
        args.video,
        args.audio,
        args.output,
        ref_image=args.ref_image,
        video_extension=args.video_extension,
        query_face_threshold=args.query_face_threshold,
        progress=bar.update if bar else None,
        settings=settings,
    )
    if bar:
        bar.finish()
    summary = {
        "status": "SUCCEEDED",
        "output": str(result.output),
        "video_duration": result.usage.video_duration,
        "video_ratio": result.usage.video_ratio,
        "frames": result.frames,
        "frames_edited": result.frames_edited,
        "width": result.width,
        "height": result.height,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {result.output} ({result.duration:.2f} s, {result.frames} frames, "
            f"{result.frames_edited} edited) in {summary['seconds']} s"
        )
    return 0


class _ProgressBar:
    """A one-line terminal progress bar on stderr: stage name and percentage."""

    WIDTH = 30

    def __init__(self) -> None:
        self._last = ""

    def update(self, stage: str, fraction: float) -> None:
        filled = int(self.WIDTH * min(max(fraction, 0.0), 1.0))
        line = f"\r{stage:<9} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction * 100:5.1f}%"
        if line != self._last:
            sys.stderr.write(line)
            sys.stderr.flush()
            self._last = line

    def finish(self) -> None:
        sys.stderr.write("\n")


if __name__ == "__main__":
    raise SystemExit(main())
