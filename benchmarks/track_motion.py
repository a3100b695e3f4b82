"""Does the face track move with the face? Head jerks and camera shake (issue 3's track).

    .venv/bin/python benchmarks/track_motion.py [clips ...]   # default: dev + 3 train clips

Two measures, each for the shipped settings and for pose smoothing alone (the frame's
own pose never taking over), so the change is visible side by side:

 1. against the image: between each pair of frames, the shift of the patch around the
    nose found by phase correlation of the pixels (no face model involved), against the
    track's own shift of the nose; the difference in eye distances, median and 95th
    percentile per clip, then their mean over clips;
 2. synthetic shake: the first 120 frames of talk4 moved by up to +-8 / +-25 px at random
    each frame; the tracked lips and jaw against the steady clip's track moved the same
    way, in pixels (median, 95th percentile).

Prints figures only; nothing here gates CI.
"""

from __future__ import annotations

import argparse
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from videoretalk.face import FaceTrack, analyse_video
from videoretalk.face.landmarks import JAW, LIPS_OUTER
from videoretalk.face.settings import FaceSettings
from videoretalk.media.decode import iter_frames

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_CLIPS = [
    *sorted((SHARED / "dev").glob("talk*.mp4")),
    SHARED / "train" / "speaker_webcam_vlog_12s.mp4",
    SHARED / "train" / "speaker_reagan_26s.mp4",
    SHARED / "train" / "speaker_seated_vertical_20s.mp4",
]
NOSE = [1, 2, 4, 5, 98, 164, 195, 197, 327]  # tip, bridge and nostrils: rigid, textured
LOWER_FACE = list(LIPS_OUTER + JAW)
SHAKE_FRAMES = 120
SETTINGS = {
    "shipped": FaceSettings(),
    "smoothing alone": FaceSettings(pose_follow_from_iod=10.0, pose_follow_fully_iod=11.0),
}


def eye_distance(track: FaceTrack) -> float:
    return float(np.nanmedian(track.interocular))


def nose_shift_errors(track: FaceTrack, greys: list[np.ndarray]) -> np.ndarray:
    """Per frame pair: |track's nose shift - the pixels' shift| / eye distance."""
    iod = eye_distance(track)
    errors = []
    for i in range(len(greys) - 1):
        if not (track.present[i] and track.present[i + 1]):
            continue
        centre = track.landmarks[i][NOSE, :2].mean(axis=0)
        half = 0.35 * iod
        x0, y0 = int(centre[0] - half), int(centre[1] - half)
        x1, y1 = int(centre[0] + half), int(centre[1] + half)
        h, w = greys[i].shape
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            continue
        window = cv2.createHanningWindow((x1 - x0, y1 - y0), cv2.CV_32F)
        (dx, dy), _ = cv2.phaseCorrelate(greys[i][y0:y1, x0:x1], greys[i + 1][y0:y1, x0:x1], window)
        moved = track.landmarks[i + 1][NOSE, :2].mean(axis=0) - centre
        errors.append(np.hypot(moved[0] - dx, moved[1] - dy) / iod)
    return np.asarray(errors)


def write_clip(path: Path, images: list[np.ndarray], fps: int = 30) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "16"}
        for image in images:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return path


def shaken(images: list[np.ndarray], reach: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each frame moved by up to `reach` px at random (edges repeated); the shifts."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-reach, reach + 1, (len(images), 2))
    out = []
    for image, (dx, dy) in zip(images, shifts):
        framed = np.pad(image, ((reach, reach), (reach, reach), (0, 0)), mode="edge")
        h, w = image.shape[:2]
        out.append(
            np.ascontiguousarray(framed[reach + dy : reach + dy + h, reach + dx : reach + dx + w])
        )
    return out, shifts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("clips", nargs="*", type=Path, default=DEFAULT_CLIPS)
    args = ap.parse_args()

    print("1. track against the pixels: nose shift error between frames / eye distance")
    p95s: dict[str, list[float]] = {name: [] for name in SETTINGS}
    for clip in args.clips:
        greys = [
            cv2.cvtColor(f.image, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in iter_frames(clip)
        ]
        cells = []
        for name, settings in SETTINGS.items():
            errors = nose_shift_errors(analyse_video(clip, settings=settings), greys)
            p95s[name].append(float(np.percentile(errors, 95)))
            cells.append(f"{name}: median {np.median(errors):.4f} p95 {p95s[name][-1]:.4f}")
        print(f"  {clip.stem[:28]:28s} " + " | ".join(cells), flush=True)
    print("  mean p95 over clips: " + ", ".join(f"{n} {np.mean(v):.4f}" for n, v in p95s.items()))

    print(f"2. synthetic shake, talk4 first {SHAKE_FRAMES} frames: lips and jaw off by (px)")
    images = [
        f.image for f, _ in zip(iter_frames(SHARED / "dev" / "talk4.mp4"), range(SHAKE_FRAMES))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        steady_path = write_clip(Path(tmp) / "steady.mp4", images)
        for reach in (8, 25):
            moved, shifts = shaken(images, reach, seed=3)
            moved_path = write_clip(Path(tmp) / f"shaken{reach}.mp4", moved)
            cells = []
            for name, settings in SETTINGS.items():
                steady = analyse_video(steady_path, settings=settings)
                track = analyse_video(moved_path, settings=settings)
                both = steady.present & track.present
                expected = steady.landmarks[:, LOWER_FACE, :2] - shifts[:, None, :]
                off = np.linalg.norm(track.landmarks[:, LOWER_FACE, :2] - expected, axis=2)
                off = off.mean(axis=1)[both]
                cells.append(
                    f"{name}: median {np.median(off):.2f} p95 {np.percentile(off, 95):.2f}"
                )
            print(f"  +-{reach:2d} px  " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
