"""The embedded worker pool: N worker processes, watched and replaced when they die.

Recovery rule (issue 6): a task whose worker died mid-run is run once more, then
FAILED with `InternalError` and a message that says so — never left RUNNING.
The same rule covers a restart of the whole service: every task still RUNNING
at start-up belonged to a process that no longer exists.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import threading
from multiprocessing.process import BaseProcess

from .backends import Backends
from .records import TaskRecord
from .worker import worker_main

__all__ = ["WorkerPool", "settle_lost_task"]

log = logging.getLogger("videoretalk.pool")

WORKER_LOST_CODE = "InternalError"
_STOP_GRACE_SECONDS = 10.0


def settle_lost_task(backends: Backends, record: TaskRecord, why: str) -> bool:
    """A task whose worker is gone: back to PENDING (True), or FAILED after the limit.

    The caller queues it again when this returns True. Shared with the cluster
    worker (`tasks/cluster.py`), which finds lost tasks by their lapsed lease.
    """
    store, limit = backends.store, backends.settings.service.max_attempts
    if record.attempts >= limit:
        store.fail(
            record.task_id,
            record.attempts,
            WORKER_LOST_CODE,
            f"task abandoned: {why}, and it had already been tried "
            f"{record.attempts} times; please submit it again",
        )
        log.warning("task %s failed for good: %s", record.task_id, why)
        return False
    if store.requeue(record.task_id, record.attempts):
        log.warning(
            "task %s requeued (attempt %d of %d): %s", record.task_id, record.attempts, limit, why
        )
        return True
    return False


class WorkerPool:
    def __init__(self, backends: Backends, size: int, *, watch_seconds: float = 0.5) -> None:
        if size < 1:
            raise ValueError(f"worker pool size must be >= 1, got {size}")
        self.backends = backends
        self.size = size
        self.watch_seconds = watch_seconds
        self.boot_id = secrets.token_hex(4)
        # Spawn, not fork: the API process holds threads and sockets a fork would copy.
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[BaseProcess | None] = [None] * size
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- recovery ----------------------------------------------------------------
    def recover(self) -> None:
        """At start-up: settle tasks left RUNNING by a previous run, requeue PENDING ones."""
        for record in self.backends.store.running():
            self._recover(record, "the service stopped while it was running")
        self._requeue_pending()

    def _requeue_pending(self) -> None:
        for record in self.backends.store.pending():
            self.backends.queue.put(record.task_id)  # idempotent

    def _recover(self, record: TaskRecord, why: str) -> None:
        if settle_lost_task(self.backends, record, why):
            self.backends.queue.put(record.task_id)

    # -- processes ---------------------------------------------------------------
    def start(self) -> None:
        for slot in range(self.size):
            self._spawn(slot)
        self._watcher = threading.Thread(target=self._watch, name="worker-pool", daemon=True)
        self._watcher.start()

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p is not None and p.pid is not None]

    def _spawn(self, slot: int) -> None:
        proc = self._ctx.Process(
            target=worker_main,
            name=f"videoretalk-worker-{slot}",
            args=(self.backends.settings, slot, self.boot_id, os.getpid()),
            daemon=True,
        )
        proc.start()
        self._procs[slot] = proc

    def _watch(self) -> None:
        while not self._stop.wait(self.watch_seconds):
            for slot, proc in enumerate(self._procs):
                if proc is None or proc.is_alive() or self._stop.is_set():
                    continue
                name = f"{self.boot_id}/{slot}/{proc.pid}"
                log.error("worker %s exited with code %s; replacing it", name, proc.exitcode)
                for record in self.backends.store.running():
                    if record.worker == name:
                        self._recover(
                            record, f"its worker process died (exit code {proc.exitcode})"
                        )
                self._requeue_pending()
                self._spawn(slot)

    def stop(self) -> None:
        """SIGTERM every worker: a task being run is handed back to the queue."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
        for proc in self._procs:
            if proc is not None and proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            if proc is not None:
                proc.join(_STOP_GRACE_SECONDS)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
