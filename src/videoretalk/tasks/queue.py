"""Task queue: hands task ids to workers, behind a small interface.

The queue only orders work; the task store owns state. A worker takes an id,
then claims the task in the store (PENDING → RUNNING); an id whose task was
canceled meanwhile is simply dropped. Crash recovery therefore needs nothing
from the queue but an idempotent `put`: ids of tasks left RUNNING by a dead
worker are put back by the pool. The cluster's Celery-on-Redis queue
(`queue_redis.py`) implements the same three methods.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from .store import open_db

__all__ = ["SQLiteTaskQueue", "TaskQueue"]


class TaskQueue(Protocol):
    def put(self, task_id: str) -> None:
        """Enqueue; putting an id that is already queued does nothing."""
        ...

    def get(self, timeout: float = 0.0) -> str | None:
        """Take the oldest id, waiting up to `timeout` seconds; None if none came."""
        ...

    def __len__(self) -> int: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    enqueued REAL NOT NULL
);
"""


class SQLiteTaskQueue:
    """Durable FIFO in SQLite; safe for many processes. Workers poll (cheap, local)."""

    def __init__(self, path: Path, poll_seconds: float = 0.25) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.poll_seconds = poll_seconds
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_db(self.path)

    def put(self, task_id: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO queue (task_id, enqueued) VALUES (?, ?)",
                (task_id, time.time()),
            )

    def get(self, timeout: float = 0.0) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            with self._db() as db:
                row = db.execute(
                    "DELETE FROM queue WHERE seq = (SELECT MIN(seq) FROM queue) RETURNING task_id"
                ).fetchone()
            if row:
                return str(row[0])
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(self.poll_seconds, max(deadline - time.monotonic(), 0.0)))

    def __len__(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])
