"""Aggregates over the task store for /metrics: counted by the database, not in Python.

`SQLTaskStore.stats` computes them with SQLAlchemy; `task_stats` covers the
embedded SQLite store with the same three queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .records import TaskStatus
from .store import SQLiteTaskStore, TaskStore, connect

__all__ = ["TaskStats", "task_stats"]


@dataclass(frozen=True)
class TaskStats:
    by_status: dict[str, int]
    failures_by_code: dict[str, int]
    # (wall seconds from first start to end, output video seconds) of successes
    # that ended in the window asked for.
    recent_runs: list[tuple[float, float]]


def task_stats(store: TaskStore, since: float) -> TaskStats:
    own = getattr(store, "stats", None)
    if own is not None:
        return own(since)  # type: ignore[no-any-return]
    if not isinstance(store, SQLiteTaskStore):
        raise TypeError(f"no statistics for {type(store).__name__}")
    conn = connect(store.path)
    try:
        by_status = conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        failures = conn.execute(
            "SELECT code, COUNT(*) FROM tasks WHERE status = ? GROUP BY code",
            (TaskStatus.FAILED.value,),
        ).fetchall()
        runs = conn.execute(
            "SELECT scheduled_time, end_time, result FROM tasks WHERE status = ? AND end_time >= ?"
            " AND scheduled_time IS NOT NULL",
            (TaskStatus.SUCCEEDED.value, since),
        ).fetchall()
    finally:
        conn.close()
    return TaskStats(
        by_status={str(s): int(n) for s, n in by_status},
        failures_by_code={str(c or ""): int(n) for c, n in failures},
        recent_runs=recent_runs(runs),
    )


def recent_runs(rows: list[tuple[float, float, str | None]]) -> list[tuple[float, float]]:
    out = []
    for start, end, result in rows:
        if result:
            out.append((float(end) - float(start), float(json.loads(result)["video_duration"])))
    return out
