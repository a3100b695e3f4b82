"""Side-by-side strips of the renderer on the dev clips, for looking at (issue 5).

    .venv/bin/python scripts/render_strips.py [--out DIR] [--frames 90]

Each dev clip is re-driven with the *next* clip's mouth motion (retargeted) and, as a
hard case, with its exemplar bank limited to its most-closed frames (the painted interior).
One PNG per clip and case: rows are frames (widest target, most closed target, biggest
change, a middle frame); columns are input | output | input mouth x2 | output mouth x2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from render_support import inner_opening, read_frames, retarget, track_images  # noqa: E402

from videoretalk.render import MouthRenderer  # noqa: E402
from videoretalk.render.topology import LIPS_OUTER  # noqa: E402

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
    crop = image[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
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
    picks = [int(np.argmax(t_open)), int(np.argmin(t_open)),
             int(np.argmax(np.abs(t_open - opening))), len(frames) // 2]
    rows = []
    for f in frames:
        if f.index not in picks:
            if track.present[f.index]:
                renderer.render(f, f.index, shapes[f.index])  # keep temporal state honest
            continue
        out = renderer.render(f, f.index, shapes[f.index]) if track.present[f.index] else f.image
        h, w = f.image.shape[:2]
        scale = ROW_PX / h
        small = [cv2.resize(im, (int(w * scale), ROW_PX), interpolation=cv2.INTER_AREA) for im in (f.image, out)]
        lm = track.landmarks[f.index]
        crops = [_mouth_crop(im, lm, ROW_PX) for im in (f.image, out)]
        row = np.hstack([small[0], small[1], crops[0], crops[1]])
        label = f"{name} frame {f.index} target open {t_open[f.index]:.2f} source {opening[f.index]:.2f}"
        cv2.putText(row, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
        rows.append((picks.index(f.index), row))
    rows.sort(key=lambda r: r[0])
    image = np.vstack([r for _, r in rows])
    path = out_dir / f"strip_{name}_by_{driver}{'_closedbank' if closed_only else ''}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "render-strips")
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--clips", nargs="*", default=CLIPS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(args.clips):
        driver = CLIPS[(CLIPS.index(name) + 1) % len(CLIPS)]
        print(strip(name, driver, args.frames, args.out, closed_only=False))
        if k == 0:
            print(strip(name, driver, args.frames, args.out, closed_only=True))


if __name__ == "__main__":
    main()
