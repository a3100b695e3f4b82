"""Streaming benchmark: a generated 120 s 1920×1080 60 fps clip through `retalk()`.

Prints wall time and peak resident memory. Target: peak RSS < 1.5 GB, i.e. memory
must not grow with the video's length. Run: `python benchmarks/media_stream.py`
(add `--seconds 20` for a quick look). The clip is generated with x264 ultrafast.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from videoretalk import retalk


def generate(path: Path, seconds: float, width: int, height: int, fps: int) -> None:
    """A moving gradient with audio, encoded fast; frames are made one at a time."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.options = {"preset": "ultrafast", "crf": "23"}
        base = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
        for i in range(int(seconds * fps)):
            plane = np.roll(base, i * 4, axis=1)
            image = np.stack(
                [plane, plane.T[:height, :width] if height == width else plane[::-1], plane], -1
            )
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def tone_wav(path: Path, seconds: float, rate: int = 48000) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.codec_context.layout = "stereo"
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
        for start in range(0, len(samples), 4096):
            chunk = np.repeat(samples[start : start + 4096], 2)[None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate, frame.pts = rate, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video, audio, output = Path(tmp) / "in.mp4", Path(tmp) / "in.wav", Path(tmp) / "out.mp4"
        started = time.perf_counter()
        generate(video, args.seconds, args.width, args.height, args.fps)
        tone_wav(audio, args.seconds)
        print(
            f"generated {args.seconds:g} s {args.width}x{args.height} {args.fps} fps "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        result = retalk(video, audio, output)
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"retalk: {result.frames} frames, {result.duration:.1f} s output in {wall:.1f} s "
            f"({result.frames / wall:.1f} frames/s, {wall / result.duration:.2f}x real time)"
        )
        print(f"peak RSS: {peak:.0f} MB (before the run: {rss_before:.0f} MB)")
        sys.exit(0 if peak < 1536 else 1)


if __name__ == "__main__":
    main()
