"""Face analysis speed: ms per frame at 720p and 1080p, decoding included.

    .venv/bin/python benchmarks/face_speed.py [--clip ../shared/data/dev/talk4.mp4] [--frames 200]

A dev clip is upscaled (letterboxed to 16:9) and re-encoded to H.264 at each size in a
temp folder, then decoded and analysed exactly as the pipeline's first pass does. Printed:
decode + analysis and decode alone, as wall time and as CPU time of all the process's
threads (steadier when other jobs share the machine), the best of a few runs, and what
the analyser did (mesh runs, detections, identity checks). Never gate CI on these.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from videoretalk.face import FaceAnalyser
from videoretalk.media.decode import iter_frames

DEV_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "talk4.mp4"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def make_clip(src: Path, dst: Path, size: tuple[int, int], max_frames: int) -> int:
    w, h = size
    count = 0
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for frame in iter_frames(src):
            if count >= max_frames:
                break
            img = frame.image
            scale = h / img.shape[0]
            img = cv2.resize(img, (round(img.shape[1] * scale), h), interpolation=cv2.INTER_CUBIC)
            canvas = np.zeros((h, w, 3), np.uint8)
            x0 = (w - img.shape[1]) // 2
            canvas[:, x0 : x0 + img.shape[1]] = img[:, : w - x0]
            for packet in stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")):
                out.mux(packet)
            count += 1
        for packet in stream.encode():
            out.mux(packet)
    return count


def measure(path: Path) -> dict[str, float]:
    """Wall and CPU (all threads of this process) ms per frame, best of `repeats`."""
    start, cpu = time.perf_counter(), time.process_time()
    n = sum(1 for _ in iter_frames(path))
    out = {
        "decode": (time.perf_counter() - start) / n * 1000,
        "decode_cpu": (time.process_time() - cpu) / n * 1000,
    }
    analyser = FaceAnalyser()  # models load outside the timed loop, as in a worker
    start, cpu = time.perf_counter(), time.process_time()
    for frame in iter_frames(path):
        analyser.add(frame)
    track = analyser.finish()
    out["total"] = (time.perf_counter() - start) / n * 1000
    out["total_cpu"] = (time.process_time() - cpu) / n * 1000
    analyser.close()
    out.update(track.info)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="face analysis ms/frame at 720p and 1080p")
    parser.add_argument("--clip", type=Path, default=DEV_CLIP)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="report the fastest run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            path = Path(tmp) / f"{label}.mp4"
            n = make_clip(args.clip, path, size, args.frames)
            runs = [measure(path) for _ in range(args.repeats)]
            best = min(runs, key=lambda r: r["total"])
            print(
                f"{label:>5} {size[0]}x{size[1]}, {n} frames: decode+face {best['total']:.1f} ms/frame "
                f"wall ({best['total_cpu']:.1f} CPU), decode alone {best['decode']:.1f} wall "
                f"({best['decode_cpu']:.1f} CPU); mesh runs {best['mesh_runs']:.0f}, detections "
                f"{best['detections']:.0f}, identity checks {best['identity_checks']:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
