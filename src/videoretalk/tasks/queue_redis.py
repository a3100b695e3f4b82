"""The distributed queue: Celery with a Redis broker, plus per-task leases in Redis.

Delivery is Celery's. Messages are acknowledged late (after the task ran), so the
broker hands the task of a worker that died — `kill -9`, lost node — to another
worker once `visibility_timeout_seconds` have passed; a prefork child that dies
is rejected back at once (`task_reject_on_worker_lost`).

Two things Celery does not give, and the store's state machine needs:

* exactly one runner: a redelivery can arrive while the first worker is alive
  (a task longer than the visibility timeout). A worker therefore takes a lease,
  `SET videoretalk:lease:<task> <worker> NX PX`, before it starts a task and
  renews it while it runs; a delivery finding the lease held is dropped. The
  store's compare-and-set on the attempt number fences any stale writer besides.
* an idempotent `put`: a marker key `SET NX` per queued id, removed when a worker
  takes it, so that re-queueing (after a restart, by the reconciler) is safe.

`get` exists for the conformance suite and tools; workers consume through Celery.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

from celery import Celery

from ..config import ClusterSettings

__all__ = ["TASK_NAME", "Lease", "RedisTaskQueue", "celery_app"]

log = logging.getLogger("videoretalk.queue")

TASK_NAME = "videoretalk.run_task"
_MARKER_TTL_SECONDS = 7 * 24 * 3600  # a queued id older than a week may be queued again
# Celery's Redis transport keeps one list per priority step; 0 is the bare name.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)

# Renew only while we still hold it (or it vanished with a Redis restart).
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def celery_app(cluster: ClusterSettings) -> Celery:
    app = Celery("videoretalk", broker=cluster.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # ack after the run: a dead worker's task comes back
        task_reject_on_worker_lost=True,  # a killed prefork child: back at once
        worker_prefetch_multiplier=1,  # take one task at a time; others stay queued
        task_default_queue=cluster.queue_name,
        task_ignore_result=True,  # the task store holds results
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": cluster.visibility_timeout_seconds},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # ride out a Redis restart
        worker_hijack_root_logger=False,  # our logging (JSON or text) stays
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
    )
    return app


class RedisTaskQueue:
    def __init__(self, cluster: ClusterSettings) -> None:
        import redis

        self.cluster = cluster
        self.name = cluster.queue_name
        self.app = celery_app(cluster)
        self.redis = redis.Redis.from_url(
            cluster.redis_url, socket_timeout=10, health_check_interval=30
        )

    def _marker(self, task_id: str) -> str:
        return f"videoretalk:queued:{self.name}:{task_id}"

    def put(self, task_id: str) -> None:
        if not self.redis.set(self._marker(task_id), 1, nx=True, ex=_MARKER_TTL_SECONDS):
            return  # already queued
        try:
            self.app.send_task(TASK_NAME, args=[task_id], queue=self.name)
        except BaseException:
            self.redis.delete(self._marker(task_id))
            raise

    def taken(self, task_id: str) -> None:
        """A worker has the id: a later `put` queues it again."""
        self.redis.delete(self._marker(task_id))

    def get(self, timeout: float = 0.0) -> str | None:
        from queue import Empty

        with self.app.connection_for_read() as connection:
            simple = connection.SimpleQueue(self.name)
            try:
                message = simple.get(block=timeout > 0, timeout=timeout or None)
            except Empty:
                return None
            finally:
                simple.close()
            message.ack()
        task_id = str(_task_args(message.decode())[0])
        self.taken(task_id)
        return task_id

    def __len__(self) -> int:
        names = [self.name, *(f"{self.name}{_PRIORITY_SEPARATOR}{p}" for p in _PRIORITY_STEPS)]
        with self.redis.pipeline() as pipe:
            for name in names:
                pipe.llen(name)
            return int(sum(pipe.execute()))

    def lease(self, task_id: str, holder: str) -> Lease:
        return Lease(self.redis, task_id, holder, self.cluster.lease_seconds)

    def lease_holder(self, task_id: str) -> str | None:
        value = self.redis.get(Lease.key(task_id))
        # Our client is built without decode_responses, so a value is always bytes.
        return cast(bytes, value).decode() if value is not None else None

    def ping(self) -> None:
        self.redis.ping()

    def purge(self) -> None:
        """Drop every queued message and marker (tests, benchmarks)."""
        with self.app.connection_for_write() as connection:
            connection.default_channel.queue_purge(self.name)
        for key in self.redis.scan_iter(f"videoretalk:queued:{self.name}:*"):
            self.redis.delete(key)


def _task_args(body: Any) -> list[Any]:
    # Celery message protocol 2: body = [args, kwargs, embed].
    return list(body[0])


class Lease:
    """Exclusive right to run one task, kept alive by a renewing thread."""

    def __init__(self, client: Any, task_id: str, holder: str, seconds: float) -> None:
        self.client = client
        self.name = self.key(task_id)
        self.holder = holder
        self.ttl_ms = int(seconds * 1000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def key(task_id: str) -> str:
        return f"videoretalk:lease:{task_id}"

    def acquire(self) -> bool:
        if not self.client.set(self.name, self.holder, nx=True, px=self.ttl_ms):
            return False
        self._thread = threading.Thread(target=self._renew, name="lease", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self.client.eval(_RENEW, 1, self.name, self.holder, self.ttl_ms):
                    log.error("lease %s was taken over by another worker", self.name)
                    return
            except Exception as error:  # noqa: BLE001  # Redis restarting: keep trying until it is back
                log.warning("could not renew lease %s: %s", self.name, error)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.client.eval(_RELEASE, 1, self.name, self.holder)
        except Exception as error:  # noqa: BLE001  # it lapses on its own
            log.warning("could not release lease %s: %s", self.name, error)
