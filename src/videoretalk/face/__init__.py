"""Face analysis: find the person to edit in every frame, with dense landmarks and head pose.

    >>> from videoretalk.face import analyse_video
    >>> track = analyse_video("talk.mp4", ref_image="person.jpg")
    >>> track.present.mean(), track.landmarks.shape      # (N, 478, 3) image pixels

Modules, one per step: `models` (MediaPipe detector and mesh), `crop` (face crops),
`identity` (dlib descriptors), `scene` (shot cuts), `pose` and `canonical` (head pose,
canonical face), `smoothing`, `trackbuild`, `track` (`FaceTrack`), `analyser`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from . import landmarks
from .settings import FaceSettings
from .track import FaceTrack, FrameStatus

if TYPE_CHECKING:
    from .analyser import FaceAnalyser, analyse_frames, analyse_video
    from .identity import max_distance

__all__ = [
    "FaceAnalyser",
    "FaceSettings",
    "FaceTrack",
    "FrameStatus",
    "analyse_frames",
    "analyse_video",
    "landmarks",
    "max_distance",
]

# mediapipe and dlib take a second to import; `config` imports `FaceSettings` from here,
# so the models load only when an analyser is first asked for.
_LAZY = {
    "FaceAnalyser": "analyser",
    "analyse_frames": "analyser",
    "analyse_video": "analyser",
    "max_distance": "identity",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
