"""Progress of a running task: the engine's (stage, fraction) → one stored percentage.

The engine reports each stage from 0 to 1 (`pipeline.retalk(progress=...)`), once
per frame. Clients want one bar that only moves forward, and the store wants far
fewer writes than one per frame, so `ProgressRecorder` maps each known stage onto
its share of the whole task and writes at most `max_writes_per_second` times (and
on every change of stage). A stage it does not know keeps the bar where it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .records import TaskProgress
from .store import TaskStore

__all__ = ["STAGE_SPANS", "ProgressRecorder"]

# Share of the whole task, in percent, that each stage covers. Rough wall-time
# shares of a CPU run; the worker's own stages ("download", "store") bracket the
# engine's ("validate" … "render", then "done").
STAGE_SPANS: dict[str, tuple[float, float]] = {
    "download": (0.0, 5.0),
    "validate": (5.0, 8.0),
    "analyse": (8.0, 45.0),
    "render": (45.0, 97.0),
    "done": (97.0, 97.0),
    "store": (97.0, 99.0),
}


class ProgressRecorder:
    """The `progress(stage, fraction)` callback handed to the engine for one attempt."""

    def __init__(
        self,
        store: TaskStore,
        task_id: str,
        attempt: int,
        *,
        max_writes_per_second: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.task_id = task_id
        self.attempt = attempt
        self.min_interval = 1.0 / max_writes_per_second
        self.clock = clock
        self.percent = 0.0
        self.stage = ""
        self._written: tuple[str, float] | None = None
        self._last_write = float("-inf")

    def __call__(self, stage: str, fraction: float) -> None:
        span = STAGE_SPANS.get(stage)
        if span is not None:
            low, high = span
            share = min(max(float(fraction), 0.0), 1.0)
            self.percent = max(self.percent, low + (high - low) * share)
        changed_stage = stage != self.stage
        self.stage = stage
        now = self.clock()
        if changed_stage or now - self._last_write >= self.min_interval:
            self._write(now)

    def _write(self, now: float) -> None:
        current = (self.stage, round(self.percent, 1))
        if current == self._written:
            return
        self.store.set_progress(self.task_id, self.attempt, TaskProgress(*current))
        self._written, self._last_write = current, now
