"""videoretalk: self-hosted lip-sync video, compatible with DashScope's videoretalk API.

>>> import videoretalk
>>> result = videoretalk.retalk("talk.mp4", "speech.wav", "out.mp4")
>>> result.usage.video_duration
"""

from .config import Settings
from .errors import VideoRetalkError
from .pipeline import RetalkResult, Usage, retalk

__all__ = ["RetalkResult", "Settings", "Usage", "VideoRetalkError", "retalk"]
__version__ = "0.1.0"
