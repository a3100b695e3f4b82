"""Side-by-side strips of the renderer on the dev clips, for looking at (issue 5).

    .venv/bin/python scripts/render_strips.py [--out DIR] [--frames 90]
    .venv/bin/python scripts/render_strips.py --pair INPUT.mp4 OUTPUT.mp4 [--at 160 165 170]

Each dev clip is re-driven with the *next* clip's mouth motion (retargeted) and, as a
hard case, with its exemplar bank limited to its most-closed frames (the painted interior).
One PNG per clip and case: rows are frames (widest target, most closed target, biggest
change, a middle frame); columns are input | output | input mouth x2 | output mouth x2.

`--pair` looks at a real pipeline output instead: each output frame is matched to the
source frame it shows through the timeline (so forward/backward video extension is
followed), and both mouths are cropped at the *input's* face track, so a warp that moves
the lips shows as a shift. Rows are the `--at` output frames, or by default the widest
and the most closed output mouths and the frames whose mouth region changed most.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from render_support import inner_opening, read_frames, retarget, track_images, track_video

from videoretalk.media.decode import VideoReader
from videoretalk.media.timeline import plan_timeline
from videoretalk.render import MouthRenderer
from videoretalk.render.topology import LIPS_OUTER

DEV = ROOT.parent / "shared" / "data" / "dev"
CLIPS = ["talk1", "talk2", "talk3", "talk4", "talk5"]
ROW_PX = 256


def _mouth_crop(image: np.ndarray, lm: np.ndarray, size: int) -> np.ndarray:
    lips = lm[LIPS_OUTER, :2]
    c = lips.mean(0)
    half = max(float(np.ptp(lips[:, 0])) * 0.9, 16.0)
    x0, y0 = int(c[0] - half), int(c[1] - half * 0.75)
    x1, y1 = int(c[0] + half), int(c[1] + half * 0.75)
    h, w = image.shape[:2]
    crop = image[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    return cv2.resize(crop, (int(size * 4 / 3), size), interpolation=cv2.INTER_CUBIC)


def strip(name: str, driver: str, n: int, out_dir: Path, closed_only: bool) -> Path:
    frames = read_frames(DEV / f"{name}.mp4", n)
    track = track_images(f.image for f in frames)
    dtrack = track_images(f.image for f in read_frames(DEV / f"{driver}.mp4", n))
    renderer = MouthRenderer()
    shapes = retarget(dtrack, track, len(frames), renderer.mouth_indices)
    opening = inner_opening(track.canonical)
    ok = np.flatnonzero(track.present)
    exemplar_frames = ok[opening[ok] <= np.percentile(opening[ok], 30)] if closed_only else None
    renderer.prepare(track, exemplar_frames)
    for f in frames:
        renderer.observe(f)
    full = track.canonical.copy()
    full[:, renderer.mouth_indices] = shapes
    t_open = inner_opening(full)
    picks = [
        int(np.argmax(t_open)),
        int(np.argmin(t_open)),
        int(np.argmax(np.abs(t_open - opening))),
        len(frames) // 2,
    ]
    rows = []
    for f in frames:
        if f.index not in picks:
            if track.present[f.index]:
                renderer.render(f, f.index, shapes[f.index])  # keep temporal state honest
            continue
        out = renderer.render(f, f.index, shapes[f.index]) if track.present[f.index] else f.image
        h, w = f.image.shape[:2]
        scale = ROW_PX / h
        small = [
            cv2.resize(im, (int(w * scale), ROW_PX), interpolation=cv2.INTER_AREA)
            for im in (f.image, out)
        ]
        lm = track.landmarks[f.index]
        crops = [_mouth_crop(im, lm, ROW_PX) for im in (f.image, out)]
        row = np.hstack([small[0], small[1], crops[0], crops[1]])
        label = f"{name} frame {f.index} target open {t_open[f.index]:.2f} source {opening[f.index]:.2f}"
        cv2.putText(
            row, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA
        )
        rows.append((picks.index(f.index), row))
    rows.sort(key=lambda r: r[0])
    image = np.vstack([r for _, r in rows])
    path = out_dir / f"strip_{name}_by_{driver}{'_closedbank' if closed_only else ''}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def source_of_output(input_path: Path, output_path: Path) -> np.ndarray:
    """Source frame shown by each output frame (the pipeline's own timeline rule)."""
    with VideoReader(input_path) as reader:
        times = reader.frame_times
    with VideoReader(output_path) as reader:
        out_times = reader.frame_times
    spacing = float(np.diff(out_times).mean()) if len(out_times) > 1 else 1 / 25
    timeline = plan_timeline(times, len(out_times) * spacing - spacing / 2, video_extension=True)
    shown = timeline.source_index
    if len(shown) < len(out_times):  # a rounding frame short: repeat the last
        shown = np.concatenate([shown, np.full(len(out_times) - len(shown), shown[-1])])
    return shown[: len(out_times)].astype(np.int64)


def pair_strip(
    input_path: Path, output_path: Path, at: list[int] | None, out_dir: Path, rows: int = 6
) -> Path:
    source = source_of_output(input_path, output_path)
    track = track_video(input_path)
    if at is None:
        otrack = track_video(output_path)
        opening = np.where(otrack.present, inner_opening(otrack.canonical), np.nan)
        ok = np.flatnonzero(np.isfinite(opening))
        change = np.abs(np.diff(opening[ok], prepend=opening[ok][0]))
        picks = [int(ok[np.argmax(opening[ok])]), int(ok[np.argmin(opening[ok])])]
        picks += [int(ok[k]) for k in np.argsort(-change) if int(ok[k]) not in picks][: rows - 2]
        at = sorted(set(picks))
    wanted = {t: int(source[t]) for t in at if 0 <= t < len(source) and track.present[source[t]]}
    with VideoReader(input_path) as reader:
        src_frames = {f.index: f.image for f in reader.frames_at(sorted(set(wanted.values())))}
    out_frames: dict[int, np.ndarray] = {}
    with VideoReader(output_path) as reader:
        for f in reader.frames():
            if f.index in wanted:
                out_frames[f.index] = f.image
            if f.index >= max(wanted, default=-1):
                break
    lines = []
    for t, i in wanted.items():
        src, out = src_frames[i], out_frames[t]
        if out.shape != src.shape:  # the output was scaled: compare at the input's size
            out = cv2.resize(out, (src.shape[1], src.shape[0]), interpolation=cv2.INTER_AREA)
        lm = track.landmarks[i]
        crops = [_mouth_crop(im, lm, ROW_PX) for im in (src, out)]
        small = cv2.resize(
            out, (int(out.shape[1] * ROW_PX / out.shape[0]), ROW_PX), interpolation=cv2.INTER_AREA
        )
        row = np.hstack([small, crops[0], crops[1]])
        label = f"output {t} <- source {i}"
        cv2.putText(
            row, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA
        )
        lines.append(row)
    if not lines:
        raise SystemExit("no output frame with a tracked face among the requested ones")
    width = max(r.shape[1] for r in lines)
    image = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in lines])
    path = out_dir / f"pair_{output_path.stem}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "render-strips")
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--clips", nargs="*", default=CLIPS)
    parser.add_argument(
        "--pair",
        nargs=2,
        type=Path,
        metavar=("INPUT", "OUTPUT"),
        help="a pipeline input video and its output: strip of output frames",
    )
    parser.add_argument("--at", nargs="*", type=int, help="with --pair: output frame indices")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.pair:
        print(pair_strip(args.pair[0], args.pair[1], args.at, args.out))
        return
    for k, name in enumerate(args.clips):
        driver = CLIPS[(CLIPS.index(name) + 1) % len(CLIPS)]
        print(strip(name, driver, args.frames, args.out, closed_only=False))
        if k == 0:
            print(strip(name, driver, args.frames, args.out, closed_only=True))


if __name__ == "__main__":
    main()
