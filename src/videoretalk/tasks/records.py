"""Task records: what a client submitted and where the task stands."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MODEL_NAME = "videoretalk"


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"  # only ever reported, never stored

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


@dataclass(frozen=True)
class TaskInputs:
    """The request as validated by the API; URLs are resolved by the worker."""

    video_url: str
    audio_url: str
    ref_image_url: str | None = None
    video_extension: bool = False
    query_face_threshold: int | None = None


@dataclass(frozen=True)
class TaskResult:
    blob_key: str
    video_duration: float
    video_ratio: str = "standard"


@dataclass(frozen=True)
class TaskProgress:
    """How far a RUNNING task has got, as its worker last reported it.

    `stage` names the step under way: the worker's "download" and "store" around
    the engine's own ("validate", "analyse", "render", "done"); `percent` is of the
    whole task, 0–100, and never goes backwards (see tasks/progress.py).
    """

    stage: str
    percent: float


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    owner: str  # API key id
    inputs: TaskInputs
    request_id: str
    status: TaskStatus = TaskStatus.PENDING
    model: str = MODEL_NAME
    submit_time: float = field(default_factory=time.time)  # epoch seconds
    scheduled_time: float | None = None
    end_time: float | None = None
    attempts: int = 0  # runs started, including one that is running
    worker: str | None = None
    code: str | None = None
    message: str | None = None
    result: TaskResult | None = None
    progress: TaskProgress | None = None  # while RUNNING; see `TaskStore.set_progress`


def format_time(epoch: float | None) -> str | None:
    """DashScope's task time format, local time with milliseconds: "2025-09-11 20:15:29.887"."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def parse_compact_time(text: str) -> float:
    """Parse the task-list filter format "20230420000000" (local time) to epoch seconds."""
    return datetime.strptime(text, "%Y%m%d%H%M%S").timestamp()
