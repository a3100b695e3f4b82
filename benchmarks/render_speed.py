"""`MouthRenderer.render` alone on the issue-5 clip (1280×720): ms per frame, optional profile.

    .venv/bin/python benchmarks/render_speed.py [--frames 120] [--profile] [--save DIR]

Uses the real face stage and motion stage on the clip `speed_ratio.py` builds (cached
with the face track and motion under `.cache/speed/`), so the renderer sees exactly what
it sees inside `videoretalk run`. `--save DIR` writes a few rendered frames as PNG.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed_ratio import DEV, build_audio, build_clip

ROOT = Path(__file__).resolve().parents[1]


def _inputs(work: Path, source: str) -> tuple[Path, object, object]:
    from videoretalk.config import Settings
    from videoretalk.face import analyse_video
    from videoretalk.media.decode import VideoReader, read_audio
    from videoretalk.motion import predict_mouth_motion

    video = work / f"{source}_1280x720_30fps_10s.mp4"
    if not video.exists():
        build_clip(DEV / f"{source}.mp4", 10.0, video)
    audio = work / "speech_10s.wav"
    if not audio.exists():
        build_audio(10.0, audio)
    cache = work / f"{source}_track_motion.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            track, motion = pickle.load(f)
        return video, track, motion
    settings = Settings()
    track = analyse_video(video, settings=settings.face)
    with VideoReader(video) as reader:
        times = reader.frame_times
    motion = predict_mouth_motion(
        read_audio(audio), times, face_track=track, settings=settings.motion
    )
    with cache.open("wb") as f:
        pickle.dump((track, motion), f)
    return video, track, motion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="talk4")
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "speed")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    from videoretalk.media.decode import VideoReader
    from videoretalk.render import MouthRenderer

    video, track, motion = _inputs(args.work, args.source)
    renderer = MouthRenderer(mouth_indices=motion.point_indices)  # type: ignore[attr-defined]
    with VideoReader(video) as reader:
        frames = [f for f, _ in zip(reader.frames(), range(args.frames))]
        t = time.perf_counter()
        renderer.prepare(track, exemplar_frames=range(len(track.present)))  # type: ignore[arg-type]
        for f in reader.frames_at(renderer.wanted_frames):
            renderer.observe(f)
        prep = time.perf_counter() - t
    renderer.render(frames[0], 0, motion.shapes[0])  # type: ignore[attr-defined]  # bank built
    renderer.reset()
    profiler = cProfile.Profile() if args.profile else None
    times = []
    outs = {}
    if profiler:
        profiler.enable()
    c = time.process_time()
    for f in frames:
        t = time.perf_counter()
        out = renderer.render(f, f.index, motion.shapes[f.index])  # type: ignore[attr-defined]
        times.append(time.perf_counter() - t)
        if args.save and f.index % 30 == 15:
            outs[f.index] = out
    cpu = time.process_time() - c
    if profiler:
        profiler.disable()
    ms = np.array(times) * 1e3
    print(
        f"exemplar pass {prep:.2f} s; render {len(frames)} frames of {frames[0].image.shape[1]}x"
        f"{frames[0].image.shape[0]}: median {np.median(ms):.1f} ms, mean {ms.mean():.1f} ms, "
        f"p95 {np.percentile(ms, 95):.1f} ms, CPU {cpu / len(frames) * 1e3:.1f} ms/frame; "
        f"triangulations {renderer._topology.rebuilds}"
    )
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, out in outs.items():
            cv2.imwrite(str(args.save / f"frame_{i:04d}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
