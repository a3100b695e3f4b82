"""Renderer quality and speed on the dev clips (issue 5). Prints figures; gates nothing.

    .venv/bin/python benchmarks/render_quality.py [--frames 90]

Per clip, re-driven with its own mouth motion ("own": ground truth = the input) and with
the next clip's motion retargeted ("cross"):
  corr_drive  Pearson r of the output's measured mouth opening (FaceMesh re-run on the
              output) with the driving opening; corr_real: with the source's real opening.
  psnr_out    PSNR (dB) of output vs input outside the lower face, where the lower face is
              drawn independently of the renderer: hull of jaw, nose and mouth, grown by
              0.3 inter-ocular (inf = bit-identical).
  id_dist     dlib face descriptor distance input vs output (mean / max over every 5th frame).
  flicker     mean |frame - previous| in the pose-stabilised mouth patch, output / input.
  psnr_mouth  (own only) median PSNR in the mouth box of output vs the real frame, over
              frames not bit-identical to it.
Grain: talk4 with camera noise added (grey + a little colour, fresh per frame), driven by
talk5's motion: the median fine detail (grey less its 3x3 mean) of the re-drawn pixels
over the input's at the same pixels, with grain matching on and off (1.0 = as grainy).
Speed: ms per frame of `render` at 1280x720 (talk2 scaled into a 1280x720 canvas).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_support import (
    MeshTrack,
    inner_opening,
    mouth_patches,
    mouth_shapes,
    read_frames,
    retarget,
    track_images,
)

from videoretalk.media.decode import DecodedFrame
from videoretalk.render import MouthRenderer, RenderSettings
from videoretalk.render.topology import JAW, LIPS_OUTER

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"
CLIPS = ["talk1", "talk2", "talk3", "talk4", "talk5"]


class Identity:
    def __init__(self) -> None:
        import importlib.util

        import dlib

        # The package's own helpers import pkg_resources (setuptools), absent from the venv:
        # locate its model files without executing it.
        spec = importlib.util.find_spec("face_recognition_models")
        assert spec is not None and spec.submodule_search_locations
        models = Path(next(iter(spec.submodule_search_locations))) / "models"
        self.detect = dlib.get_frontal_face_detector()
        self.pose = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def distance(self, a: np.ndarray, b: np.ndarray) -> float | None:
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        rects = self.detect(a, 1)
        if not rects:
            return None
        da = np.array(self.net.compute_face_descriptor(a, self.pose(a, rects[0])))
        db = np.array(self.net.compute_face_descriptor(b, self.pose(b, rects[0])))
        return float(np.linalg.norm(da - db))


def _lower_face(track: MeshTrack, i: int, shape: tuple[int, ...]) -> np.ndarray:
    lm = track.landmarks[i]
    eyes = lm[[33, 263], :2]
    iod = float(np.linalg.norm(eyes[1] - eyes[0]))
    pts = np.concatenate([lm[JAW, :2], lm[[1, 2, 98, 327], :2], lm[LIPS_OUTER, :2]])
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    k = int(0.3 * iod) * 2 + 1
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ready(renderer: MouthRenderer, track: MeshTrack, frames: list[DecodedFrame]) -> None:
    """Prepare `renderer` on `track` and show it every frame (its exemplars among them)."""
    renderer.prepare(track)
    for f in frames:
        renderer.observe(f)


def evaluate(name: str, driver: str | None, n: int, ident: Identity) -> dict[str, float]:
    frames = read_frames(DEV / f"{name}.mp4", n)
    track = track_images(f.image for f in frames)
    renderer = MouthRenderer()
    if driver is None:
        shapes = mouth_shapes(track, renderer.mouth_indices)
    else:
        dtrack = track_images(f.image for f in read_frames(DEV / f"{driver}.mp4", n))
        shapes = retarget(dtrack, track, len(frames), renderer.mouth_indices)
    _ready(renderer, track, frames)
    outs = []
    for f in frames:
        ok = track.present[f.index]
        outs.append(renderer.render(f, f.index, shapes[f.index]) if ok else f.image)
    full = track.canonical.copy()
    full[:, renderer.mouth_indices] = shapes
    drive = inner_opening(full)
    real = inner_opening(track.canonical)
    out_track = track_images(outs)
    ok = track.present & out_track.present
    measured = inner_opening(out_track.canonical)
    psnrs = [
        _psnr(o[~m], f.image[~m])
        for o, f in zip(outs, frames, strict=True)
        for m in [_lower_face(track, f.index, o.shape)]
    ]
    ids = [
        d
        for k in range(0, len(frames), 5)
        if (d := ident.distance(frames[k].image, outs[k])) is not None
    ]
    flick_out = np.abs(np.diff(mouth_patches(track, outs), axis=0)).mean()
    flick_in = np.abs(np.diff(mouth_patches(track, [f.image for f in frames]), axis=0)).mean()
    res = {
        "corr_drive": _corr(measured[ok], drive[ok]),
        "corr_real": _corr(measured[ok], real[ok]),
        "psnr_out": float(np.min(psnrs)),
        "id_mean": float(np.mean(ids)) if ids else float("nan"),
        "id_max": float(np.max(ids)) if ids else float("nan"),
        "flicker": float(flick_out / flick_in),
    }
    if driver is None:
        boxes = []
        for o, f in zip(outs, frames, strict=True):
            lips = track.landmarks[f.index][LIPS_OUTER, :2]
            x0, y0 = np.floor(lips.min(0)).astype(int) - 5
            x1, y1 = np.ceil(lips.max(0)).astype(int) + 5
            boxes.append(_psnr(o[y0:y1, x0:x1], f.image[y0:y1, x0:x1]))
        finite = [b for b in boxes if np.isfinite(b)]  # inf: the frame was its own exemplar
        res["psnr_mouth"] = float(np.median(finite)) if finite else float("inf")
    return res


def _fine_detail(image: np.ndarray) -> np.ndarray:
    grey = image.astype(np.float32).mean(axis=2)
    return np.abs(grey - cv2.blur(grey, (3, 3)))


def grain_kept(sigma: float, n: int = 40) -> tuple[float, float]:
    """Re-drawn pixels' fine detail / the input's there, grain matching (on, off)."""
    rng = np.random.default_rng(7)
    frames = []
    for f in read_frames(DEV / "talk4.mp4", n):
        noise = rng.normal(0, sigma, f.image.shape[:2] + (1,)) + rng.normal(
            0, 0.4 * sigma, f.image.shape
        )
        frames.append(
            DecodedFrame(f.index, f.time, np.clip(f.image + noise, 0, 255).astype(np.uint8))
        )
    track = track_images(f.image for f in frames)
    dtrack = track_images(f.image for f in read_frames(DEV / "talk5.mp4", n))
    ratios = []
    for match in (True, False):
        renderer = MouthRenderer(RenderSettings(match_grain=match))
        shapes = retarget(dtrack, track, len(frames), renderer.mouth_indices)
        _ready(renderer, track, frames)
        kept = []
        for f in frames:
            if not track.present[f.index]:
                continue
            out = renderer.render(f, f.index, shapes[f.index])
            drawn = np.abs(out.astype(np.int16) - f.image).max(axis=2) > 0
            drawn = cv2.erode(drawn.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
            if drawn.sum() > 500:
                kept.append(
                    np.median(_fine_detail(out)[drawn]) / np.median(_fine_detail(f.image)[drawn])
                )
        ratios.append(float(np.median(kept)))
    return ratios[0], ratios[1]


def speed(n: int = 30) -> float:
    frames = read_frames(DEV / "talk2.mp4", n)
    canvas = []
    for f in frames:
        img = cv2.resize(f.image, (720, 720), interpolation=cv2.INTER_AREA)
        c = np.full((720, 1280, 3), 90, np.uint8)
        c[:, 280:1000] = img
        canvas.append(type(f)(f.index, f.time, c))
    track = track_images(f.image for f in canvas)
    renderer = MouthRenderer()
    _ready(renderer, track, canvas)
    shapes = mouth_shapes(track, renderer.mouth_indices)[::-1]
    renderer.render(canvas[0], 0, shapes[0])
    t0 = time.perf_counter()
    for f in canvas:
        renderer.render(f, f.index, shapes[f.index])
    return (time.perf_counter() - t0) / len(canvas) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description="renderer quality benchmark")
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--clips", nargs="*", default=CLIPS)
    args = parser.parse_args()
    ident = Identity()
    cols = ["corr_drive", "corr_real", "psnr_out", "id_mean", "id_max", "flicker", "psnr_mouth"]
    print(f"{'clip':6} {'mode':12} " + " ".join(f"{c:>10}" for c in cols))
    for name in args.clips:
        nxt = CLIPS[(CLIPS.index(name) + 1) % len(CLIPS)]
        for driver in (None, nxt):
            r = evaluate(name, driver, args.frames, ident)
            mode = "own" if driver is None else f"by {driver}"
            print(
                f"{name:6} {mode:12} " + " ".join(f"{r.get(c, float('nan')):10.3f}" for c in cols),
                flush=True,
            )
    for sigma in (0.0, 6.0, 12.0):
        on, off = grain_kept(sigma)
        print(f"grain kept, talk4 + noise sd {sigma:g}: {on:.2f} matched, {off:.2f} unmatched")
    print(
        f"speed 1280x720: {speed():.1f} ms/frame (render only, {sys.platform}, shared 2-core CPU)"
    )


if __name__ == "__main__":
    main()
