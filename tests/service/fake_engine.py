"""A stand-in for `pipeline.retalk` so service tests run in milliseconds.

The "video" is JSON telling the fake what to do: {"sleep": s} to take its time
(reporting "render" progress as it goes),
{"fail": "InvalidFile.Resolution"} to reject the input, {"die": true} to kill its
own worker process (os._exit) as a crash would. Anything else is copied through.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from videoretalk.errors import error_for_code


def _pretend_to_render(seconds: float, progress: Any) -> None:
    steps = max(1, int(seconds / 0.05))
    for step in range(steps):
        time.sleep(seconds / steps)
        if progress is not None:
            progress("render", (step + 1) / steps)


def retalk(
    video: Path,
    audio: Path,
    output: Path,
    ref_image: Path | None = None,
    video_extension: bool = False,
    progress: Any = None,
    settings: Any = None,
    query_face_threshold: int | None = None,
) -> SimpleNamespace:
    raw = Path(video).read_bytes()
    try:
        directives = json.loads(raw)
    except ValueError:
        directives = {}
    if not isinstance(directives, dict):
        directives = {}
    _pretend_to_render(float(directives.get("sleep", 0)), progress)
    if directives.get("die"):
        os._exit(9)
    if directives.get("fail"):
        raise error_for_code(
            directives["fail"], f"fake engine rejected the input ({directives['fail']})"
        )
    shutil.copyfile(video, output)
    duration = 5.0 if not video_extension else 7.5
    return SimpleNamespace(
        output=Path(output),
        duration=duration,
        frames=125,
        usage=SimpleNamespace(video_duration=duration, video_ratio="standard"),
    )
