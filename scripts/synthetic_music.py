"""Seeded synthetic accompaniment, in two styles.

Music under speech (a vlog's music bed, a song's band) is the background the mouth model
met least: the training clips are plain speech. The training script mixes the "band"
style under copies of its clips; `benchmarks/motion_benchmark.py --music SNR` mixes
either under the driving audio, and "pads", which training never hears, tells whether
what the model learned carries over to other music. Neither is a real recording, so the
figures say how the model copes with harmonic, rhythmic sound of these kinds, not with
any given song.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import lfilter

SAMPLE_RATE = 16_000
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])  # semitones above the key's root
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


class _Track:
    """A buffer that sounds are added into, and the instruments both styles play."""

    def __init__(self, seconds: float, rate: int, rng: np.random.Generator) -> None:
        self.out = np.zeros(int(seconds * rate))
        self.rate = rate
        self.rng = rng

    def add(self, sound: np.ndarray, start: float) -> None:
        i = int(start * self.rate)
        n = min(sound.size, self.out.size - i)
        if n > 0:
            self.out[i : i + n] += sound[:n]

    def decay(self, length: float, per_second: float) -> np.ndarray:
        return np.exp(-np.arange(int(length * self.rate)) / self.rate * per_second)

    def note(
        self, hz: float, length: float, per_second: float, harmonics: int, tilt: float
    ) -> np.ndarray:
        """Harmonics falling as 1 / h**tilt, random phases, an exponential decay."""
        t = np.arange(int(length * self.rate)) / self.rate
        partials = [
            np.sin(2 * np.pi * hz * h * t + self.rng.uniform(0, 2 * np.pi)) / h**tilt
            for h in range(1, harmonics + 1)
            if hz * h < 0.47 * self.rate
        ]
        return np.sum(partials, axis=0) * self.decay(length, per_second)

    def noise(self, length: float, per_second: float, differences: int) -> np.ndarray:
        """A noise burst; each difference tilts it further towards the treble."""
        hiss = np.diff(self.rng.standard_normal(int(length * self.rate) + differences), differences)
        return hiss * self.decay(length, per_second)

    def tempo_and_key(
        self, bpm: tuple[float, float], lowest_root_hz: float, mode: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """A random beat (s) and three octaves of a random key's scale (Hz)."""
        beat = 60.0 / self.rng.uniform(*bpm)
        key = lowest_root_hz * 2 ** (self.rng.integers(0, 12) / 12)
        return beat, key * 2 ** (np.r_[mode, mode + 12, mode + 24] / 12)

    def unit_rms(self) -> np.ndarray:
        rms = float(np.sqrt(np.mean(self.out**2))) if self.out.size else 0.0
        return (self.out / max(rms, 1e-9)).astype(np.float32)


def _band(track: _Track) -> None:
    """A chord and its bass every two beats, kick and snare on alternate beats, hi-hat on
    eighths, in a minor key."""
    rng, rate = track.rng, track.rate
    beat, pitches = track.tempo_and_key((90, 140), 110.0, MINOR)
    start, seconds = 0.0, track.out.size / rate
    while start < seconds:
        degree = int(rng.integers(0, 7))
        for hz in pitches[[degree + 7, degree + 9, degree + 11]]:  # a triad an octave up
            track.add(0.25 * track.note(hz, 2 * beat, 2.0, 8, 1.3), start)
        track.add(0.4 * track.note(pitches[degree], 2 * beat, 1.0, 4, 1.3), start)  # bass
        for b in range(2):  # (this order of random draws made the shipped model's music)
            on = start + b * beat
            if b == 0:  # kick: a falling sine
                t = np.arange(int(0.15 * rate)) / rate
                sweep = 2 * np.pi * np.cumsum(120.0 - 470.0 * t) / rate
                track.add(0.8 * np.sin(sweep) * track.decay(0.15, 25.0), on)
            else:  # snare
                track.add(0.4 * track.noise(0.12, 30.0, 0), on)
            for eighth in (0.0, 0.5):  # hi-hat
                track.add(0.1 * track.noise(0.04, 80.0, 1), on + eighth * beat)
        start += 2 * beat


def _pads(track: _Track) -> None:
    """Slow detuned-sawtooth pads under a plucked arpeggio and a shaker, in 3/4, major."""
    rng, rate = track.rng, track.rate
    beat, pitches = track.tempo_and_key((70, 100), 130.8, MAJOR)
    start, seconds = 0.0, track.out.size / rate
    while start < seconds:
        degree, bar = int(rng.integers(0, 7)), 3 * beat
        t = np.arange(int(bar * rate)) / rate
        swell = np.minimum(1.0, t / 0.3) * np.minimum(1.0, (bar - t) / 0.3)
        for step in (0, 2, 4):
            hz = pitches[degree + step]
            saw = sum(2 * ((hz * d * t) % 1.0) - 1 for d in (0.995, 1.0, 1.005)) / 3
            track.add(0.3 * lfilter([0.15], [1.0, -0.85], saw) * swell, start)  # dark: low-pass
        for k, step in enumerate((0, 2, 4, 7, 4, 2)):  # eighths
            on = start + k * beat / 2
            track.add(0.35 * track.note(pitches[degree + 7 + step], 0.5, 6.0, 5, 1.5), on)
            track.add(0.05 * track.noise(0.05, 50.0, 2), on)  # shaker
        start += bar


STYLES: dict[str, Callable[[_Track], None]] = {"band": _band, "pads": _pads}


def accompaniment(
    seconds: float, seed: int, style: str = "band", rate: int = SAMPLE_RATE
) -> np.ndarray:
    """`seconds` of music in `style` ("band" or "pads") at unit RMS, random key and tempo."""
    track = _Track(seconds, rate, np.random.default_rng(seed))
    STYLES[style](track)
    return track.unit_rms()
