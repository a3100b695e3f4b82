"""`SQLTaskStore`: the task store on any SQLAlchemy database (PostgreSQL for a cluster).

Same contract as `SQLiteTaskStore`: every state change is one compare-and-set
UPDATE on (status, attempts), so two API nodes and any number of workers can
share it without locks held across calls. The schema is `sql_schema.tasks`,
created and upgraded by Alembic when the engine is opened.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from .records import TaskProgress, TaskRecord, TaskResult, TaskStatus
from .sql_schema import open_engine, tasks
from .stats import TaskStats, recent_runs
from .store import TaskPage, TaskQuery, record_from_row

__all__ = ["SQLTaskStore"]

_ACTIVE = (TaskStatus.PENDING.value, TaskStatus.RUNNING.value)


class SQLTaskStore:
    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            open_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )

    def create(self, record: TaskRecord) -> None:
        with self.engine.begin() as db:
            db.execute(
                tasks.insert().values(
                    task_id=record.task_id,
                    owner=record.owner,
                    model=record.model,
                    request_id=record.request_id,
                    status=record.status.value,
                    inputs=json.dumps(asdict(record.inputs)),
                    submit_time=record.submit_time,
                )
            )

    def get(self, task_id: str) -> TaskRecord | None:
        with self.engine.connect() as db:
            row = db.execute(select(tasks).where(tasks.c.task_id == task_id)).mappings().first()
        return record_from_row(row) if row else None

    def query(self, query: TaskQuery) -> TaskPage:
        where: list[ColumnElement[bool]] = [tasks.c.owner == query.owner]
        if query.start_time is not None:
            where.append(tasks.c.submit_time >= query.start_time)
        if query.end_time is not None:
            where.append(tasks.c.submit_time <= query.end_time)
        if query.model is not None:
            where.append(tasks.c.model == query.model)
        if query.status is not None:
            where.append(tasks.c.status == query.status.value)
        with self.engine.connect() as db:
            total = db.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one()
            rows = (
                db.execute(
                    select(tasks)
                    .where(*where)
                    .order_by(tasks.c.submit_time.desc(), tasks.c.task_id)
                    .limit(query.page_size)
                    .offset((query.page_no - 1) * query.page_size)
                )
                .mappings()
                .all()
            )
        return TaskPage(total=int(total), tasks=[record_from_row(r) for r in rows])

    def count_active(self, owner: str) -> int:
        with self.engine.connect() as db:
            return int(
                db.execute(
                    select(func.count())
                    .select_from(tasks)
                    .where(tasks.c.owner == owner, tasks.c.status.in_(_ACTIVE))
                ).scalar_one()
            )

    def cancel(self, task_id: str) -> bool:
        return self._update(
            [tasks.c.task_id == task_id, tasks.c.status == TaskStatus.PENDING.value],
            status=TaskStatus.CANCELED.value,
            end_time=time.time(),
        )

    def start(self, task_id: str, worker: str) -> int | None:
        with self.engine.begin() as db:
            row = db.execute(
                update(tasks)
                .where(tasks.c.task_id == task_id, tasks.c.status == TaskStatus.PENDING.value)
                .values(
                    status=TaskStatus.RUNNING.value,
                    worker=worker,
                    progress=None,
                    attempts=tasks.c.attempts + 1,
                    scheduled_time=func.coalesce(tasks.c.scheduled_time, time.time()),
                )
                .returning(tasks.c.attempts)
            ).first()
        return int(row[0]) if row else None

    def succeed(self, task_id: str, attempt: int, result: TaskResult) -> bool:
        return self._finish(task_id, attempt, TaskStatus.SUCCEEDED, None, None, result)

    def fail(self, task_id: str, attempt: int, code: str, message: str) -> bool:
        return self._finish(task_id, attempt, TaskStatus.FAILED, code, message, None)

    def set_progress(self, task_id: str, attempt: int, progress: TaskProgress) -> bool:
        return self._update(self._running(task_id, attempt), progress=json.dumps(asdict(progress)))

    def requeue(self, task_id: str, attempt: int, refund: bool = False) -> bool:
        return self._update(
            self._running(task_id, attempt),
            status=TaskStatus.PENDING.value,
            worker=None,
            progress=None,
            attempts=tasks.c.attempts - int(refund),
        )

    def running(self) -> list[TaskRecord]:
        return self._by_status(TaskStatus.RUNNING)

    def pending(self) -> list[TaskRecord]:
        return self._by_status(TaskStatus.PENDING)

    def expired_results(self, before: float) -> list[TaskRecord]:
        with self.engine.connect() as db:
            rows = (
                db.execute(
                    select(tasks).where(
                        tasks.c.status == TaskStatus.SUCCEEDED.value,
                        tasks.c.result.is_not(None),
                        tasks.c.end_time < before,
                    )
                )
                .mappings()
                .all()
            )
        return [record_from_row(r) for r in rows]

    def drop_result(self, task_id: str) -> None:
        # The usage stays reported; only the blob reference goes.
        record = self.get(task_id)
        if record and record.result:
            kept = {**asdict(record.result), "blob_key": ""}
            self._update([tasks.c.task_id == task_id], result=json.dumps(kept))

    def stats(self, since: float) -> TaskStats:
        with self.engine.connect() as db:
            by_status = db.execute(
                select(tasks.c.status, func.count()).group_by(tasks.c.status)
            ).all()
            failures = db.execute(
                select(tasks.c.code, func.count())
                .where(tasks.c.status == TaskStatus.FAILED.value)
                .group_by(tasks.c.code)
            ).all()
            runs = db.execute(
                select(tasks.c.scheduled_time, tasks.c.end_time, tasks.c.result).where(
                    tasks.c.status == TaskStatus.SUCCEEDED.value,
                    tasks.c.end_time >= since,
                    tasks.c.scheduled_time.is_not(None),
                )
            ).all()
        return TaskStats(
            by_status={str(s): int(n) for s, n in by_status},
            failures_by_code={str(c or ""): int(n) for c, n in failures},
            recent_runs=recent_runs([tuple(r) for r in runs]),
        )  # type: ignore[misc]

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _running(task_id: str, attempt: int) -> list[ColumnElement[bool]]:
        return [
            tasks.c.task_id == task_id,
            tasks.c.status == TaskStatus.RUNNING.value,
            tasks.c.attempts == attempt,
        ]

    def _by_status(self, status: TaskStatus) -> list[TaskRecord]:
        with self.engine.connect() as db:
            rows = (
                db.execute(
                    select(tasks)
                    .where(tasks.c.status == status.value)
                    .order_by(tasks.c.submit_time)
                )
                .mappings()
                .all()
            )
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
            self._running(task_id, attempt),
            status=status.value,
            end_time=time.time(),
            code=code,
            message=message,
            progress=None,
            result=json.dumps(asdict(result)) if result else None,
        )

    def _update(self, where: list[ColumnElement[bool]], **values: Any) -> bool:
        with self.engine.begin() as db:
            return db.execute(update(tasks).where(*where).values(**values)).rowcount == 1
