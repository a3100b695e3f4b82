"""Face-analysis settings: one frozen dataclass, checked once, read from `VIDEORETALK_FACE_*`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameter

# DashScope's `query_face_threshold`: an integer in [120, 200], default 170, higher = stricter.
QUERY_FACE_THRESHOLD_MIN = 120
QUERY_FACE_THRESHOLD_MAX = 200
QUERY_FACE_THRESHOLD_DEFAULT = 170


@dataclass(frozen=True)
class FaceSettings:
    # Detection runs on a copy of the frame scaled so its longer side is this many pixels:
    # the full-range detector letterboxes to 192 px anyway, so more only costs resize time.
    detect_long_side: int = 640
    detect_min_score: float = 0.5
    # A face flag below this (sigmoid of the mesh model's face logit) means "not a face / lost".
    track_min_presence: float = 0.5
    # Editable-frame limits. Beyond ~45 degrees of yaw the far cheek hides the mouth corner
    # and a re-rendered mouth no longer lines up with the jaw, so those frames stay untouched.
    max_yaw_deg: float = 45.0
    max_pitch_deg: float = 35.0
    # Outer-eye-corner distance in pixels; below it the mouth is under ~25 px wide.
    min_interocular_px: float = 24.0
    # Presence below this is treated as heavy occlusion (hands, microphones over the face).
    min_presence_editable: float = 0.8
    # A followed face keeps its identity by continuity; it is re-checked after a shot cut
    # or a jump, and otherwise only this often (dlib's descriptor costs 80-200 ms here),
    # as a safety net for faces that cross paths.
    reverify_seconds: float = 10.0
    # Faces known not to be the target are re-examined this often while the target is absent.
    recheck_rejected_seconds: float = 2.0
    # Descriptors from frames whose yaw exceeds this are too unreliable to decide identity.
    identity_max_yaw_deg: float = 35.0
    max_identity_checks_per_frame: int = 3
    # Zero-phase temporal smoothing (Gaussian sigma, seconds). Pose and the rigid upper face
    # barely move between frames, so they take a wider kernel than the lips, which carry
    # speech up to ~10 Hz and would lose closures under more than ~1 frame of blur.
    smooth_pose_sigma_s: float = 0.06
    smooth_rigid_sigma_s: float = 0.08
    smooth_mouth_sigma_s: float = 0.02
    # Where the smoothed pose places the lips and jaw this far (eye distances) from the
    # frame's own pose, the frame's pose starts to take over, wholly at the second. On a
    # still face under sensor noise (sd 4) the two differ by a median 0.001 and at most
    # 0.005-0.007; a head jerk or camera shake parts them by 0.03-0.2. Checked against the
    # image itself (phase correlation of the nose patch between frames, 8 real clips),
    # the track's frame-to-frame error at the 95th percentile fell from 0.025 to 0.016
    # (mean over clips; 0.01 / 0.03 gave 0.017, 0.005 / 0.015 and 0.005 / 0.025 0.016).
    pose_follow_from_iod: float = 0.007
    pose_follow_fully_iod: float = 0.02
    # Shot cut: mean absolute luminance change of a thumbnail (0-255) between frames.
    cut_threshold: float = 28.0
    inference_threads: int = 1

    def __post_init__(self) -> None:
        _check(self.detect_long_side >= 128, "FACE_DETECT_LONG_SIDE", "at least 128")
        _check(0.0 < self.detect_min_score < 1.0, "FACE_DETECT_MIN_SCORE", "in (0, 1)")
        _check(0.0 < self.track_min_presence < 1.0, "FACE_TRACK_MIN_PRESENCE", "in (0, 1)")
        _check(0.0 < self.max_yaw_deg <= 90.0, "FACE_MAX_YAW_DEG", "in (0, 90]")
        _check(0.0 < self.max_pitch_deg <= 90.0, "FACE_MAX_PITCH_DEG", "in (0, 90]")
        _check(self.min_interocular_px >= 0.0, "FACE_MIN_INTEROCULAR_PX", ">= 0")
        _check(self.reverify_seconds > 0.0, "FACE_REVERIFY_SECONDS", "> 0")
        _check(
            self.max_identity_checks_per_frame >= 1, "FACE_MAX_IDENTITY_CHECKS_PER_FRAME", ">= 1"
        )
        for name in ("smooth_pose_sigma_s", "smooth_rigid_sigma_s", "smooth_mouth_sigma_s"):
            _check(getattr(self, name) >= 0.0, f"FACE_{name.upper()}", ">= 0")
        _check(self.pose_follow_from_iod >= 0.0, "FACE_POSE_FOLLOW_FROM_IOD", ">= 0")
        _check(
            self.pose_follow_fully_iod > self.pose_follow_from_iod,
            "FACE_POSE_FOLLOW_FULLY_IOD",
            "greater than VIDEORETALK_FACE_POSE_FOLLOW_FROM_IOD",
        )
        _check(self.inference_threads >= 1, "FACE_INFERENCE_THREADS", ">= 1")


def _check(ok: bool, name: str, expected: str) -> None:
    if not ok:
        raise InvalidParameter(f"VIDEORETALK_{name} must be {expected}")


def check_query_face_threshold(value: int) -> int:
    """Validate DashScope's `query_face_threshold` the way its API does."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not QUERY_FACE_THRESHOLD_MIN <= value <= QUERY_FACE_THRESHOLD_MAX
    ):
        raise InvalidParameter(
            f"parameters.query_face_threshold must be an integer from {QUERY_FACE_THRESHOLD_MIN} "
            f"to {QUERY_FACE_THRESHOLD_MAX} (default 170), not {value!r}."
        )
    return value
