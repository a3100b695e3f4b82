"""Burned-in caption search (`render/overlay.py`) on the real clips: found where there is
one, nowhere else.

    .venv/bin/python benchmarks/overlay_check.py [CLIP ...]     # default: dev + train clips

Per clip, the face stage tracks the person, then the search runs over every frame's grey
levels twice: as recorded (none of these clips has a caption over the face: every
segment found is a false alarm), and with a static caption drawn across the chin (white
strokes, black outline; drawn on the decoded grey, so without the encoder's noise). For
the captioned copy it prints the share of the caption's white strokes inside the lower
face's box that are found, and the share of found pixels that are not the caption's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from videoretalk import Settings
from videoretalk.face import analyse_video
from videoretalk.face.landmarks import CHIN
from videoretalk.media.decode import VideoReader
from videoretalk.render.overlay import OverlayFinder
from videoretalk.render.warp import jaw_ring, lower_face_box, lower_face_polygon

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TEXT = "so we met again at the station"


def _caption(points: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Grey levels to draw (-1: leave) and the white strokes, for a face like `points`."""
    iod = float(np.linalg.norm(points[263, :2] - points[33, :2]))
    scale = iod / 120
    (text_w, _), _ = cv2.getTextSize(TEXT, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    origin = ((shape[1] - text_w) // 2, int(points[CHIN, 1] - 0.15 * iod))
    paint = np.full(shape[:2], -1, np.int16)
    thick = max(4, round(8 * scale))
    cv2.putText(paint, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 0, thick, cv2.LINE_AA)
    strokes = np.zeros(shape[:2], np.uint8)
    cv2.putText(strokes, TEXT, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 2)
    paint[strokes > 0] = 255
    return paint, strokes > 0


def check(path: Path) -> str:
    track = analyse_video(path, settings=Settings.from_env().face)
    if not track.present.any():
        return f"{path.stem:30s} no face"
    with VideoReader(path) as reader:
        first = int(np.argmax(track.present))
        plain = OverlayFinder(track.landmarks, track.present)
        captioned = OverlayFinder(track.landmarks, track.present)
        paint: np.ndarray | None = None
        strokes = np.zeros(0)
        started = time.perf_counter()
        for index, grey, _ in reader.scan([]):
            plain.add(index, grey)
            if paint is None:
                paint, strokes = _caption(track.landmarks[first], grey.shape)
            drawn = np.where(paint >= 0, paint, grey).astype(np.uint8)
            captioned.add(index, drawn)
        seconds = time.perf_counter() - started
    plain.finish()
    captioned.finish()
    false_pixel_frames = sum(s.ys.size * (s.last - s.first + 1) for s in plain.segments)
    recalls, strays = [], []
    near = cv2.dilate((paint >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    for k in np.flatnonzero(track.present)[::10]:
        points = track.landmarks[k]
        box = lower_face_box([lower_face_polygon(points, jaw_ring(points))], near.shape, 2)
        inside = strokes[box.slice()]
        if inside.sum() < 50:
            continue  # the face moved away from the caption
        mask = captioned.mask(int(k), box)
        found = mask > 0 if mask is not None else np.zeros_like(inside)
        recalls.append((found & inside).sum() / inside.sum())
        strays.append((found & ~near[box.slice()]).sum() / max(1, found.sum()))
    n = len(track.present)
    return (
        f"{path.stem:30s} frames {n:5d}  {1000 * seconds / n / 2:4.1f} ms/frame  "
        f"as recorded: {len(plain.segments)} segments ({false_pixel_frames} pixel-frames)  "
        f"captioned: strokes found {np.median(recalls) if recalls else float('nan'):.0%} "
        f"(min {min(recalls) if recalls else float('nan'):.0%}), "
        f"not caption {np.mean(strays) if strays else float('nan'):.1%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    args = parser.parse_args()
    clips = args.clips or sorted((DATA / "dev").glob("*.mp4")) + sorted(
        (DATA / "train").glob("*.mp4")
    )
    for path in clips:
        print(check(path), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
