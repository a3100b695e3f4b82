"""Mouth-motion accuracy and speed against real talking-head clips (issue 4).

For every clip with the speaker's own speech: adapt to the speaker on the first 60 % of
the clip (frames + audio), predict the mouth from the audio, and score the remaining
40 % against the real landmarks. Prints per-clip figures and medians next to a
loudness-envelope baseline, then the time to predict 60 s of audio.

    .venv/bin/python benchmarks/motion_benchmark.py                    # shared train + dev clips
    .venv/bin/python benchmarks/motion_benchmark.py my_clip.mp4 ...    # any clips
    .venv/bin/python benchmarks/motion_benchmark.py --weights-dir .cache/folds  # held-out folds
    ... --stretch 2.0   # driving speech twice as long at the same pitch (held, sung vowels)
    ... --pitch 2.0     # driving speech an octave higher, formants kept (a singer's high notes)
    ... --speed 1.2     # driving speech faster and higher (a smaller voice)
    ... --music 10      # a synthetic music bed 10 dB under the speech (a song's band: ~0)
    ... --music 10 --music-style pads   # music of a kind training never mixed in
    ... --music 10 --music-bed   # the same, with the opt-in neural voice check
    ... --noise 10 --noise-style clicks   # keyboard clicks 10 dB under the speech
    ... --json new.json --against old.json   # clip-by-clip change from an earlier run

With `--weights-dir`, each clip is scored by a model whose manifest lists it as excluded
(cross-validation); otherwise the packaged weights are used (the shared clips are in
their training set, so only unseen clips give held-out figures).

This script scores the clips; what it measures beside r is in `motion_measures.py`, and
its printout (per clip, medians, issue 4's targets) in `motion_summary.py`.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from motion_measures import (  # beside this script
    CLOSED_ABOVE_REST,
    MOUTH_CORNERS,
    best_shift_r,
    closure_hit,
    closure_reached,
    closures,
    noise_cap,
    phone_class_openings,
    predicted_width,
    silent_frames,
)
from motion_summary import clip_line, summary_lines, target_lines
from training_audio import load_prints, matching_clip

from videoretalk.audio.features import (
    HOP,
    SAMPLE_RATE,
    STEP_SECONDS,
    n_steps,
    sample_at,
    step_energy_db,
    to_mono_16k,
)
from videoretalk.audio.settings import VadSettings
from videoretalk.errors import VideoRetalkError
from videoretalk.media.decode import AudioTrack
from videoretalk.motion.adapt import best_lag, generic_opening_grid, pearson
from videoretalk.motion.model import analyse_for_model
from videoretalk.motion.predict import MotionSettings, load_model, predict_mouth_motion
from videoretalk.motion.shape import (
    LIPS,
    canonicalise,
    mouth_opening,
    rest_and_range,
)

REPO = Path(__file__).resolve().parents[1]
ADAPT_SHARE = 0.6
MIN_FACE_FRAMES = 10
SPEED_RUNS = 3  # the speed figure is the median of this many warm runs
# Whole-clip r figures, which say nothing where the scored part holds no speech.
R_NEEDS_SPEECH = ("r", "r_best", "r_own_pause", "r_ceiling", "base_r", "base_r_best")


@functools.cache
def _script(name: str):
    """A module from scripts/ (landmark extraction, synthetic music, voice effects), loaded
    once: every clip scored reads it."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def with_music(
    mono: np.ndarray, snr_db: float, style: str = "band", seed: int = 2026
) -> np.ndarray:
    """`mono` (16 kHz) with a synthetic music bed `snr_db` under its speech level."""
    music = _script("synthetic_music").accompaniment(mono.size / SAMPLE_RATE + 0.1, seed, style)
    return _under_speech(mono, music, snr_db)


def with_noise(
    mono: np.ndarray, snr_db: float, style: str = "bursts", seed: int = 2026
) -> np.ndarray:
    """`mono` (16 kHz) with synthetic background noise `snr_db` under its speech level."""
    noise = _script("synthetic_noise").background(mono.size / SAMPLE_RATE + 0.1, seed, style)
    return _under_speech(mono, noise, snr_db)


def _under_speech(mono: np.ndarray, bed: np.ndarray, snr_db: float) -> np.ndarray:
    """`mono` plus `bed` (RMS 1, at least as long) scaled `snr_db` under the speech's RMS."""
    steps = n_steps(mono.size)
    by_step = np.pad(mono, (0, steps * HOP - mono.size)).reshape(steps, HOP)
    talk = by_step[~silent_frames(mono, np.arange(steps) * STEP_SECONDS)]
    level = float(np.sqrt(np.mean((talk if talk.size else mono) ** 2)))
    return (mono + bed[: mono.size] * level * 10 ** (-snr_db / 20)).astype(np.float32)


@dataclass
class Track:
    """The parts of a FaceTrack the motion stage reads."""

    frame_times: np.ndarray
    present: np.ndarray
    canonical: np.ndarray


def unscorable(npz: Path) -> str:
    """Why a clip cannot be scored (empty if it can): both parts need a face and speech."""
    d = np.load(npz)
    present = d["present"].astype(bool)
    cut = int(present.size * ADAPT_SHARE)
    if present[:cut].sum() < MIN_FACE_FRAMES or present[cut:].sum() < MIN_FACE_FRAMES:
        return f"fewer than {MIN_FACE_FRAMES} frames with a face in the adapted or scored part"
    if d["audio"].size < 2 * int(d["sample_rate"]):
        return "less than 2 s of audio"
    return ""


def score_clip(
    npz: Path,
    weights: str,
    settings: MotionSettings,
    speed: float = 1.0,
    stretch: float = 1.0,
    music_snr: float | None = None,
    music_style: str = "band",
    pitch: float = 1.0,
    noise_snr: float | None = None,
    noise_style: str = "bursts",
) -> dict:
    d = np.load(npz)
    times = d["frame_times"] - float(d["stream_offset"])  # video frames on the audio clock
    present = d["present"].astype(bool)
    canonical = canonicalise(d["landmarks"])
    audio = AudioTrack(d["audio"][None].astype(np.float32), int(d["sample_rate"]))
    clean = to_mono_16k(audio)  # pauses and phone labels come from the speech alone
    heard = clean  # what the model and the baseline hear
    if music_snr is not None:  # --music: speech + music
        heard = with_music(clean, music_snr, music_style)
    if noise_snr is not None:  # --noise: speech + background noise
        heard = with_noise(heard, noise_snr, noise_style)
    if heard is not clean:
        audio = AudioTrack(heard[None], SAMPLE_RATE)
    n = times.size
    cut = int(n * ADAPT_SHARE)
    cut_time = times[cut]
    source = AudioTrack(audio.samples[:, : int(cut_time * audio.sample_rate)], audio.sample_rate)
    track = Track(times[:cut], present[:cut], canonical[:cut])
    s = replace(settings, weights=weights)
    model = load_model(weights)

    # The clip's own A/V offset, measured on the adaptation part only. It is a property of
    # the recording, used to score, so --music measures it on the speech alone (with the
    # music it can land on the search's edge for a 3 s part); adaptation hears the music.
    recorded = AudioTrack(clean[None, : int(cut_time * SAMPLE_RATE)], SAMPLE_RATE)
    src_hidden = model.hidden_for(analyse_for_model(model, recorded, s))
    grid = generic_opening_grid(model, src_hidden)
    keep = present[:cut]
    real_source = mouth_opening(canonical[:cut][keep])
    lag = best_lag(grid, times[:cut][keep], real_source, s.adapt_max_lag_s)

    # --speed: play the driving audio faster (pitch and formants x speed, like a smaller
    # voice); the real mouth is then expected at the scaled times.
    driving = AudioTrack(audio.samples, round(audio.sample_rate * speed))
    effects = _script("voice_effects")
    if stretch != 1.0:  # --stretch: longer at the same pitch; the real mouth at scaled times
        slowed = effects.stretch_keep_pitch(to_mono_16k(driving), stretch)
        driving = AudioTrack(slowed[None], SAMPLE_RATE)
    if pitch != 1.0:  # --pitch: higher notes from the same vocal tract, same timing
        driving = AudioTrack(effects.shift_pitch(to_mono_16k(driving), pitch)[None], SAMPLE_RATE)
    motion = predict_mouth_motion(driving, (times + lag) / speed * stretch, track, source, s)
    scored = np.arange(n) >= cut
    real = mouth_opening(canonical)
    ok = scored & present
    pred = motion.opening
    r0 = pearson(pred[ok], real[ok])
    # Within speech only: the model's accuracy without the pauses, where the spec closes
    # the mouth whatever the speaker really did (some hold their lips parted).
    talking = ok & motion.speech
    spoken = talking.sum() > 10
    r_speech = pearson(pred[talking], real[talking]) if spoken else float("nan")
    r_noise_cap = noise_cap(real, talking)
    # Lip rounding narrows the mouth: corner-to-corner width, inter-ocular units, in speech.
    pred_width = predicted_width(motion)
    real_width = np.linalg.norm(np.diff(canonical[:, MOUTH_CORNERS, :2], axis=1)[:, 0], axis=-1)
    r_width = pearson(pred_width[talking], real_width[talking]) if spoken else float("nan")
    # What the closed-in-silence rule costs: the same prediction, but resting in pauses at
    # the speaker's own pause opening seen in the adaptation part (not what we render).
    own_pause = present & ~scored & ~motion.speech
    pause_open = float(np.median(real[own_pause])) if own_pause.sum() >= 5 else None
    r_own_pause = (
        pearson(np.where(motion.speech, pred, pause_open)[ok], real[ok])
        if pause_open is not None
        else float("nan")
    )
    r_best = best_shift_r(pred, real, ok)
    r_speech_best = best_shift_r(pred, real, talking) if spoken else float("nan")
    # Lip landmark distance (inter-ocular units), on the points both sides have.
    rest, span = rest_and_range(canonical[:cut], present[:cut])
    lip_cols = np.flatnonzero(np.isin(motion.point_indices, LIPS))
    real_lips = canonical[:, motion.point_indices[lip_cols]]
    lip_err = float(np.linalg.norm(motion.shapes[:, lip_cols] - real_lips, axis=2)[ok].mean())
    rest_err = float(
        np.linalg.norm(rest[motion.point_indices[lip_cols]][None] - real_lips, axis=2)[ok].mean()
    )
    # Silence: frames with no speech within ±100 ms.
    silent = silent_frames(clean, times + lag) & scored
    rest_open = float(mouth_opening(rest[None])[0])
    # The most any model can score while closing pauses: real opening in speech, rest elsewhere.
    r_ceiling = pearson(np.where(motion.speech, real, rest_open)[ok], real[ok])
    closed = pred <= rest_open + CLOSED_ABOVE_REST
    # Loudness baseline: 40 ms RMS envelope at the frame, fitted linearly on the first 60 %.
    env = sample_at(np.convolve(step_energy_db(heard), np.ones(4) / 4, mode="same"), times + lag)
    a, b = np.polyfit(env[:cut][keep], real[:cut][keep], 1)
    base = a * env + b
    base_r = pearson(base[ok], real[ok])
    base_rb = best_shift_r(base, real, ok)
    cl = [i for i in closures(np.where(present, real, np.nan), times, rest_open, span) if scored[i]]
    hits = sum(closure_hit(pred, times, i) for i in cl)
    reached = sum(closure_reached(pred, times, i, rest_open, span) for i in cl)
    # Range of motion in speech: regression damps it; 1 = as lively as the real mouth.
    range_ratio = (
        float(pred[talking].std() / max(real[talking].std(), 1e-6)) if spoken else float("nan")
    )
    # Jitter check: mean frame-to-frame change of the opening in speech, against the real.
    steps = talking[1:] & talking[:-1]
    change_ratio = (
        float(np.abs(np.diff(pred))[steps].mean() / max(np.abs(np.diff(real))[steps].mean(), 1e-6))
        if steps.sum() > 10
        else float("nan")
    )
    # Snaps: the fastest moves anywhere (speech gate edges included), in the speaker's
    # range per 40 ms, pooled over clips at the end; real lips seldom move 0.8 in 40 ms.
    both = ok[1:] & ok[:-1]
    per_40ms = 0.04 / np.maximum(np.diff(times), 1e-3)
    moves_pred, moves_real = (
        (np.abs(np.diff(x)) * per_40ms / max(span, 1e-6))[both].round(4).tolist()
        for x in (pred, real)
    )
    base_hits = sum(closure_hit(base, times, i) for i in cl)
    # --music / --noise: the same bed with no voice over it (an intro, an instrumental
    # break, a pause) must leave the mouth closed: frames predicted open, and the mean
    # opening above rest.
    bed_open = bed_lift = float("nan")
    if heard is not clean:
        bed = AudioTrack((heard - clean)[None], SAMPLE_RATE)
        alone = predict_mouth_motion(bed, times + lag, track, source, s).opening[present]
        bed_open = float((alone > rest_open + CLOSED_ABOVE_REST).mean())
        bed_lift = float(np.maximum(alone - rest_open, 0).mean())
    by_class = phone_class_openings(clean, times + lag, talking, pred, real, rest_open, span)
    row = {
        "clip": npz.stem,
        "by_class": by_class,
        "moves_pred": moves_pred,
        "moves_real": moves_real,
        "frames": int(ok.sum()),
        "lag_ms": round(lag * 1000),
        "r": r0,
        "r_best": r_best,
        "r_speech": r_speech,
        "r_speech_best": r_speech_best,
        "r_noise_cap": r_noise_cap,
        "r_own_pause": r_own_pause,
        "r_ceiling": r_ceiling,
        "r_width": r_width,
        "lip_err": lip_err,
        "rest_err": rest_err,
        "silent": int(silent.sum()),
        "silent_closed": float(closed[silent].mean()) if silent.any() else float("nan"),
        # How often the real speaker's lips are parted in those pauses (the spec closes them).
        "real_silent_closed": float((real[silent] <= rest_open + CLOSED_ABOVE_REST).mean())
        if silent.any()
        else float("nan"),
        "base_silent_closed": float((base[silent] <= rest_open + CLOSED_ABOVE_REST).mean())
        if silent.any()
        else float("nan"),
        "closures": len(cl),
        "hit": hits,
        "reached": reached,
        "range_ratio": range_ratio,
        "change_ratio": change_ratio,
        "base_hit": base_hits,
        "bed_open": bed_open,
        "bed_lift": bed_lift,
        "base_r": base_r,
        "base_r_best": base_rb,
    }
    if not spoken:
        # No speech scored (a silent or music-only clip): r over the clip would only say
        # how the real mouth drifts against a closed one. Its silent frames still count.
        row.update(dict.fromkeys(R_NEEDS_SPEECH, float("nan")))
    return row


def speed(weights: str, runs: int = SPEED_RUNS) -> float:
    """Seconds to predict 60 s of 48 kHz stereo audio at 25 fps with a face track + adaptation.

    The median of `runs` warm runs: on a shared 2-core host one run varies by +-30 %.
    """
    rng = np.random.default_rng(0)
    t = np.arange(60 * 48_000) / 48_000
    voiced = 0.2 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    samples = np.stack([voiced, voiced]) + 0.01 * rng.standard_normal((2, t.size))
    audio = AudioTrack(samples.astype(np.float32), 48_000)
    times = np.arange(60 * 25) / 25
    model = load_model(weights)
    track = Track(
        times[:250], np.ones(250, bool), np.broadcast_to(model.rest_shape, (250, 478, 3)).copy()
    )
    source = AudioTrack(audio.samples[:, : 10 * 48_000], 48_000)
    predict_mouth_motion(
        audio, times, track, source, MotionSettings(weights=weights)
    )  # warm caches
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        predict_mouth_motion(audio, times, track, source, MotionSettings(weights=weights))
        seconds.append(time.perf_counter() - t0)
    return float(np.median(seconds))


@functools.cache
def training_clips(weights: str) -> frozenset[str]:
    """Names (stems) of the clips the model at `weights` (empty: the packaged one) was
    trained on, from its manifest: a clip of that name scores no held-out figure."""
    manifest = load_model(weights).manifest
    return frozenset(Path(entry["file"]).stem for entry in manifest.get("trained_on", []))


@functools.cache
def _training_prints(weights: str) -> dict[str, np.ndarray]:
    prints, missing = load_prints(training_clips(weights))
    if missing:
        print(
            f"note: no audio print of training clips {', '.join(missing)}: a copy of one "
            "under another name would count as held out",
            flush=True,
        )
    return prints


def trained_on(npz: Path, weights: str) -> str:
    """Why the model at `weights` has seen this clip ("" if it has not): by its name, or
    by its audio, which catches a training clip re-encoded or cut under another name."""
    if npz.stem in training_clips(weights):
        return "trained on"
    with np.load(npz) as d:
        mono = to_mono_16k(AudioTrack(d["audio"][None].astype(np.float32), int(d["sample_rate"])))
    same = matching_clip(mono, _training_prints(weights))
    return f"trained on: its audio is {same}'s" if same else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--weights", default="", help="mouth_model.npz (default: packaged)")
    ap.add_argument(
        "--weights-dir", type=Path, help="fold models: each clip scored by one that excluded it"
    )
    ap.add_argument("--no-adapt", action="store_true")
    ap.add_argument(
        "--no-voice-warp", action="store_true", help="no vocal-tract normalisation of the bands"
    )
    ap.add_argument("--no-phones", action="store_true", help="as if pocketsphinx were missing")
    ap.add_argument("--speed", type=float, default=1.0, help="voice check: drive at this speed")
    ap.add_argument(
        "--music",
        type=float,
        metavar="SNR_DB",
        help="mix a synthetic music bed this many dB under the speech into the clip's audio",
    )
    ap.add_argument(
        "--music-style",
        choices=("band", "pads"),
        default="band",
        help="band: the style training mixes in; pads: one it never hears",
    )
    ap.add_argument(
        "--noise",
        type=float,
        metavar="SNR_DB",
        help="mix synthetic background noise this many dB under the speech into the clip's audio",
    )
    ap.add_argument(
        "--noise-style",
        choices=("bursts", "clicks", "rumble"),
        default="bursts",
        help="bursts: traffic, applause; clicks: a keyboard; rumble: wind, handling",
    )
    ap.add_argument(
        "--stretch",
        type=float,
        default=1.0,
        help="sustained-vowel check: audio this many times longer, same pitch",
    )
    ap.add_argument(
        "--pitch",
        type=float,
        default=1.0,
        help="high-note check: voice this many times higher, same formants and timing",
    )
    ap.add_argument(
        "--no-noise-check",
        action="store_true",
        help="webrtcvad alone between words (VadSettings.noise_check off)",
    )
    ap.add_argument(
        "--music-bed",
        action="store_true",
        help="also ask the neural voice detector (VadSettings.music_bed, the 'music' extra)",
    )
    ap.add_argument("--adapt-strength", type=float, default=MotionSettings().adapt_strength)
    ap.add_argument(
        "--adapt-branch-strength", type=float, default=MotionSettings().adapt_branch_strength
    )
    ap.add_argument("--smooth-s", type=float, default=MotionSettings().smooth_s)
    ap.add_argument(
        "--steady-smooth-s",
        type=float,
        default=MotionSettings().steady_smooth_s,
        help="smoothing where the sound holds steady (0: off)",
    )
    ap.add_argument("--articulation", type=float, default=MotionSettings().articulation)
    ap.add_argument(
        "--warp-copies",
        type=int,
        default=MotionSettings().warp_copies,
        help="vocal-tract warps the trunks are averaged over (1: the measured one alone)",
    )
    for gate in ("lead_s", "release_s", "ramp_s"):  # the speech gate's timing
        ap.add_argument(
            f"--{gate.replace('_', '-')}", type=float, default=getattr(MotionSettings(), gate)
        )
    ap.add_argument(
        "--against", type=Path, help="an earlier run's --json: print the change clip by clip"
    )
    ap.add_argument("--json", type=Path, help="also write the per-clip figures here")
    args = ap.parse_args(argv)
    # Read before scoring, so a wrong path fails in a second, not after the clips.
    previous = json.loads(args.against.read_text()) if args.against else None
    ex = _script("extract_mouth_landmarks")
    clips = args.clips or ex.default_clips()
    folds = {}
    if args.weights_dir:
        for man in sorted(args.weights_dir.glob("*/mouth_model.json")):
            for name in json.loads(man.read_text())["excluded"]:
                folds[name] = str(man.with_suffix(".npz"))
    settings = MotionSettings(
        adapt=not args.no_adapt,
        adapt_strength=args.adapt_strength,
        adapt_branch_strength=args.adapt_branch_strength,
        phones=not args.no_phones,
        smooth_s=args.smooth_s,
        steady_smooth_s=args.steady_smooth_s,
        articulation=args.articulation,
        warp_copies=args.warp_copies,
        lead_s=args.lead_s,
        release_s=args.release_s,
        ramp_s=args.ramp_s,
        normalise_voice=not args.no_voice_warp,
        vad=VadSettings(noise_check=not args.no_noise_check, music_bed=args.music_bed),
    )
    rows = []
    for clip in clips:
        try:
            npz = ex.extract(Path(clip))
        except VideoRetalkError as exc:
            print(f"{Path(clip).stem:30s} skipped: {exc.code}: {exc}", flush=True)
            continue
        weights = folds.get(npz.stem, args.weights) if args.weights_dir else args.weights
        if args.weights_dir and npz.stem not in folds:
            print(f"{npz.stem:30s} skipped: no fold model leaves it out", flush=True)
            continue
        why_not = unscorable(npz)
        if why_not:
            print(f"{npz.stem:30s} skipped: {why_not}", flush=True)
            continue
        rows.append(
            score_clip(
                npz,
                weights,
                settings,
                speed=args.speed,
                stretch=args.stretch,
                music_snr=args.music,
                music_style=args.music_style,
                pitch=args.pitch,
                noise_snr=args.noise,
                noise_style=args.noise_style,
            )
        )
        r = rows[-1]
        r["seen"] = trained_on(npz, weights)
        r["held_out"] = not r["seen"]
        print(clip_line(r), flush=True)
    if not rows:
        print("no clip could be scored")
        return 1
    print("\n".join(summary_lines(rows, previous, args.music, args.noise)))
    seconds = speed(args.weights if not args.weights_dir else next(iter(folds.values())))
    print(f"speed: 60 s of audio in {seconds:.2f} s (median of {SPEED_RUNS} runs)")
    print("\n" + "\n".join(target_lines(rows, seconds)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
