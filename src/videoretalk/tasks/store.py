"""Task store: the durable record of every task, behind a small interface.

`SQLiteTaskStore` is the embedded default (one file, no server). A distributed
backend (PostgreSQL) implements the same `TaskStore` protocol; the conformance
suite in tests/service/test_task_store.py runs against every implementation.

State changes are compare-and-set on (status, attempt) so that a stale worker (one
whose run was already given up on) can never overwrite a newer outcome.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from .records import TaskInputs, TaskProgress, TaskRecord, TaskResult, TaskStatus

__all__ = ["SQLiteTaskStore", "TaskPage", "TaskQuery", "TaskStore"]


@dataclass(frozen=True)
class TaskQuery:
    owner: str
    page_no: int = 1
    page_size: int = 10
    start_time: float | None = None  # on submit_time, inclusive
    end_time: float | None = None
    model: str | None = None
    status: TaskStatus | None = None


@dataclass(frozen=True)
class TaskPage:
    total: int
    tasks: list[TaskRecord]


class TaskStore(Protocol):
    def create(self, record: TaskRecord) -> None: ...
    def get(self, task_id: str) -> TaskRecord | None: ...
    def query(self, query: TaskQuery) -> TaskPage: ...
    def count_active(self, owner: str) -> int: ...
    def cancel(self, task_id: str) -> bool:
        """PENDING → CANCELED; False if the task was in any other state."""
        ...

    def start(self, task_id: str, worker: str) -> int | None:
        """PENDING → RUNNING; returns the attempt number, None if not PENDING."""
        ...

    def succeed(self, task_id: str, attempt: int, result: TaskResult) -> bool: ...
    def fail(self, task_id: str, attempt: int, code: str, message: str) -> bool: ...
    def set_progress(self, task_id: str, attempt: int, progress: TaskProgress) -> bool:
        """Record how far a RUNNING task (this attempt) has got; False if it is not.

        Progress is cleared when a run starts, is handed back, or finishes.
        """
        ...

    def requeue(self, task_id: str, attempt: int, refund: bool = False) -> bool:
        """RUNNING (this attempt) → PENDING, after its worker died or was stopped.

        `refund` gives the attempt back (a clean shutdown is not the task's fault).
        """
        ...

    def running(self) -> list[TaskRecord]: ...
    def pending(self) -> list[TaskRecord]: ...
    def expired_results(self, before: float) -> list[TaskRecord]: ...
    def drop_result(self, task_id: str) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    inputs TEXT NOT NULL,
    submit_time REAL NOT NULL,
    scheduled_time REAL,
    end_time REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    code TEXT,
    message TEXT,
    result TEXT,
    progress TEXT
);
CREATE INDEX IF NOT EXISTS tasks_owner_time ON tasks (owner, submit_time);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
"""

_ACTIVE = (TaskStatus.PENDING.value, TaskStatus.RUNNING.value)


@contextmanager
def open_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one unit of work, always closed afterwards."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def connect(path: Path) -> sqlite3.Connection:
    """A short-lived connection: cheap in SQLite, and safe across threads and processes."""
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class SQLiteTaskStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
            _add_missing_columns(db)

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_db(self.path)

    def create(self, record: TaskRecord) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO tasks (task_id, owner, model, request_id, status, inputs, submit_time)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.task_id,
                    record.owner,
                    record.model,
                    record.request_id,
                    record.status.value,
                    json.dumps(asdict(record.inputs)),
                    record.submit_time,
                ),
            )

    def get(self, task_id: str) -> TaskRecord | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return record_from_row(row) if row else None

    def query(self, query: TaskQuery) -> TaskPage:
        where, args = ["owner = ?"], [query.owner]
        if query.start_time is not None:
            where.append("submit_time >= ?")
            args.append(query.start_time)  # type: ignore[arg-type]
        if query.end_time is not None:
            where.append("submit_time <= ?")
            args.append(query.end_time)  # type: ignore[arg-type]
        if query.model is not None:
            where.append("model = ?")
            args.append(query.model)
        if query.status is not None:
            where.append("status = ?")
            args.append(query.status.value)
        clause = " AND ".join(where)
        offset = (query.page_no - 1) * query.page_size
        with self._db() as db:
            total = db.execute(f"SELECT COUNT(*) FROM tasks WHERE {clause}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM tasks WHERE {clause} ORDER BY submit_time DESC, task_id"
                " LIMIT ? OFFSET ?",
                [*args, query.page_size, offset],
            ).fetchall()
        return TaskPage(total=total, tasks=[record_from_row(r) for r in rows])

    def count_active(self, owner: str) -> int:
        with self._db() as db:
            return int(
                db.execute(
                    "SELECT COUNT(*) FROM tasks WHERE owner = ? AND status IN (?, ?)",
                    (owner, *_ACTIVE),
                ).fetchone()[0]
            )

    def cancel(self, task_id: str) -> bool:
        return self._update(
            "status = ?, end_time = ? WHERE task_id = ? AND status = ?",
            (TaskStatus.CANCELED.value, time.time(), task_id, TaskStatus.PENDING.value),
        )

    def start(self, task_id: str, worker: str) -> int | None:
        with self._db() as db:
            row = db.execute(
                "UPDATE tasks SET status = ?, worker = ?, attempts = attempts + 1, progress = NULL,"
                " scheduled_time = COALESCE(scheduled_time, ?) WHERE task_id = ? AND status = ?"
                " RETURNING attempts",
                (TaskStatus.RUNNING.value, worker, time.time(), task_id, TaskStatus.PENDING.value),
            ).fetchone()
        return int(row[0]) if row else None

    def succeed(self, task_id: str, attempt: int, result: TaskResult) -> bool:
        return self._finish(task_id, attempt, TaskStatus.SUCCEEDED, None, None, result)

    def fail(self, task_id: str, attempt: int, code: str, message: str) -> bool:
        return self._finish(task_id, attempt, TaskStatus.FAILED, code, message, None)

    def requeue(self, task_id: str, attempt: int, refund: bool = False) -> bool:
        return self._update(
            "status = ?, worker = NULL, attempts = attempts - ?, progress = NULL"
            " WHERE task_id = ? AND status = ? AND attempts = ?",
            (TaskStatus.PENDING.value, int(refund), task_id, TaskStatus.RUNNING.value, attempt),
        )

    def set_progress(self, task_id: str, attempt: int, progress: TaskProgress) -> bool:
        return self._update(
            "progress = ? WHERE task_id = ? AND status = ? AND attempts = ?",
            (json.dumps(asdict(progress)), task_id, TaskStatus.RUNNING.value, attempt),
        )

    def running(self) -> list[TaskRecord]:
        return self._by_status(TaskStatus.RUNNING)

    def pending(self) -> list[TaskRecord]:
        return self._by_status(TaskStatus.PENDING)

    def expired_results(self, before: float) -> list[TaskRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM tasks WHERE status = ? AND result IS NOT NULL AND end_time < ?",
                (TaskStatus.SUCCEEDED.value, before),
            ).fetchall()
        return [record_from_row(r) for r in rows]

    def drop_result(self, task_id: str) -> None:
        # The usage stays reported; only the blob reference goes.
        record = self.get(task_id)
        if record and record.result:
            kept = {**asdict(record.result), "blob_key": ""}
            self._update("result = ? WHERE task_id = ?", (json.dumps(kept), task_id))

    def _by_status(self, status: TaskStatus) -> list[TaskRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM tasks WHERE status = ? ORDER BY submit_time",
                (status.value,),
            ).fetchall()
        return [record_from_row(r) for r in rows]

    def _finish(
        self,
        task_id: str,
        attempt: int,
        status: TaskStatus,
        code: str | None,
        message: str | None,
        result: TaskResult | None,
    ) -> bool:
        return self._update(
            "status = ?, end_time = ?, code = ?, message = ?, result = ?, progress = NULL"
            " WHERE task_id = ? AND status = ? AND attempts = ?",
            (
                status.value,
                time.time(),
                code,
                message,
                json.dumps(asdict(result)) if result else None,
                task_id,
                TaskStatus.RUNNING.value,
                attempt,
            ),
        )

    def _update(self, assignment: str, args: tuple[object, ...]) -> bool:
        with self._db() as db:
            return db.execute(f"UPDATE tasks SET {assignment}", args).rowcount == 1


def _add_missing_columns(db: sqlite3.Connection) -> None:
    # A data folder made before the column existed (CREATE TABLE IF NOT EXISTS
    # leaves an old table as it was).
    columns = {row["name"] for row in db.execute("PRAGMA table_info(tasks)")}
    if "progress" not in columns:
        db.execute("ALTER TABLE tasks ADD COLUMN progress TEXT")


def record_from_row(row: Any) -> TaskRecord:
    """A task row (SQLite or SQLAlchemy: both index by column name) as a `TaskRecord`."""
    result = json.loads(row["result"]) if row["result"] else None
    progress = json.loads(row["progress"]) if row["progress"] else None
    return TaskRecord(
        task_id=row["task_id"],
        owner=row["owner"],
        model=row["model"],
        request_id=row["request_id"],
        status=TaskStatus(row["status"]),
        inputs=TaskInputs(**json.loads(row["inputs"])),
        submit_time=row["submit_time"],
        scheduled_time=row["scheduled_time"],
        end_time=row["end_time"],
        attempts=row["attempts"],
        worker=row["worker"],
        code=row["code"],
        message=row["message"],
        result=TaskResult(**result) if result else None,
        progress=TaskProgress(**progress) if progress else None,
    )
