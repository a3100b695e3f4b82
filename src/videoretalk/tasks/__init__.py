"""Task records, the task store and queue interfaces, and the embedded worker pool."""

from __future__ import annotations

from .queue import SQLiteTaskQueue, TaskQueue
from .records import TaskInputs, TaskRecord, TaskResult, TaskStatus
from .store import SQLiteTaskStore, TaskStore

__all__ = [
    "SQLiteTaskQueue",
    "SQLiteTaskStore",
    "TaskInputs",
    "TaskQueue",
    "TaskRecord",
    "TaskResult",
    "TaskStatus",
    "TaskStore",
]
