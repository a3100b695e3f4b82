"""How real mouths close, and how closely `close_lips` closes an open one.

A source that never shows the mouth closed (a still of an open mouth) gets its closed
rest from `motion.predict.closed_rest`, which moves the lips and jaw by shares measured
here (`motion.shape.UPPER_LIP_SHARE`, `UPPER_OUTER_FOLLOWS`, `LOWER_OUTER_FOLLOWS`,
`JAW_FOLLOWS`). Per shared clip (the training cache, `scripts/extract_mouth_landmarks.py`):

  slopes  the height below the nose base of the upper lip's inner / outer edge, the
          lower lip's inner / outer edge and the chin (pose-normalised, inter-ocular
          units) regressed on the mouth's opening over every frame; the medians over the
          clips are where the shares come from;
  closing the clip's widest frame (95th percentile of opening) closed by `closed_rest`,
          against the clip's own closed rest (its 10 % most closed frames): mean height
          error over the mouth region and over the lips, the chin's, and the error of
          the upper / lower lip's thickness at the middle (signed: - is thinner).

    .venv/bin/python benchmarks/closing_shape.py
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from videoretalk.face import landmarks
from videoretalk.motion import load_model
from videoretalk.motion.predict import closed_rest
from videoretalk.motion.shape import MOUTH_REGION, canonicalise, mouth_opening, rest_and_range

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "motion"
POINTS = {
    "upper inner": landmarks.UPPER_LIP_INNER_MID,
    "upper outer": landmarks.UPPER_LIP_OUTER_MID,
    "lower inner": landmarks.LOWER_LIP_INNER_MID,
    "lower outer": landmarks.LOWER_LIP_OUTER_MID,
    "chin": landmarks.CHIN,
}
LIPS = np.unique(np.ravel(landmarks.UPPER_LIP_RINGS + landmarks.LOWER_LIP_RINGS))


def _heights(shapes: np.ndarray) -> np.ndarray:
    """Height of every point below the nose base (the face around it does not move)."""
    return shapes[..., 1] - shapes[..., [landmarks.NOSE_BASE], 1]


def _thickness(shape: np.ndarray) -> tuple[float, float]:
    h = shape[:, 1]
    return (
        float(h[landmarks.UPPER_LIP_INNER_MID] - h[landmarks.UPPER_LIP_OUTER_MID]),
        float(h[landmarks.LOWER_LIP_OUTER_MID] - h[landmarks.LOWER_LIP_INNER_MID]),
    )


def _print_row(name: str, slope: Sequence[float], error: Sequence[float]) -> None:
    print(
        f"{name[:24]:24s} "
        + " ".join(f"{v:+.2f}" for v in slope)
        + "   "
        + " ".join(f"{v:.3f}" for v in error[:3])
        + f" {error[3]:+.3f} / {error[4]:+.3f}"
    )


def main() -> None:
    model = load_model()
    clips = sorted(CACHE.glob("*.npz"))
    if not clips:
        raise SystemExit(f"no clips in {CACHE}: run scripts/extract_mouth_landmarks.py first")
    slopes, errors = [], []
    print(f"{'clip':24s} slopes: " + " / ".join(POINTS) + "   closing: region lips chin thickness")
    for path in clips:
        data = np.load(path)
        canonical = canonicalise(data["landmarks"][data["present"].astype(bool)])
        canonical = canonical[np.isfinite(canonical).all(axis=(1, 2))]
        opening = mouth_opening(canonical)
        heights = _heights(canonical)
        slope = [np.polyfit(opening, heights[:, p], 1)[0] for p in POINTS.values()]
        real, _ = rest_and_range(canonical)
        wide = canonical[np.argsort(opening)[int(0.95 * (len(opening) - 1))]]
        shut = closed_rest(model, wide)
        error = np.abs(_heights(shut) - _heights(real))
        thick = np.subtract(_thickness(shut), _thickness(real))
        row = [error[MOUTH_REGION].mean(), error[LIPS].mean(), error[landmarks.CHIN], *thick]
        slopes.append(slope)
        errors.append(row)
        _print_row(path.stem, slope, row)
    s, e = np.median(slopes, axis=0), np.median(errors, axis=0)
    _print_row("median", s, e)
    up_in, up_out, lo_in, lo_out, chin = s
    print(
        f"shares: upper lip {-up_in / (lo_in - up_in):.2f}, upper outer follows "
        f"{up_out / up_in:.2f}, lower outer follows {lo_out / lo_in:.2f}, jaw follows "
        f"{chin / lo_in:.2f}"
    )


if __name__ == "__main__":
    main()
