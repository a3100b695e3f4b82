"""The queue, task store and blob store conformance suites, run against the
cluster backends: Celery/Redis, PostgreSQL (and SQLite through SQLAlchemy), S3.

The suites are the very functions of tests/service/test_service_backends.py,
imported so that pytest runs them here with this module's fixtures.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clusterkit import REDIS_ENV, Moto, need_env
from service.test_service_backends import (  # noqa: F401  (collected and run here)
    test_blob_keys_cannot_escape,
    test_blob_roundtrip_ranges_and_listing,
    test_blob_stream_cap_stores_nothing,
    test_queue_get_waits_for_a_put,
    test_queue_hands_each_id_to_one_taker,
    test_queue_is_fifo_and_put_is_idempotent,
    test_store_cancel_only_pending,
    test_store_lifecycle_and_fencing,
    test_store_progress_is_fenced_and_cleared,
    test_store_query_filters_and_pages,
    test_store_refunded_requeue_keeps_the_attempt,
)

from videoretalk.config import ClusterSettings
from videoretalk.storage.blobs import BlobStore
from videoretalk.tasks.records import TaskInputs, TaskRecord, TaskResult
from videoretalk.tasks.store import TaskStore

pytest.importorskip("sqlalchemy", reason="the cluster extra is in the test extra")


@pytest.fixture(params=["redis"])
def queue(request: pytest.FixtureRequest) -> Iterator[object]:
    from videoretalk.tasks.queue_redis import RedisTaskQueue

    cluster = ClusterSettings(
        redis_url=need_env(REDIS_ENV), queue_name="conformance-" + secrets.token_hex(4)
    )
    q = RedisTaskQueue(cluster)
    yield q
    q.purge()


@pytest.fixture(params=["postgresql", "sqlalchemy-sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskStore]:
    from sqlalchemy import text

    from videoretalk.tasks.store_sql import SQLTaskStore

    if request.param == "postgresql":
        url = request.getfixturevalue("database_url")
    else:
        url = f"sqlite:///{tmp_path / 'tasks.db'}"
    sql = SQLTaskStore(url)
    with sql.engine.begin() as db:
        db.execute(text("DELETE FROM tasks"))
    yield sql
    sql.engine.dispose()


@pytest.fixture(params=["s3"])
def blobs(request: pytest.FixtureRequest, moto: Moto) -> BlobStore:
    from videoretalk.storage.blobs_s3 import S3BlobStore

    return S3BlobStore(
        moto.bucket(),
        prefix="svc/",
        endpoint_url=moto.url,
        region="us-east-1",
        addressing_style="path",
    )


# -- beyond the shared suites ----------------------------------------------------
def test_s3_presigned_url_serves_ranges_and_expires(blobs: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "out.mp4"
    src.write_bytes(b"0123456789")
    blobs.put_file("results/t.mp4", src)
    url = blobs.url("results/t.mp4", time.time() + 24 * 3600, "t.mp4")
    assert url is not None and "X-Amz-Signature=" in url
    assert "X-Amz-Expires=86399" in url or "X-Amz-Expires=86400" in url
    assert httpx.get(url).content == b"0123456789"
    assert httpx.get(url, headers={"Range": "bytes=2-4"}).content == b"234"
    # (moto does not check signatures; real S3, MinIO and OSS do.)


def test_sql_keys_and_upload_index(database_url: str) -> None:
    from videoretalk.tasks.accounts_sql import SQLKeyStore, SQLUploadIndex
    from videoretalk.tasks.sql_schema import open_engine

    engine = open_engine(database_url)
    keys = SQLKeyStore(engine)
    key, secret = keys.create("alice", 1.5, 3)
    found = keys.authenticate(secret)
    assert found is not None and (found.key_id, found.max_active_tasks) == (key.key_id, 3)
    assert key.key_id in [k.key_id for k in keys.list()]
    assert keys.revoke(key.key_id) and not keys.revoke(key.key_id)
    assert keys.authenticate(secret) is None
    index = SQLUploadIndex(engine)
    name = "videoretalk/k/" + secrets.token_hex(4) + "/a.wav"
    index.add(name, "k", "uploads/1", 5, time.time())
    index.add(name, "k", "uploads/2", 6, time.time())  # replaces, as SQLite does
    assert index.exists(name) and index.find(name, "k", 0) == "uploads/2"
    assert index.find(name, "other", 0) is None
    assert (name, "uploads/2") in index.older_than(time.time() + 1)
    index.remove(name)
    assert not index.exists(name)


def test_migrations_are_idempotent_across_nodes(database_url: str) -> None:
    from sqlalchemy import text

    from videoretalk.tasks.sql_schema import VERSION_TABLE, open_engine

    for _ in range(2):  # a second node starting finds the schema current
        engine = open_engine(database_url)
    with engine.connect() as db:
        assert db.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == "0001"


def test_lease_is_exclusive_and_renewed() -> None:
    from videoretalk.tasks.queue_redis import RedisTaskQueue

    q = RedisTaskQueue(
        ClusterSettings(
            redis_url=need_env(REDIS_ENV),
            lease_seconds=0.6,
            queue_name="lease-" + secrets.token_hex(4),
        )
    )
    task_id = secrets.token_hex(4)
    first, second = q.lease(task_id, "w1"), q.lease(task_id, "w2")
    assert first.acquire()
    try:
        time.sleep(1.0)  # longer than the lease: only renewal keeps it
        assert not second.acquire() and q.lease_holder(task_id) == "w1"
    finally:
        first.release()
    assert q.lease_holder(task_id) is None and second.acquire()
    second.release()


def test_put_after_take_queues_again() -> None:
    from videoretalk.tasks.queue_redis import RedisTaskQueue

    q = RedisTaskQueue(
        ClusterSettings(redis_url=need_env(REDIS_ENV), queue_name="retake-" + secrets.token_hex(4))
    )
    try:
        q.put("a")
        assert q.get(timeout=2) == "a"
        q.put("a")  # e.g. requeued after its worker died
        assert len(q) == 1 and q.get(timeout=2) == "a"
    finally:
        q.purge()


def test_stats_for_metrics(store: TaskStore) -> None:
    from videoretalk.tasks.stats import task_stats

    for i, outcome in enumerate(["ok", "ok", "bad"]):
        task_id = f"s{i}"
        store.create(
            TaskRecord(
                task_id=task_id,
                owner="k",
                request_id="r",
                inputs=TaskInputs("http://a/v", "http://a/a"),
            )
        )
        store.start(task_id, "w")
        if outcome == "ok":
            store.succeed(task_id, 1, TaskResult(f"results/{task_id}.mp4", 5.0))
        else:
            store.fail(task_id, 1, "InvalidFile.Resolution", "small")
    stats = task_stats(store, since=time.time() - 60)
    assert stats.by_status == {"SUCCEEDED": 2, "FAILED": 1}
    assert stats.failures_by_code == {"InvalidFile.Resolution": 1}
    assert len(stats.recent_runs) == 2 and all(out == 5.0 for _, out in stats.recent_runs)


def test_upload_through_s3_and_sql_index(database_url: str, moto: Moto) -> None:
    from videoretalk.ingest.uploads import Uploads
    from videoretalk.storage.blobs_s3 import S3BlobStore
    from videoretalk.storage.signing import Signer
    from videoretalk.tasks.accounts_sql import SQLUploadIndex
    from videoretalk.tasks.sql_schema import open_engine

    blobs = S3BlobStore(
        moto.bucket(), endpoint_url=moto.url, region="us-east-1", addressing_style="path"
    )
    uploads = Uploads(
        Path("/nonexistent"),
        blobs,
        Signer(b"s"),
        max_bytes=100,
        ttl_seconds=60,
        policy_ttl_seconds=60,
        index=SQLUploadIndex(open_engine(database_url)),
    )
    policy = uploads.issue_policy("k", "http://x/up")
    uploads.accept(
        "k", policy.policy, policy.signature, policy.upload_dir + "/a.wav", io.BytesIO(b"audio")
    )
    blob_key = uploads.lookup(f"oss://{policy.upload_dir}/a.wav", "k", "audio_url")
    assert b"".join(blobs.read(blob_key)) == b"audio"
