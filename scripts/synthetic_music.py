"""A seeded synthetic accompaniment: chords, a bass line and a drum kit.

Music under speech (a vlog's music bed, a song's band) is the background the mouth model
met least: the training clips are plain speech. The training script mixes this under
copies of its clips, and `benchmarks/motion_benchmark.py --music SNR` under the
driving audio. It is no real recording, so the benchmark figure says how the model copes
with harmonic, rhythmic sound of this kind, not with any given song.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
MINOR_SCALE = np.array([0, 2, 3, 5, 7, 8, 10])  # semitones above the key's root


def accompaniment(seconds: float, seed: int, rate: int = SAMPLE_RATE) -> np.ndarray:
    """`seconds` of music at unit RMS: a chord and its bass every two beats, kick and
    snare on alternate beats, hi-hat on eighths, at a random key and tempo."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    beat = 60.0 / rng.uniform(90, 140)
    key = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    pitches = key * 2 ** (np.r_[MINOR_SCALE, MINOR_SCALE + 12, MINOR_SCALE + 24] / 12)

    def add(sound: np.ndarray, start: float) -> None:
        i = int(start * rate)
        n = min(sound.size, out.size - i)
        if n > 0:
            out[i : i + n] += sound[:n]

    def decaying(length: float, per_second: float) -> np.ndarray:
        return np.exp(-np.arange(int(length * rate)) / rate * per_second)

    def note(hz: float, length: float, per_second: float, harmonics: int) -> np.ndarray:
        t = np.arange(int(length * rate)) / rate
        partials = [
            np.sin(2 * np.pi * hz * h * t + rng.uniform(0, 2 * np.pi)) / h**1.3
            for h in range(1, harmonics + 1)
            if hz * h < 0.47 * rate
        ]
        return np.sum(partials, axis=0) * decaying(length, per_second)

    start = 0.0
    while start < seconds:
        degree = int(rng.integers(0, 7))
        chord = pitches[[degree + 7, degree + 9, degree + 11]]  # a triad an octave up
        for hz in chord:
            add(0.25 * note(hz, 2 * beat, 2.0, 8), start)
        add(0.4 * note(pitches[degree], 2 * beat, 1.0, 4), start)  # bass: the root, low
        for b in range(2):
            on = start + b * beat
            if b == 0:  # kick: a falling sine
                t = np.arange(int(0.15 * rate)) / rate
                sweep = 2 * np.pi * np.cumsum(120.0 - 470.0 * t) / rate
                add(0.8 * np.sin(sweep) * decaying(0.15, 25.0), on)
            else:  # snare: a noise burst
                add(0.4 * rng.standard_normal(int(0.12 * rate)) * decaying(0.12, 30.0), on)
            for eighth in (0.0, 0.5):  # hi-hat: high-passed noise, short
                hiss = np.diff(rng.standard_normal(int(0.04 * rate) + 1))
                add(0.1 * hiss * decaying(0.04, 80.0), on + eighth * beat)
        start += 2 * beat
    rms = float(np.sqrt(np.mean(out**2))) if out.size else 0.0
    return (out / max(rms, 1e-9)).astype(np.float32)
