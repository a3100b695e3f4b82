"""Mouth-motion settings, read from `VIDEORETALK_MOTION_*` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..audio.settings import VadSettings
from ..errors import InvalidParameter


@dataclass(frozen=True)
class MotionSettings:
    weights: str = ""  # path to a mouth_model.npz; empty = the one in the package
    lead_s: float = 0.05  # lips move before the sound starts
    release_s: float = 0.06  # ... and close within ~2 frames after it ends
    # The gate's smooth rise and fall inside that window. 3-fold CV against the former
    # one-step edges (release 0.04, ramp 0.04): moves over 0.8 of the speaker's range in
    # 40 ms 0.44 % -> 0.24 % of steps (real lips 0.89 %), r 0.379 -> 0.374 (noise).
    ramp_s: float = 0.06
    # Gaussian sigma on the 10 ms grid; keeps closures (~60 ms). 3-fold CV (one-layer
    # branch), r in speech paired per clip against 15 ms: 0 -0.008, 30 ms +0.001. Again on
    # the two-layer branch (seed 1234): 30 / 45 ms +0.001 +- 0.003 / -0.009 +- 0.006,
    # closures hit 144 -> 139 / 137 of 149: a smoother mouth does not forgive a lag error.
    smooth_s: float = 0.015
    # ... and up to this where the sound holds steady (predict._smooth_where_steady).
    # 3-fold CV: speech stretched to twice its length (--stretch 2) frame-to-frame change
    # 1.58 -> 1.38 x the real one, r in speech 0.567 -> 0.569; as recorded r in speech
    # 0.675 -> 0.677, closures hit 145 -> 144 of 149. 0 turns it off.
    steady_smooth_s: float = 0.07
    # Regression damps the predicted motion to about r x the real range (measured: std in
    # speech 0.62 x the real one), so lips never quite close or open fully. The
    # deviation from the mean mouth in speech is scaled by this to restore it.
    # 3-fold CV (one-layer branch), r in speech paired per clip against 1.5: 1.0 -0.003,
    # 2.0 -0.002 (r over whole clips -0.061 / +0.025).
    articulation: float = 1.5  # range in speech 0.62 -> 0.90 x real (3-fold CV)
    adapt: bool = True
    # Ridge pull towards the generic read-out, for the trunks' rows and for the embedding
    # branch's (model.adapt_readout). With the two-layer branch, 3-fold CV, r in speech
    # paired per clip (seeds 1234 / 99): trunks 0.6 +0.000 / +0.001, 1.0 -0.002 / -0.001;
    # branch 10 -0.003 / -0.003, 40 -0.003 / -0.002. A weaker pull on the trunks' rows lets
    # a few seconds of source overfit (seed 1234, three warps): 0.15 -0.004 +- 0.003, 0.08
    # -0.010 +- 0.006, mouth width's r -0.009 / -0.019, lip error worse on 20 / 22 of 25.
    adapt_strength: float = 0.3
    adapt_branch_strength: float = 20.0
    adapt_max_lag_s: float = 0.2  # A/V offset searched in the source video
    # Adaptation reads at most this much of the source, from its start. Analysing it costs
    # about 0.25 s per 10 s of source (60 s of driving audio took 4.2 s with a 120 s source,
    # 1.55 s with 10 s), and more frames do not bend the read-out further: its pull grows
    # with them (model.adapt_readout).
    adapt_max_source_s: float = 30.0
    # English phone recogniser (pocketsphinx) as extra model inputs when the weights take
    # them; False, or pocketsphinx not installed, runs the model on log-mel alone.
    phones: bool = True
    # Warp the mel bands to the voice's vocal-tract length (audio/vocal_tract.py): held-out
    # r in speech on speech played 1.2x / 0.85x faster 0.46 / 0.46 -> 0.54 / 0.51.
    normalise_voice: bool = True
    # Read the log-mel at this many warps around the measured one (0.85-1.18 x it, the
    # training augmentation's spread) and average the trunks over them: the warp estimate
    # is a few percent off, and the model reads a vowel a little differently at each.
    # 3-fold CV of the shipped recipe, r in speech paired per clip against 1 (5 copies):
    # +0.011 +- 0.007 / +0.007 +- 0.005 / +0.002 +- 0.005 (seeds 1234 / 99 / 7), at the
    # best lag +0.011 / +0.007 / +0.001; --speed 1.2 +0.020, --pitch 1.5 +0.025 (README).
    # 9 copies did as 5, and 3 as 5 (seed 1234, paired against 5: -0.001 +- 0.002 as
    # recorded, -0.003 +- 0.003 at --speed 1.2, +0.002 +- 0.002 at --pitch 1.5, +0.000 +-
    # 0.004 under --music 10; seed 99 as recorded -0.001 +- 0.001) in 3/5 of the trunks'
    # time: 60 s of audio in 1.5 s, not 1.9 s (median of 5 on the 2-core machine). 1
    # turns it off. Averaging over tempo as well (the audio also played 0.92x and 1.08x
    # as fast, the trunks' features mapped back onto its clock, in adaptation too) moved
    # r in speech by +0.000 +- 0.004 per clip (3 folds, 13 / 25 better) at 3x the time
    # (60 s in 3.7 s, over the budget): not kept. Its median rose 0.674 -> 0.696 only
    # because clips near the median moved, so judge such changes paired per clip.
    warp_copies: int = 3
    vad: VadSettings = field(default_factory=VadSettings)

    def __post_init__(self) -> None:
        if self.warp_copies < 1:
            raise InvalidParameter(
                f"MotionSettings.warp_copies must be >= 1, got {self.warp_copies}"
            )
        for name in (
            "lead_s",
            "release_s",
            "ramp_s",
            "smooth_s",
            "steady_smooth_s",
            "articulation",
            "adapt_strength",
            "adapt_branch_strength",
            "adapt_max_lag_s",
            "adapt_max_source_s",
        ):
            if getattr(self, name) < 0:
                raise InvalidParameter(
                    f"MotionSettings.{name} must be >= 0, got {getattr(self, name)}"
                )
