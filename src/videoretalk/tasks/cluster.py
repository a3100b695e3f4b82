"""Cluster mode: `videoretalk worker` nodes consuming the Celery queue, and the
reconciler that API nodes run.

A worker node runs exactly the embedded worker's `run_task`; what differs is how
a task reaches it (a Celery delivery, acknowledged late) and how a dead worker
is noticed (its lease in Redis lapses, instead of a parent seeing its child die).

Delivery of task T to worker W:
  1. W takes T's lease; if another live worker holds it, the delivery is a
     duplicate and is dropped (that worker will finish T).
  2. T still RUNNING means its previous worker died without finishing: the
     embedded rule applies (`settle_lost_task`): run again, or FAILED
     `InternalError` after `max_attempts` runs.
  3. `run_task`: PENDING → RUNNING → SUCCEEDED/FAILED, fenced by attempt number.
  4. The lease is released; Celery acknowledges the message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from ..config import Settings
from .backends import Backends, open_backends
from .pool import settle_lost_task
from .queue_redis import TASK_NAME, RedisTaskQueue
from .worker import Engine, load_engine, run_task

__all__ = ["Reconciler", "deliver", "reconcile", "run_worker_node"]

log = logging.getLogger("videoretalk.cluster")


def deliver(
    task_id: str, backends: Backends, queue: RedisTaskQueue, worker: str, engine: Engine
) -> None:
    """Handle one delivery of `task_id` (steps 1–4 above)."""
    from ..ops.logs import TASK_ID

    token = TASK_ID.set(task_id)
    try:
        queue.taken(task_id)
        record = backends.store.get(task_id)
        if record is None or record.status.finished:
            return  # canceled, or a late duplicate of a finished task
        lease = queue.lease(task_id, worker)
        if not lease.acquire():
            log.info(
                "task %s is being run by %s; dropping this delivery",
                task_id,
                queue.lease_holder(task_id),
            )
            return
        try:
            record = backends.store.get(task_id)
            if record is not None and record.status.value == "RUNNING":
                settle_lost_task(
                    backends, record, f"its worker ({record.worker}) stopped renewing its lease"
                )
            run_task(task_id, backends, worker, engine)
        finally:
            lease.release()
    finally:
        TASK_ID.reset(token)


class _Node:
    """Backends and engine of this process, opened on first use (after a prefork fork)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pid = 0
        self._state: tuple[Backends, Engine] | None = None

    def get(self) -> tuple[Backends, Engine]:
        if self._state is None or self._pid != os.getpid():
            self._state = (open_backends(self.settings), load_engine(self.settings.service.engine))
            self._pid = os.getpid()
        return self._state


def run_worker_node(settings: Settings, concurrency: int = 1) -> None:
    """`videoretalk worker`: consume the cluster queue until SIGTERM (warm shutdown:
    the task being run is finished and acknowledged; a second signal abandons it,
    and the broker hands it to another worker)."""
    from ..ops.logs import setup_logging

    if concurrency < 1:
        raise ValueError(f"worker concurrency must be >= 1, got {concurrency}")
    setup_logging(settings.log_level, settings.log_format, service="videoretalk-worker")
    backends = open_backends(settings)
    queue = backends.queue
    if not isinstance(queue, RedisTaskQueue):
        from ..errors import InvalidParameter

        raise InvalidParameter(
            "`videoretalk worker` needs the cluster queue: set "
            "VIDEORETALK_CLUSTER_REDIS_URL (and the database and S3 settings)"
        )
    node = _Node(settings)
    name = f"{socket.gethostname()}/{os.getpid()}"

    @queue.app.task(name=TASK_NAME, ignore_result=True)  # type: ignore[misc]
    def _run(task_id: str) -> None:
        local_backends, engine = node.get()
        worker = name if concurrency == 1 else f"{name}/{os.getpid()}"
        deliver(task_id, local_backends, local_backends.queue, worker, engine)  # type: ignore[arg-type]

    worker = queue.app.Worker(
        hostname=f"videoretalk@{socket.gethostname()}.{os.getpid()}",
        pool="solo" if concurrency == 1 else "prefork",
        concurrency=concurrency,
        queues=[queue.name],
        loglevel=settings.log_level.upper(),
        optimization="fair",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    log.info("worker node %s consuming %r with %d slot(s)", name, queue.name, concurrency)
    worker.start()


def reconcile(backends: Backends, suspects: set[str], now: float | None = None) -> set[str]:
    """One pass: queue PENDING tasks the broker may have lost (a Redis restart without
    persistence) and RUNNING tasks whose lease is gone two passes running (their
    worker died and the broker's own redelivery is not due yet). Returns the new
    suspects. `put` is idempotent, so overlapping reconcilers are harmless."""
    queue = backends.queue
    assert isinstance(queue, RedisTaskQueue)
    now = time.time() if now is None else now
    grace = backends.settings.cluster.reconcile_interval_seconds  # the submit path puts it
    for record in backends.store.pending():
        if now - record.submit_time >= grace:
            queue.put(record.task_id)
    orphans = {r.task_id for r in backends.store.running() if queue.lease_holder(r.task_id) is None}
    for task_id in orphans & suspects:
        log.warning("task %s is RUNNING without a live worker; queueing it again", task_id)
        queue.put(task_id)
    return orphans - suspects


class Reconciler:
    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        suspects: set[str] = set()
        while not self._stop.wait(self.backends.settings.cluster.reconcile_interval_seconds):
            try:
                suspects = reconcile(self.backends, suspects)
            except Exception as error:  # noqa: BLE001  # Redis or the database restarting: try next time
                log.warning("reconcile pass failed: %s", error)

    def stop(self) -> None:
        self._stop.set()
