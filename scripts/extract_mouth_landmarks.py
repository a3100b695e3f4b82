"""Extract face-mesh landmarks and audio from talking-head clips for mouth-model training.

Writes one `.npz` per clip (git-ignored): frame times, 478-point landmarks in image
pixels, a presence mask, the clip's audio at 16 kHz mono, and the audio-minus-video
stream start offset in seconds. Landmarks come from MediaPipe's face mesh, run here
directly, with the face stage's 478-point convention (refined irises).

The shared training and dev clips go to `.cache/motion/`, which the training scripts
read whole. Any other clip (one the benchmark scores) goes to `.cache/motion_scored/`,
so scoring a clip never adds it to the next model's training set.

    .venv/bin/python scripts/extract_mouth_landmarks.py [clip.mp4 ...]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import av
import numpy as np

from videoretalk.media.decode import VideoReader, read_audio

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "motion"  # the training set: the shared clips only
SCORED_CACHE = REPO / ".cache" / "motion_scored"  # every other clip, one folder per path
SHARED = REPO.parent / "shared" / "data"
SAMPLE_RATE = 16_000
# Above this side the face is small in frame: run the mesh on a crop around the last face.
CROP_ABOVE_PX = 800


def default_clips() -> list[Path]:
    return sorted((SHARED / "train").glob("*.mp4")) + sorted((SHARED / "dev").glob("talk*.mp4"))


def cache_file(path: Path) -> Path:
    """Where `path`'s extraction is kept. Only the shared clips land in the training cache:
    a clip of the user's (even one called talk2.mp4) gets a folder named after its full
    path, so it neither joins training nor overwrites a shared clip's landmarks."""
    resolved = path.resolve()
    if resolved in {clip.resolve() for clip in default_clips()}:
        return CACHE / f"{path.stem}.npz"
    folder = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    return SCORED_CACHE / folder / f"{path.stem}.npz"


def _stream_offset(path: Path) -> float:
    """Audio start minus video start (s): read_audio starts at the first audio sample."""
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        vs = float(v.start_time * v.time_base) if v.start_time is not None else 0.0
        as_ = float(a.start_time * a.time_base) if a.start_time is not None else 0.0
    return as_ - vs


def _mesh_landmarks(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    det = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.4)
    video_mesh = fm.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True)
    still_mesh = fm.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True)
    times, marks, present = [], [], []
    box: tuple[int, int, int, int] | None = None
    with VideoReader(path) as reader:
        for frame in reader.frames():
            img = frame.image
            h, w = img.shape[:2]
            pts = None
            if max(h, w) <= CROP_ABOVE_PX:
                res = video_mesh.process(img)
                if res.multi_face_landmarks:
                    lm = res.multi_face_landmarks[0].landmark
                    pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lm], np.float32)
            else:
                if box is None:
                    d = det.process(img)
                    if d.detections:
                        b = d.detections[0].location_data.relative_bounding_box
                        cx, cy = (b.xmin + b.width / 2) * w, (b.ymin + b.height / 2) * h
                        s = max(b.width * w, b.height * h) * 1.6
                        box = (int(cx - s), int(cy - s), int(cx + s), int(cy + s))
                if box is not None:
                    x0, y0 = max(box[0], 0), max(box[1], 0)
                    x1, y1 = min(box[2], w), min(box[3], h)
                    crop = np.ascontiguousarray(img[y0:y1, x0:x1])
                    res = still_mesh.process(crop)
                    if res.multi_face_landmarks:
                        cw, ch = x1 - x0, y1 - y0
                        lm = res.multi_face_landmarks[0].landmark
                        pts = np.array(
                            [[p.x * cw + x0, p.y * ch + y0, p.z * cw] for p in lm], np.float32
                        )
                        lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
                        c, s = (lo + hi) / 2, (hi - lo).max() * 1.3
                        box = (int(c[0] - s), int(c[1] - s), int(c[0] + s), int(c[1] + s))
                    else:
                        box = None
            times.append(frame.time)
            present.append(pts is not None)
            marks.append(pts if pts is not None else np.zeros((478, 3), np.float32))
    return np.array(times), np.stack(marks), np.array(present)


def extract(path: Path) -> Path:
    out = cache_file(path)
    if out.exists():
        with np.load(out) as cached:
            if "source_size" not in cached or int(cached["source_size"]) == path.stat().st_size:
                return out  # same clip as before (a different file of the same name re-extracts)
    times, marks, present = _mesh_landmarks(path)
    audio = read_audio(path, sample_rate=SAMPLE_RATE, mono=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        frame_times=times,
        landmarks=marks,
        present=present,
        audio=audio.samples[0],
        sample_rate=SAMPLE_RATE,
        stream_offset=_stream_offset(path),
        source=str(path.name),
        source_size=path.stat().st_size,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    args = parser.parse_args(argv)
    for clip in args.clips or default_clips():
        out = extract(clip)
        d = np.load(out)
        print(
            f"{clip.name}: {len(d['frame_times'])} frames, {d['present'].mean():.0%} with a face",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
