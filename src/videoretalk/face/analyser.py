"""The streaming face analyser: feed every frame once, get a `FaceTrack` at the end.

Per frame, in order:
1. shot-cut check on a thumbnail;
2. if we are following a face: run the mesh on a crop framed by the previous landmarks
   (no detection: this is the cheap path, ~3 ms);
3. otherwise search: detect faces on a downscaled frame and test candidates' identity,
   skipping faces already known to be someone else;
4. settle identity when it is in doubt (after a cut, a jump, re-acquisition, when the
   followed face's shape drifts, or every few seconds): dlib descriptor against the
   target gallery.

Identity belongs to a *tracklet*, an unbroken run of one followed face. A tracklet that
starts after a cut is "unknown" until its face can be seen frontally enough to check,
then all of its frames become the target's, or none. Nothing here raises for a frame:
frames without the target are recorded as absent and left untouched downstream.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Self

import cv2
import numpy as np

from ..errors import FaceNotMatch
from ..media.decode import DecodedFrame, iter_frames
from .canonical import canonical_face
from .crop import Roi, box_of, cut, iou, roi_from_detection, roi_from_landmarks, to_image
from .identity import Descriptor, Gallery, IdentityModel, max_distance
from .models import FaceDetector, MeshModel
from .pose import fit_pose
from .reference import ReferenceImage, find_single_face, load_image
from .scene import CutDetector
from .settings import QUERY_FACE_THRESHOLD_DEFAULT, FaceSettings, check_query_face_threshold
from .track import FaceTrack
from .trackbuild import build_track

if TYPE_CHECKING:
    from ..config import Settings  # config imports this package: no runtime import

Identity = Literal["target", "unknown", "other"]

# A followed face whose box overlaps its previous box less than this has jumped: treat the
# frame like a cut (it may be another face the crop slid onto).
_JUMP_IOU = 0.3
# Same-face test for detection boxes between frames (faces move little per frame).
_SAME_FACE_IOU = 0.3
# Continuity is strong evidence: a followed target only loses its identity when the
# descriptor is clearly further than the acceptance threshold.
_KEEP_MARGIN = 0.1
# Descriptors this much closer than the threshold join the gallery (adapts to lighting).
_GALLERY_RATIO = 0.75
_RETRY_UNKNOWN_S = 0.2  # how often to retry identifying an "unknown" tracklet
_FORGET_REJECTED_FRAMES = 5
# A followed face whose pose-free shape (its rigid points, in eye distances) changes
# suddenly may be someone else: a dissolve between shots keeps the box in place, so
# neither a cut nor a jump is seen (talk2 dissolving into talk4 was edited as the target
# throughout). The shape's recent mean (over ~`_SHAPE_FAST_S`) is compared with its
# longer mean (~`_SHAPE_SLOW_S`), so slow changes with pose or expression do not count;
# beyond `_SHAPE_CHANGE` apart an identity check is due, at most every
# `_SHAPE_CHECK_GAP_S` (a check costs one descriptor, ~0.1 s). On the shared clips the
# two stay within 0.006-0.018 of each other (largest per clip), and the dissolve parts
# them by 0.03; extra checks: none on talk1-5, 2 and 3 on the webcam and phone clips.
_SHAPE_CHANGE = 0.015
_SHAPE_FAST_S = 0.1
_SHAPE_SLOW_S = 2.0
_SHAPE_CHECK_GAP_S = 0.5
# The mesh's face flag (a logit) on upright faces: 22-28 (5th percentile per clip, 6 real
# clips); on upside-down faces framed as upright 4-9 (median), and turned upright 15
# (median), while upright faces turned upside down lose 7-31. Below `_UPRIGHT_FLAG` the
# crop is also tried turned, and kept turned if its flag is `_TURN_MARGIN` higher and at
# least `_TURNED_MIN_FLAG`: a badly framed upright face (camera shake of +-80 px) scored
# -10.5 as it was and 0.9 turned, and was followed upside down for a frame.
_UPRIGHT_FLAG = 18.0
_TURN_MARGIN = 2.0
_TURNED_MIN_FLAG = 10.0

FACE_NOT_MATCH = "The face in the reference image does not appear in the video."


@dataclass
class _Tracklet:
    id: int
    identity: Identity
    checked_at: float  # time of the last identity check
    # Running means of the face's rigid shape, over the last moments and over longer.
    recent: np.ndarray | None = None
    settled: np.ndarray | None = None
    seen_at: float = 0.0
    in_doubt: bool = False  # the shape changed fast and has not settled yet
    doubt_since: int = 0  # index of the frame where that doubt began


@dataclass
class _Rejected:
    box: np.ndarray
    checked_at: float
    seen_index: int


class FaceAnalyser:
    """`add()` every decoded frame in order, then `finish()` for the `FaceTrack`."""

    def __init__(
        self,
        settings: Settings | FaceSettings | None = None,
        ref_image: ReferenceImage | None = None,
        query_face_threshold: int = QUERY_FACE_THRESHOLD_DEFAULT,
    ) -> None:
        # The service passes its whole `Settings`; tests and tools may pass `FaceSettings`.
        face_settings = getattr(settings, "face", settings)
        self.settings = face_settings if isinstance(face_settings, FaceSettings) else FaceSettings()
        self.max_distance = max_distance(check_query_face_threshold(query_face_threshold))
        self._closed = False
        self._mesh = MeshModel(self.settings.inference_threads)
        self._detector = FaceDetector()
        self._identity = IdentityModel()
        self._canonical = canonical_face()
        self._gallery = Gallery(self._identity)
        self._has_reference = ref_image is not None
        if ref_image is not None:
            try:
                image = load_image(ref_image)
                points = find_single_face(image, self._detector, self._mesh)
            except BaseException:
                self.close()
                raise
            self._gallery.add(self._identity.describe(image, points))
        self._cuts = CutDetector(self.settings.cut_threshold)
        self._roi: Roi | None = None
        self._tracklet: _Tracklet | None = None
        self._tracklets: list[_Tracklet] = []
        self._rejected: list[_Rejected] = []
        self._checks_left = 0
        # Per-frame records (streaming: one small row per frame, no images kept).
        self._times: list[float] = []
        self._points: list[np.ndarray | None] = []
        self._presence: list[float] = []
        self._tracklet_of: list[int] = []
        self._cut: list[bool] = []
        self._size: tuple[int, int] | None = None
        self._skipped_from: float | None = None  # time of the first frame `skip`ped
        self.stats = {"frames": 0, "detections": 0, "identity_checks": 0, "mesh_runs": 0}

    # -- per frame -----------------------------------------------------------------------
    def add(self, frame: DecodedFrame) -> None:
        image = np.ascontiguousarray(frame.image)
        if self._size is None:
            self._size = (image.shape[1], image.shape[0])
        now, index = frame.time, len(self._times)
        self.stats["frames"] += 1
        is_cut = self._cuts.update(image) and index > 0
        if is_cut:
            self._rejected.clear()
        self._checks_left = self.settings.max_identity_checks_per_frame

        points, presence = self._follow(image, now, is_cut)
        if points is not None:
            self._watch_shape(points, now)
        if points is None:
            points, presence = self._search(image, now, index)
        elif self._identity_due(now, points) and not self._verify(image, now, points):
            self._drop_current(points, now, index)
            points, presence = self._search(image, now, index)

        self._times.append(now)
        self._cut.append(is_cut)
        self._points.append(points)
        self._presence.append(presence)
        self._tracklet_of.append(self._tracklet.id if points is not None and self._tracklet else -1)
        self._roi = roi_from_landmarks(points) if points is not None else None
        if points is None:
            self._tracklet = None

    def skip(self, frame: DecodedFrame) -> None:
        """Record a frame without looking at it (one the output never shows): no face."""
        if self._size is None and frame.image.size:  # not a frame decoded without pixels
            self._size = (frame.image.shape[1], frame.image.shape[0])
        if self._skipped_from is None:
            self._skipped_from = frame.time
        self._times.append(frame.time)
        self._cut.append(False)
        self._points.append(None)
        self._presence.append(0.0)
        self._tracklet_of.append(-1)
        self._roi, self._tracklet = None, None

    def _follow(
        self, image: np.ndarray, now: float, is_cut: bool
    ) -> tuple[np.ndarray | None, float]:
        if self._roi is None or self._tracklet is None:
            return None, 0.0
        prev_box = self._roi.box()
        found = self._run_mesh(image, self._roi)
        if found is None:
            self._tracklet = None
            return None, 0.0
        points, presence = found
        if is_cut or iou(box_of(points), prev_box) < _JUMP_IOU:
            # Possibly someone else now: a new tracklet whose identity is to be settled.
            self._start_tracklet("unknown", now - 1e9)
        return points, presence

    def _search(self, image: np.ndarray, now: float, index: int) -> tuple[np.ndarray | None, float]:
        s = self.settings
        scale = min(1.0, s.detect_long_side / max(image.shape[:2]))
        small = (
            cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            if scale < 1
            else image
        )
        self.stats["detections"] += 1
        faces = self._detector.run(small, scale=scale, min_score=s.detect_min_score)
        self._rejected = [
            r for r in self._rejected if index - r.seen_index <= _FORGET_REJECTED_FRAMES
        ]
        for face in faces:  # largest first
            known = next((r for r in self._rejected if iou(r.box, face.box) > _SAME_FACE_IOU), None)
            if known is not None:
                known.box, known.seen_index = face.box, index
                if now - known.checked_at < s.recheck_rejected_seconds:
                    continue
            found = self._run_mesh(image, roi_from_detection(face))
            if found is None:
                continue
            points, presence = found
            if not self._gallery:
                # No reference: the target is the largest face of the first frame with one.
                self._gallery.add(self._identity.chip(image, points))
                self._start_tracklet("target", now)
                return points, presence
            if self._checks_left <= 0:
                break
            if not self._identifiable(points):
                continue
            distance = self._gallery.distance(self._describe(image, points))
            if distance <= self.max_distance:
                self._start_tracklet("target", now)
                return points, presence
            if known is not None:
                known.checked_at = now
            else:
                self._rejected.append(_Rejected(face.box, now, index))
        return None, 0.0

    # -- identity ------------------------------------------------------------------------
    def _identity_due(self, now: float, points: np.ndarray) -> bool:
        t = self._tracklet
        assert t is not None
        if t.identity == "unknown":
            return now - t.checked_at >= _RETRY_UNKNOWN_S and self._identifiable(points)
        return now - t.checked_at >= self.settings.reverify_seconds and self._identifiable(points)

    def _verify(self, image: np.ndarray, now: float, points: np.ndarray) -> bool:
        """Settle the current tracklet's identity; False if it is not the target."""
        t = self._tracklet
        assert t is not None
        if self._checks_left <= 0:
            return True  # decide on a later frame
        distance = self._gallery.distance(self._describe(image, points))
        t.checked_at = now
        limit = self.max_distance + (_KEEP_MARGIN if t.identity == "target" else 0.0)
        if distance <= limit:
            t.identity = "target"
            return True
        if t.identity == "target":
            # The followed face has turned into someone else: later frames start afresh,
            # and so do those since its shape began to change (a dissolve: the edit then
            # fades out with the person, instead of going on over the next one).
            other = self._start_tracklet("other", now)
            if t.in_doubt:
                for k in range(t.doubt_since, len(self._tracklet_of)):
                    if self._tracklet_of[k] == t.id:
                        self._tracklet_of[k] = other.id
        t = self._tracklet
        assert t is not None
        t.identity = "other"
        return False

    def _watch_shape(self, points: np.ndarray, now: float) -> None:
        """Make an identity check due at once if the followed face's shape changed fast."""
        t = self._tracklet
        if t is None:
            return
        rigid = self._canonical.rigid
        shape = fit_pose(points, self._canonical.points, rigid).to_canonical(points[rigid])
        if t.recent is None or t.settled is None:
            t.recent, t.settled, t.seen_at = shape, shape.copy(), now
            return
        step = max(now - t.seen_at, 0.0)
        t.seen_at = now
        t.recent = t.recent + (1 - math.exp(-step / _SHAPE_FAST_S)) * (shape - t.recent)
        t.settled = t.settled + (1 - math.exp(-step / _SHAPE_SLOW_S)) * (shape - t.settled)
        change = float(np.sqrt(((t.recent - t.settled) ** 2).sum(axis=1).mean()))
        # Doubt lasts until the shape settles: mid-dissolve the blend may still pass as
        # the target, and the new face, once alone, is only 0.01 or so from the old one.
        if change > _SHAPE_CHANGE:
            if not t.in_doubt:
                t.doubt_since = len(self._times)  # this frame's index (recorded after)
            t.in_doubt = True
        elif change < _SHAPE_CHANGE / 2:
            t.in_doubt = False
        if t.in_doubt and now - t.checked_at >= _SHAPE_CHECK_GAP_S:
            t.checked_at = -math.inf  # due at once (`_identity_due`)

    def _describe(self, image: np.ndarray, points: np.ndarray) -> Descriptor:
        self._checks_left -= 1
        descriptor = self._identity.describe(image, points)
        if (
            self._gallery
            and self._gallery.distance(descriptor) < _GALLERY_RATIO * self.max_distance
        ):
            self._gallery.add(descriptor)
        return descriptor

    def _identifiable(self, points: np.ndarray) -> bool:
        yaw = fit_pose(points, self._canonical.points, self._canonical.rigid).angles()[0]
        return abs(yaw) <= self.settings.identity_max_yaw_deg

    def _drop_current(self, points: np.ndarray, now: float, index: int) -> None:
        self._rejected.append(_Rejected(box_of(points), now, index))
        self._tracklet = None
        self._roi = None

    def _start_tracklet(self, identity: Identity, now: float) -> _Tracklet:
        self._tracklet = _Tracklet(len(self._tracklets), identity, now)
        self._tracklets.append(self._tracklet)
        return self._tracklet

    def _run_mesh(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, float] | None:
        self.stats["mesh_runs"] += 1
        result = self._mesh.run(cut(image, roi))
        if result.flag < _UPRIGHT_FLAG:
            # Perhaps an upside-down face: the detector's eye keypoints can read one as
            # upright, and the mesh then fits it anyway (presence 0.995), mouth on the
            # forehead. Its flag tells: the same crop turned half a turn scores far higher.
            turned = replace(roi, angle=roi.angle + math.pi)
            self.stats["mesh_runs"] += 1
            other = self._mesh.run(cut(image, turned))
            if other.flag > max(result.flag + _TURN_MARGIN, _TURNED_MIN_FLAG):
                result, roi = other, turned
        if result.presence < self.settings.track_min_presence:
            return None
        return to_image(result.points, roi), result.presence

    # -- end -----------------------------------------------------------------------------
    def finish(self) -> FaceTrack:
        """The track of everything added; raises `FaceNotMatch` if a reference was given and
        its face never appeared. Releases the models: no frames may follow."""
        self.close()
        identities = [t.identity for t in self._tracklets]
        target = np.array(
            [tid >= 0 and identities[tid] == "target" for tid in self._tracklet_of], bool
        )
        unknown = np.array(
            [tid >= 0 and identities[tid] == "unknown" for tid in self._tracklet_of], bool
        )
        if self._has_reference and not target.any():
            if self._skipped_from is not None:
                raise FaceNotMatch(
                    "The face in the reference image does not appear in the first "
                    f"{self._skipped_from:.1f} s of the video, which hold every frame the "
                    "output shows."
                )
            raise FaceNotMatch(FACE_NOT_MATCH)
        track = build_track(
            times=np.array(self._times, np.float64),
            points=self._points,
            presence=np.array(self._presence, np.float32),
            tracklet=np.array(self._tracklet_of, np.int64),
            target=target,
            unverified=unknown,
            shot_start=np.array(self._cut, bool),
            frame_size=self._size or (0, 0),
            settings=self.settings,
            canonical=self._canonical,
        )
        self.stats["identity_checks"] = self._identity.computed
        track.info.update({k: float(v) for k, v in self.stats.items()})
        return track

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._mesh.close()
            self._detector.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def analyse_frames(
    frames: Iterable[DecodedFrame],
    ref_image: ReferenceImage | None = None,
    query_face_threshold: int = QUERY_FACE_THRESHOLD_DEFAULT,
    settings: Settings | FaceSettings | None = None,
) -> FaceTrack:
    analyser = FaceAnalyser(settings, ref_image, query_face_threshold)
    try:
        for frame in frames:
            analyser.add(frame)
        return analyser.finish()
    finally:
        analyser.close()


def analyse_video(
    path: str | os.PathLike[str],
    ref_image: ReferenceImage | None = None,
    query_face_threshold: int = QUERY_FACE_THRESHOLD_DEFAULT,
    settings: Settings | FaceSettings | None = None,
) -> FaceTrack:
    """Decode `path` once and analyse every frame."""
    return analyse_frames(iter_frames(path), ref_image, query_face_threshold, settings)
