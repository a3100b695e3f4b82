"""Speed target of issue 5: `videoretalk run` time / plain decode + re-encode time.

    .venv/bin/python benchmarks/speed_ratio.py [--source talk4] [--seconds 10] [--profile]

Builds a 10 s 1280×720 30 fps talking-head clip from a dev clip (scaled to 720 px high,
padded to 16:9 with its own edge pixels, ping-ponged to length, with the person's own
speech), then in one run times

  (a) baseline — `VideoReader.frames()` into `VideoWriter.write()` with `Settings().encode`
      and the driving audio: what any tool that re-encodes the clip has to pay;
  (b) `videoretalk.retalk()` with the real engine, split by stage with timers around the
      engine's calls (face analysis pass, face-track finish, motion, exemplar pass, render,
      encode; decode and loop overhead are the remainder).

Both wall and CPU time are printed. CPU time is process-wide (x264 and the decoder run
threads), so a stage's CPU includes whatever encoder threads ran during it; on a shared
machine wall time can be inflated by other load while CPU time is not, so the CPU ratio
is the steadier figure. Benchmarks print figures; nothing here gates CI.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev"

WIDTH, HEIGHT, FPS = 1280, 720, 30  # the clip named in issue 5
TARGET_RATIO = 2.0


# -- the test clip ------------------------------------------------------------------
def build_clip(source: Path, seconds: float, out: Path) -> Path:
    """`seconds` of `source` at 1280×720, 30 fps, ping-ponged, with its own audio looped."""
    from videoretalk.media.decode import VideoReader, read_audio

    with VideoReader(source) as reader:
        frames = [f.image for f in reader.frames()]
    n = round(seconds * FPS)
    order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, 0, -1)])
    audio = read_audio(source)
    samples = np.tile(
        audio.samples, (1, int(np.ceil(seconds * audio.sample_rate / audio.samples.shape[1])))
    )
    samples = samples[:, : int(seconds * audio.sample_rate)]

    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.options = {"crf": "18", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=audio.sample_rate)
        sound.codec_context.layout = "mono" if samples.shape[0] == 1 else "stereo"
        for k in range(n):
            image = frames[order[k % len(order)]]
            side = HEIGHT
            scaled = cv2.resize(
                image,
                (side * image.shape[1] // image.shape[0], side),
                interpolation=cv2.INTER_CUBIC,
            )
            pad = WIDTH - scaled.shape[1]
            padded = cv2.copyMakeBorder(
                scaled, 0, 0, pad // 2, pad - pad // 2, cv2.BORDER_REPLICATE
            )
            frame = av.VideoFrame.from_ndarray(padded, format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        for start in range(0, samples.shape[1], 1024):
            chunk = np.ascontiguousarray(samples[:, start : start + 1024])
            af = av.AudioFrame.from_ndarray(
                chunk, format="fltp", layout=sound.codec_context.layout.name
            )
            af.sample_rate, af.pts = audio.sample_rate, start
            container.mux(sound.encode(af))
        container.mux(sound.encode(None))
    return out


def build_audio(seconds: float, out: Path) -> Path:
    """Driving speech: speech1 then speech2 (each ~5 s), cut to `seconds`, 48 kHz."""
    from videoretalk.media.decode import read_audio

    parts = [
        read_audio(DEV / name, sample_rate=48000).samples for name in ("speech1.wav", "speech2.wav")
    ]
    samples = np.concatenate(parts, axis=1)[:, : int(seconds * 48000)]
    with av.open(str(out), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=48000)
        stream.codec_context.layout = "stereo" if samples.shape[0] == 2 else "mono"
        pcm = (np.clip(samples.T, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(
            pcm, format="s16", layout=stream.codec_context.layout.name
        )
        frame.sample_rate = 48000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out


# -- timing -------------------------------------------------------------------------
class Clock:
    """Wall and process-CPU seconds per named stage (re-entrant calls are not nested)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - w
            self.cpu[name] += time.process_time() - c
            self.calls[name] += 1

    def wrap(self, owner: Any, attr: str, name: str) -> Callable[[], None]:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return original(*args, **kwargs)

        setattr(owner, attr, timed)
        return lambda: setattr(owner, attr, original)


def baseline(video: Path, audio: Path, out: Path) -> tuple[float, float, int]:
    """Plain decode + re-encode at the pipeline's settings: (wall s, CPU s, frames)."""
    from videoretalk.config import Settings
    from videoretalk.media.decode import VideoReader, read_audio
    from videoretalk.media.encode import VideoWriter

    w, c = time.perf_counter(), time.process_time()
    driving = read_audio(audio)
    with VideoReader(video) as reader:
        frames = reader.frames()
        first = next(frames)
        h, wd = first.image.shape[:2]
        n = 0
        with VideoWriter(out, wd, h, FPS, driving, driving.duration, Settings().encode) as writer:
            for frame in [first]:
                writer.write(frame.image, frame.time)
                n += 1
            for frame in frames:
                if frame.time >= driving.duration:
                    break
                writer.write(frame.image, frame.time)
                n += 1
    return time.perf_counter() - w, time.process_time() - c, n


def engine_run(
    video: Path, audio: Path, out: Path, profile: bool
) -> tuple[float, float, Clock, Any]:
    """The whole `retalk()` with timers around each engine stage."""
    import videoretalk.engine as engine_mod
    import videoretalk.motion.predict as predict_mod
    from videoretalk import retalk
    from videoretalk.config import Settings
    from videoretalk.face.analyser import FaceAnalyser
    from videoretalk.media.encode import VideoWriter
    from videoretalk.render.renderer import MouthRenderer

    clock = Clock()
    undo = [
        clock.wrap(FaceAnalyser, "add", "face analysis (per frame)"),
        clock.wrap(FaceAnalyser, "finish", "face track finish"),
        clock.wrap(predict_mod, "predict_mouth_motion", "motion"),
        clock.wrap(engine_mod.RetalkEngine, "plan", "plan (finish+motion+exemplar pass)"),
        clock.wrap(MouthRenderer, "render", "render (per frame)"),
        clock.wrap(VideoWriter, "write", "encode: rgb->yuv + x264 (per frame)"),
        clock.wrap(VideoWriter, "close", "encode: flush"),
    ]
    settings = Settings.from_env(engine="retalk")
    profiler = cProfile.Profile() if profile else None
    w, c = time.perf_counter(), time.process_time()
    try:
        if profiler:
            profiler.enable()
        result = retalk(video, audio, out, settings=settings)
    finally:
        if profiler:
            profiler.disable()
        for u in undo:
            u()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"engine edited {result.frames_edited}/{result.frames} frames")
    return wall, cpu, clock, profiler


def _yuv_cost(video: Path, frames: int = 60) -> tuple[float, float]:
    """ms per frame of YUV→RGB (decode side) and RGB→YUV (encode side), main thread."""
    container = av.open(str(video))
    raw = []
    for k, frame in enumerate(container.decode(video=0)):
        raw.append(frame)
        if k + 1 >= frames:
            break
    t = time.perf_counter()
    images = [f.to_ndarray(format="rgb24") for f in raw]
    to_rgb = (time.perf_counter() - t) / len(raw) * 1e3
    t = time.perf_counter()
    for im in images:
        av.VideoFrame.from_ndarray(im, format="rgb24").reformat(format="yuv420p")
    to_yuv = (time.perf_counter() - t) / len(raw) * 1e3
    container.close()
    return to_rgb, to_yuv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="talk4", help="dev clip to build the 720p clip from")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the engine run; top functions"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="speed-ratio-"))
    work.mkdir(parents=True, exist_ok=True)
    video = work / f"{args.source}_{WIDTH}x{HEIGHT}_{FPS}fps_{args.seconds:g}s.mp4"
    if not video.exists():
        build_clip(DEV / f"{args.source}.mp4", args.seconds, video)
    audio = work / f"speech_{args.seconds:g}s.wav"
    if not audio.exists():
        build_audio(args.seconds, audio)

    # Warm-up imports and model loads outside both timings (a worker process keeps them).
    import videoretalk.face.analyser
    import videoretalk.motion.predict
    import videoretalk.render.renderer  # noqa: F401

    base_wall, base_cpu, n = baseline(video, audio, work / "baseline.mp4")
    run_wall, run_cpu, clock, profiler = engine_run(video, audio, work / "retalk.mp4", args.profile)

    print(
        f"\nclip: {video.name}, {n} frames; machine: shared, {cv2.getNumberOfCPUs()} CPUs visible"
    )
    print(f"{'':38s} {'wall s':>8s} {'CPU s':>8s} {'wall ms/f':>10s}")
    print(
        f"{'(a) decode + re-encode':38s} {base_wall:8.2f} {base_cpu:8.2f} {base_wall / n * 1e3:10.1f}"
    )
    print(
        f"{'(b) videoretalk retalk()':38s} {run_wall:8.2f} {run_cpu:8.2f} {run_wall / n * 1e3:10.1f}"
    )
    plan_wall = clock.wall.pop("plan (finish+motion+exemplar pass)", 0.0)
    plan_cpu = clock.cpu.pop("plan (finish+motion+exemplar pass)", 0.0)
    inner = ("face track finish", "motion")
    clock.wall["exemplar pass (decode + crops)"] = plan_wall - sum(clock.wall[k] for k in inner)
    clock.cpu["exemplar pass (decode + crops)"] = plan_cpu - sum(clock.cpu[k] for k in inner)
    clock.wall["other: decode x2, validate, audio, loop"] = run_wall - sum(clock.wall.values())
    clock.cpu["other: decode x2, validate, audio, loop"] = run_cpu - sum(clock.cpu.values())
    for name in sorted(clock.wall, key=lambda k: -clock.wall[k]):
        print(
            f"    {name:34s} {clock.wall[name]:8.2f} {clock.cpu[name]:8.2f} {clock.wall[name] / n * 1e3:10.1f}"
            f"  ({100 * clock.wall[name] / run_wall:4.1f} % of wall)"
        )
    to_rgb, to_yuv = _yuv_cost(video)
    print(
        f"    (within decode/encode: yuv->rgb {to_rgb:.1f} ms/f, rgb->yuv {to_yuv:.1f} ms/f, main thread)"
    )
    dominant = max(clock.wall, key=lambda k: clock.wall[k])
    print(
        f"\nspeed ratio (wall) {run_wall / base_wall:.2f}   (CPU) {run_cpu / base_cpu:.2f}   "
        f"target <= {TARGET_RATIO}; dominated by: {dominant}"
    )
    if profiler is not None:
        print("\ncProfile, top 25 by own time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
