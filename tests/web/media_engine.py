"""The engine the console's browser test runs in `serve`'s workers.

A real media run — the pipeline's own validation (so a 590×590 clip fails with
InvalidFile.Resolution), its own progress reports and a real H.264/AAC MP4 that a
browser can play — with the lip-sync engine held to passthrough, so the test's
time does not grow as the face, motion and render stages land.
`VIDEORETALK_TEST_RENDER_DELAY` (seconds per rendered frame) slows the render
stage down enough for the test to see, and photograph, a task mid-run.
"""

from __future__ import annotations

import os
import time
from typing import Any

from videoretalk import pipeline
from videoretalk.engine import PassthroughEngine


def _passthrough(*args: Any, **kwargs: Any) -> PassthroughEngine:
    return PassthroughEngine()


def retalk(*args: Any, progress: Any = None, **kwargs: Any) -> pipeline.RetalkResult:
    delay = float(os.environ.get("VIDEORETALK_TEST_RENDER_DELAY", "0"))

    def slowed(stage: str, fraction: float) -> None:
        if stage == "render":
            time.sleep(delay)
        if progress is not None:
            progress(stage, fraction)

    pipeline.load_engine = _passthrough  # this worker process only
    return pipeline.retalk(*args, progress=slowed, **kwargs)
