"""From the analyser's raw per-frame landmarks to a smoothed `FaceTrack`.

1. fit each target frame's head pose (rigid points only) and take its canonical shape;
2. split into segments at shot cuts, tracklet changes and gaps;
3. smooth pose and canonical shape inside each segment, zero-phase (`smoothing.py`),
   keeping each frame's own pose where it moved further than the mesh jitters;
4. rebuild image landmarks from the smoothed pose and shape, so `landmarks`,
   `canonical` and `transform` always agree exactly;
5. decide per frame whether it is editable, and if not, why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .canonical import CanonicalFace
from .landmarks import JAW, LIPS_OUTER
from .pose import angles_from_rotation, fit_pose
from .settings import FaceSettings
from .smoothing import blend_rotations, gaussian, segments, smooth_rotations
from .track import FaceTrack, FrameStatus, project

# Where a smoothed pose is checked against the frame's own: the part of the face redrawn.
_LOWER_FACE = np.array(LIPS_OUTER + JAW)


def build_track(
    *,
    times: np.ndarray,
    points: Sequence[np.ndarray | None],
    presence: np.ndarray,
    tracklet: np.ndarray,
    target: np.ndarray,
    unverified: np.ndarray,
    shot_start: np.ndarray,
    frame_size: tuple[int, int],
    settings: FaceSettings,
    canonical: CanonicalFace,
) -> FaceTrack:
    n = len(times)
    landmarks = np.full((n, 478, 3), np.nan, np.float32)
    shape = np.full((n, 478, 3), np.nan, np.float32)
    transform = np.full((n, 3, 4), np.nan, np.float32)
    angles = np.full((3, n), np.nan, np.float32)

    # A segment starts wherever continuity breaks: cut, gap, or another tracklet.
    prev_tracklet = np.concatenate([[-2], tracklet[:-1]])
    breaks = shot_start | (tracklet != prev_tracklet) | ~target
    for start, end in segments(breaks):
        rows = np.arange(start, end)[target[start:end]]
        if len(rows) == 0:
            continue
        _smooth_segment(rows, times, points, settings, canonical, shape, transform)

    rows = np.flatnonzero(target)
    if len(rows):
        landmarks[rows] = project(shape[rows], transform[rows])
        for i in rows:
            m = transform[i, :, :3].astype(np.float64)
            angles[:, i] = angles_from_rotation(m / np.cbrt(np.linalg.det(m)))

    status = np.full(n, FrameStatus.ABSENT, np.uint8)
    status[unverified] = FrameStatus.UNVERIFIED
    iod = np.linalg.norm(transform[:, :, 0], axis=1)
    s = settings
    with np.errstate(invalid="ignore"):
        too_small = target & (iod < s.min_interocular_px)
        turned = target & (
            (np.abs(angles[0]) > s.max_yaw_deg) | (np.abs(angles[1]) > s.max_pitch_deg)
        )
        occluded = target & (presence < s.min_presence_editable)
    status[target] = FrameStatus.OK
    status[occluded] = FrameStatus.OCCLUDED
    status[turned] = FrameStatus.TURNED
    status[too_small] = FrameStatus.TOO_SMALL
    return FaceTrack(
        frame_times=times,
        present=status == FrameStatus.OK,
        status=status,
        tracked=target.copy(),
        landmarks=landmarks,
        canonical=shape,
        transform=transform,
        yaw=angles[0],
        pitch=angles[1],
        roll=angles[2],
        confidence=np.where(target, presence, 0.0).astype(np.float32),
        shot_start=shot_start,
        frame_size=frame_size,
    )


def _smooth_segment(
    rows: np.ndarray,
    times: np.ndarray,
    points: Sequence[np.ndarray | None],
    settings: FaceSettings,
    canonical: CanonicalFace,
    shape_out: np.ndarray,
    transform_out: np.ndarray,
) -> None:
    t = times[rows]
    raw = np.stack([points[i] for i in rows]).astype(np.float64)  # type: ignore[misc]
    poses = [fit_pose(p, canonical.points, canonical.rigid) for p in raw]
    rot = np.stack([p.rotation for p in poses])
    log_scale = np.log([p.scale for p in poses])
    trans = np.stack([p.translation for p in poses])
    shape = np.stack([p.to_canonical(x) for p, x in zip(poses, raw)])

    smooth_rot = smooth_rotations(rot, t, settings.smooth_pose_sigma_s) if len(rows) > 1 else rot
    smooth_log_scale = gaussian(log_scale, t, settings.smooth_pose_sigma_s)
    smooth_trans = gaussian(trans, t, settings.smooth_pose_sigma_s)
    follow = _raw_pose_share(
        _transforms(smooth_rot, np.exp(smooth_log_scale), smooth_trans),
        _transforms(rot, np.exp(log_scale), trans),
        canonical.points[_LOWER_FACE],
        settings.pose_follow_from_iod,
        settings.pose_follow_fully_iod,
    )
    rot = blend_rotations(smooth_rot, rot, follow)
    scale = np.exp(smooth_log_scale + follow * (log_scale - smooth_log_scale))
    trans = smooth_trans + follow[:, None] * (trans - smooth_trans)
    rigid = np.zeros(478, bool)
    rigid[canonical.rigid] = True
    smoothed = np.empty_like(shape)
    smoothed[:, rigid] = gaussian(shape[:, rigid], t, settings.smooth_rigid_sigma_s)
    smoothed[:, ~rigid] = gaussian(shape[:, ~rigid], t, settings.smooth_mouth_sigma_s)

    shape_out[rows] = smoothed
    transform_out[rows] = _transforms(rot, scale, trans)


def _transforms(rot: np.ndarray, scale: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(T, 3, 4) canonical -> image maps [scale * R | t] from their parts."""
    return np.concatenate([scale[:, None, None] * rot, trans[:, :, None]], axis=2)


def _raw_pose_share(
    smoothed: np.ndarray,
    raw: np.ndarray,
    points: np.ndarray,
    follow_from: float,
    follow_fully: float,
) -> np.ndarray:
    """Per frame, how far to trust the frame's own pose (`raw`, (T, 3, 4) transforms)
    over the smoothed one (0..1).

    Smoothing is there to remove the mesh's jitter, which moves the lower face by a few
    thousandths of the eye distance; a head jerk, a jump between frames or camera shake
    moves it far more, and smoothing across such a move puts the redrawn mouth beside the
    real one for several frames. So where the two poses place the lower face (`points`,
    canonical) further apart than `follow_from` (in eye distances) the frame's own pose
    takes over, wholly beyond `follow_fully`.
    """
    each = np.broadcast_to(points, (len(raw),) + points.shape)
    apart = project(each, smoothed) - project(each, raw)
    eye_distance = np.linalg.norm(raw[:, :, 0], axis=1)
    distance = np.linalg.norm(apart[..., :2], axis=2).mean(axis=1) / eye_distance
    span = max(follow_fully - follow_from, 1e-9)
    return np.clip((distance - follow_from) / span, 0.0, 1.0)
