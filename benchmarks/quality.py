"""Quality benchmark: run the whole engine over the dev clips and score every output (issue 7).

    .venv/bin/python benchmarks/quality.py [--out build/quality] [--clips talk1 talk2] [--rescore]

For each clip in ../shared/data/dev/ three runs:

* own        the clip's own speech; the clip itself is the ground truth (reference)
* other      another clip's speech followed by speech1.wav (longer than the video), trimmed
* other-ext  the same long speech with video extension (forward/backward play)

talk3 and talk5 are under the API's 640 px minimum side and are upscaled (bicubic) first.
Writes OUT/quality-report.html and .json and prints one line per run plus means per case:
these figures are the reference every later engine change is compared with. Wall-clock
figures (×RT = processing seconds per output second) are informative only.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from videoretalk import Settings, retalk
from videoretalk.engine import load_engine
from videoretalk.eval import (
    ClipJob,
    ClipReport,
    ClipScores,
    evaluate_jobs,
    summary_lines,
    write_report,
)
from videoretalk.media.decode import AudioTrack, VideoReader, read_audio
from videoretalk.media.encode import VideoWriter
from videoretalk.media.probe import probe_video

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "dev"
CLIPS = ("talk1", "talk2", "talk3", "talk4", "talk5")
CASES = ("own", "other", "other-ext")
MIN_SIDE = 640  # px, the API's minimum video side (limits.py)
SPEECH_RATE = 48_000  # Hz, common rate for concatenated speech


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "quality")
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), choices=CLIPS)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument(
        "--rescore", action="store_true", help="score existing outputs, do not run the engine"
    )
    args = parser.parse_args()
    commit = _commit()  # before the runs: others may commit while the benchmark works

    inputs, outputs = args.out / "inputs", args.out / "outputs"
    inputs.mkdir(parents=True, exist_ok=True)
    outputs.mkdir(parents=True, exist_ok=True)
    jobs: list[ClipJob] = []
    for clip in args.clips:
        video = _api_sized(args.data / f"{clip}.mp4", inputs / f"{clip}.mp4")
        own = _wav(read_audio(args.data / f"{clip}.mp4"), inputs / f"{clip}-own.wav")
        donor = CLIPS[(CLIPS.index(clip) + 1) % len(CLIPS)]
        other = _wav(
            _concat(
                read_audio(args.data / f"{donor}.mp4", SPEECH_RATE),
                read_audio(args.data / "speech1.wav", SPEECH_RATE),
            ),
            inputs / f"{clip}-{donor}+speech1.wav",
        )
        plan = {
            "own": (own, False, video),
            "other": (other, False, None),
            "other-ext": (other, True, None),
        }
        for case in args.cases:
            audio, extension, reference = plan[case]
            output = outputs / f"{clip}-{case}.mp4"
            seconds = _previous_seconds(args.out, f"{clip}-{case}")
            if not args.rescore or not output.is_file():
                print(f"run  {clip:<6} {case:<9}", end=" ", flush=True)
                started = time.perf_counter()
                result = retalk(video, audio, output, video_extension=extension)
                seconds = time.perf_counter() - started
                print(
                    f"{seconds:6.1f} s  {result.frames_edited}/{result.frames} frames edited",
                    flush=True,
                )
            jobs.append(ClipJob(f"{clip}-{case}", video, audio, output, reference, seconds))

    reports, failed = evaluate_jobs(jobs, log=lambda line: print("eval", line, flush=True))
    meta = {
        "engine": type(load_engine(Settings.from_env())).__name__,
        "commit": commit,
        "data": str(args.data),
        "runs": len(jobs),
        "failed": failed or "none",
    }
    html_path, json_path = write_report(reports, args.out / "quality-report.html", meta)
    print(f"\nengine {meta['engine']} at {meta['commit']}")
    print("\n".join(summary_lines(reports)))
    print()
    _print_means(reports)
    for name, error in failed.items():
        print(f"{name}: not scored: {error}")
    print(f"\nreport: {html_path}\nnumbers: {json_path}")
    return 1 if failed else 0


def _api_sized(source: Path, target: Path) -> Path:
    """The clip itself, or a bicubic upscale whose shorter side reaches 640 px (timing kept)."""
    info = probe_video(source)
    if min(info.width, info.height) >= MIN_SIDE:
        return source
    if target.is_file():
        return target
    scale = MIN_SIDE / min(info.width, info.height)
    width, height = (math.ceil(side * scale / 2) * 2 for side in (info.width, info.height))
    audio = read_audio(source)
    with (
        VideoReader(source) as reader,
        VideoWriter(
            target, width, height, info.fps, audio, info.duration, Settings.from_env().encode
        ) as writer,
    ):
        for frame in reader.frames():
            writer.write(
                cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_CUBIC), frame.time
            )
    return target


def _concat(first: AudioTrack, second: AudioTrack) -> AudioTrack:
    channels = max(first.samples.shape[0], second.samples.shape[0])
    a, b = (np.broadcast_to(t.samples, (channels, t.samples.shape[1])) for t in (first, second))
    return AudioTrack(np.ascontiguousarray(np.concatenate([a, b], axis=1)), first.sample_rate)


def _wav(track: AudioTrack, path: Path) -> Path:
    if path.is_file():
        return path
    layout = "mono" if track.samples.shape[0] == 1 else "stereo"
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("pcm_s16le", rate=track.sample_rate)
        stream.codec_context.layout = layout
        resampler = av.AudioResampler(format="s16", layout=layout, rate=track.sample_rate)
        for start in range(0, track.samples.shape[1], 4096):
            chunk = np.ascontiguousarray(track.samples[:, start : start + 4096], np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = track.sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, track.sample_rate)
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


def _previous_seconds(out: Path, name: str) -> float | None:
    """Processing time recorded by an earlier run, for --rescore."""
    try:
        clips = json.loads((out / "quality-report.json").read_text())["clips"]
    except (OSError, ValueError, KeyError):
        return None
    return next((c["scores"]["processing_seconds"] for c in clips if c["name"] == name), None)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def _commit() -> str:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _print_means(reports: list[ClipReport]) -> None:
    def mean(values: list[float | None]) -> str:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        return f"{np.mean(finite):6.3f}" if finite else "     -"

    print(
        f"{'case':<10} {'r_out':>6} {'|lag|':>6} {'r_in':>6} {'refr0':>6} {'shut_o':>6} "
        f"{'psnr':>6} {'ident':>6} {'flick':>6} {'xRT':>6}"
    )
    for case in CASES:
        group = [r.scores for r in reports if r.scores.name.endswith("-" + case)]
        if not group:
            continue
        print(
            f"{case:<10} "
            f"{mean([s.output_mouth.speech.best_r for s in group])} "
            f"{mean([abs(s.output_mouth.speech.best_lag) for s in group])} "
            f"{mean([s.input_mouth.speech.best_r for s in group])} "
            f"{mean([_ref_r0(s) for s in group])} "
            f"{mean([s.output_mouth.closure.closed_fraction for s in group])} "
            f"{mean([s.psnr_outside_db for s in group])} "
            f"{mean([s.identity_distance for s in group])} "
            f"{mean([s.flicker_ratio for s in group])} "
            f"{mean([s.realtime_factor for s in group])}"
        )


def _ref_r0(scores: ClipScores) -> float | None:
    reference = scores.output_mouth.reference
    return reference.r_at_zero if reference else None


if __name__ == "__main__":
    sys.exit(main())
