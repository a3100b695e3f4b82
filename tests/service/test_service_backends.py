"""Conformance suites for the queue, task store and blob store interfaces.

Each suite runs against every implementation listed in its fixture; a new
backend (Redis, PostgreSQL, S3) joins by adding a factory.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from videoretalk.storage.blobs import BlobStore, LocalBlobStore
from videoretalk.storage.signing import Signer
from videoretalk.tasks.queue import SQLiteTaskQueue, TaskQueue
from videoretalk.tasks.records import (
    TaskInputs,
    TaskProgress,
    TaskRecord,
    TaskResult,
    TaskStatus,
)
from videoretalk.tasks.store import SQLiteTaskStore, TaskQuery, TaskStore

QUEUES: dict[str, Callable[[Path], TaskQueue]] = {
    "sqlite": lambda d: SQLiteTaskQueue(d / "q.db", poll_seconds=0.01)
}
STORES: dict[str, Callable[[Path], TaskStore]] = {"sqlite": lambda d: SQLiteTaskStore(d / "t.db")}
BLOBS: dict[str, Callable[[Path], BlobStore]] = {"local": lambda d: LocalBlobStore(d / "blobs")}


@pytest.fixture(params=sorted(QUEUES))
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> TaskQueue:
    return QUEUES[request.param](tmp_path)


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TaskStore:
    return STORES[request.param](tmp_path)


@pytest.fixture(params=sorted(BLOBS))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return BLOBS[request.param](tmp_path)


def _task(task_id: str, owner: str = "k1", at: float | None = None) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        owner=owner,
        request_id="r",
        inputs=TaskInputs("http://a/v.mp4", "http://a/a.wav"),
        submit_time=at if at is not None else time.time(),
    )


# -- queue ---------------------------------------------------------------------
def test_queue_is_fifo_and_put_is_idempotent(queue: TaskQueue) -> None:
    for task_id in ("a", "b", "a", "c"):
        queue.put(task_id)
    assert len(queue) == 3
    assert [queue.get(), queue.get(), queue.get(), queue.get()] == ["a", "b", "c", None]


def test_queue_get_waits_for_a_put(queue: TaskQueue) -> None:
    threading.Timer(0.1, queue.put, args=("late",)).start()
    assert queue.get(timeout=5) == "late"


def test_queue_hands_each_id_to_one_taker(queue: TaskQueue) -> None:
    for i in range(40):
        queue.put(f"t{i}")
    taken: list[str] = []

    def take() -> None:
        while (item := queue.get()) is not None:
            taken.append(item)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(f"t{i}" for i in range(40))


# -- task store ------------------------------------------------------------------
def test_store_lifecycle_and_fencing(store: TaskStore) -> None:
    store.create(_task("t1"))
    assert store.get("t1").status is TaskStatus.PENDING  # type: ignore[union-attr]
    assert store.start("t1", "w1") == 1
    assert store.start("t1", "w2") is None  # already running
    assert not store.cancel("t1")
    assert store.requeue("t1", attempt=1)
    assert store.start("t1", "w2") == 2
    assert not store.succeed("t1", 1, TaskResult("results/t1.mp4", 5.0))  # stale attempt
    assert store.succeed("t1", 2, TaskResult("results/t1.mp4", 5.0))
    record = store.get("t1")
    assert record is not None and record.status is TaskStatus.SUCCEEDED
    assert record.result == TaskResult("results/t1.mp4", 5.0)
    assert record.scheduled_time is not None and record.end_time is not None
    assert store.get("nope") is None


def test_store_refunded_requeue_keeps_the_attempt(store: TaskStore) -> None:
    store.create(_task("t1"))
    assert store.start("t1", "w") == 1
    assert store.requeue("t1", 1, refund=True)
    assert store.start("t1", "w") == 1


def test_store_cancel_only_pending(store: TaskStore) -> None:
    store.create(_task("t1"))
    assert store.cancel("t1")
    assert store.get("t1").status is TaskStatus.CANCELED  # type: ignore[union-attr]
    assert store.start("t1", "w") is None
    store.create(_task("t2"))
    store.start("t2", "w")
    assert store.fail("t2", 1, "InvalidFile.Resolution", "too small")
    record = store.get("t2")
    assert record is not None and (record.code, record.message) == (
        "InvalidFile.Resolution",
        "too small",
    )


def test_store_progress_is_fenced_and_cleared(store: TaskStore) -> None:
    store.create(_task("t1"))
    assert not store.set_progress("t1", 1, TaskProgress("render", 10.0))  # not running yet
    assert store.start("t1", "w") == 1
    assert store.get("t1").progress is None  # type: ignore[union-attr]
    assert store.set_progress("t1", 1, TaskProgress("render", 42.5))
    assert store.get("t1").progress == TaskProgress("render", 42.5)  # type: ignore[union-attr]
    assert store.query(TaskQuery(owner="k1")).tasks[0].progress == TaskProgress("render", 42.5)
    assert not store.set_progress("t1", 2, TaskProgress("render", 50.0))  # stale attempt
    assert store.requeue("t1", 1)
    assert store.get("t1").progress is None  # type: ignore[union-attr]
    assert store.start("t1", "w") == 2
    assert store.set_progress("t1", 2, TaskProgress("analyse", 20.0))
    assert store.succeed("t1", 2, TaskResult("results/t1.mp4", 5.0))
    assert store.get("t1").progress is None  # type: ignore[union-attr]
    assert not store.set_progress("t1", 2, TaskProgress("render", 99.0))


def test_store_query_filters_and_pages(store: TaskStore) -> None:
    for i in range(5):
        store.create(_task(f"a{i}", "k1", at=1000.0 + i))
    store.create(_task("b0", "k2", at=1002.5))
    store.start("a4", "w")
    page = store.query(TaskQuery(owner="k1", page_no=1, page_size=2))
    assert page.total == 5 and [t.task_id for t in page.tasks] == ["a4", "a3"]
    assert [
        t.task_id for t in store.query(TaskQuery(owner="k1", page_no=3, page_size=2)).tasks
    ] == ["a0"]
    assert store.query(TaskQuery(owner="k1", start_time=1001, end_time=1003)).total == 3
    assert store.query(TaskQuery(owner="k1", status=TaskStatus.RUNNING)).total == 1
    assert store.query(TaskQuery(owner="k1", model="other")).total == 0
    assert store.count_active("k1") == 5 and store.count_active("k2") == 1
    assert [t.task_id for t in store.running()] == ["a4"]


# -- blob store ------------------------------------------------------------------
def test_blob_roundtrip_ranges_and_listing(blobs: BlobStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 2000
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    info = blobs.put_file("results/a.mp4", src)
    assert info.size == len(data)
    assert b"".join(blobs.read("results/a.mp4")) == data
    assert b"".join(blobs.read("results/a.mp4", 10, 19)) == data[10:20]
    assert b"".join(blobs.read("results/a.mp4", len(data) - 5)) == data[-5:]
    assert [b.key for b in blobs.list("results")] == ["results/a.mp4"]
    blobs.fetch("results/a.mp4", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == data
    blobs.delete("results/a.mp4")
    assert blobs.stat("results/a.mp4") is None and list(blobs.list("results")) == []


def test_blob_stream_cap_stores_nothing(blobs: BlobStore) -> None:
    assert blobs.put_stream("uploads/x", io.BytesIO(b"x" * 101), max_bytes=100) is None
    assert blobs.stat("uploads/x") is None
    assert blobs.put_stream("uploads/x", io.BytesIO(b"x" * 100), max_bytes=100) is not None


def test_blob_keys_cannot_escape(blobs: BlobStore) -> None:
    with pytest.raises(ValueError):
        blobs.put_stream("../evil", io.BytesIO(b"x"), max_bytes=10)


def test_signed_urls_expire_and_resist_tampering() -> None:
    signer = Signer(b"secret")
    query = dict(p.split("=") for p in signer.signed_query("/r/a.mp4", 2000).split("&"))
    assert signer.check_url("/r/a.mp4", query["Expires"], query["Signature"], now=1999) == ""
    assert signer.check_url("/r/a.mp4", query["Expires"], query["Signature"], now=2001) == "expired"
    assert signer.check_url("/r/b.mp4", query["Expires"], query["Signature"], now=1999) == "bad"
    assert signer.check_url("/r/a.mp4", "3000", query["Signature"], now=1999) == "bad"
    assert not signer.check_policy("k1", "cG9saWN5", signer.sign_policy("k2", "cG9saWN5"))
