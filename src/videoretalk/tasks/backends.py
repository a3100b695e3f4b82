"""The one place where the service's backends are chosen and wired.

Embedded default: one SQLite file for tasks, queue and uploads, blobs on local
disk, all under `data_dir`. A cluster (issue 8, docs/deploy.md) swaps each one
by its `VIDEORETALK_CLUSTER_*` setting: the queue for Celery on Redis, tasks,
keys and the upload index for a SQLAlchemy database (PostgreSQL), blobs for S3.
Their modules are imported only when chosen: the default install lacks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..ingest.uploads import Uploads
from ..storage.blobs import BlobStore, LocalBlobStore
from ..storage.signing import Signer, load_secret
from .queue import SQLiteTaskQueue, TaskQueue
from .store import SQLiteTaskStore, TaskStore

__all__ = ["Backends", "open_backends"]

DB_FILE = "service.db"


@dataclass(frozen=True)
class Backends:
    settings: Settings
    store: TaskStore
    queue: TaskQueue
    blobs: BlobStore
    uploads: Uploads
    signer: Signer
    db_path: Path
    temp_dir: Path
    # The API key store when it is shared (SQL); None = SQLite in `db_path`.
    keys: Any = None
    # True when tasks are run by `videoretalk worker` nodes, not `serve`'s pool.
    distributed: bool = False


def open_backends(settings: Settings) -> Backends:
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    db_path = data / DB_FILE
    service, cluster = settings.service, settings.cluster
    blobs: BlobStore = LocalBlobStore(data / "blobs")
    if cluster.s3_bucket:
        from ..storage.blobs_s3 import S3BlobStore

        blobs = S3BlobStore(
            cluster.s3_bucket,
            prefix=cluster.s3_prefix,
            endpoint_url=cluster.s3_endpoint_url,
            public_endpoint_url=cluster.s3_public_endpoint_url,
            region=cluster.s3_region,
            access_key_id=cluster.s3_access_key_id,
            secret_access_key=cluster.s3_secret_access_key,
            addressing_style=cluster.s3_addressing_style,
        )
    store: TaskStore = SQLiteTaskStore(db_path)
    keys, upload_index = None, None
    if cluster.database_url:
        from .accounts_sql import SQLKeyStore, SQLUploadIndex
        from .sql_schema import open_engine
        from .store_sql import SQLTaskStore

        engine = open_engine(cluster.database_url)
        store, keys, upload_index = (
            SQLTaskStore(engine),
            SQLKeyStore(engine),
            SQLUploadIndex(engine),
        )
    queue: TaskQueue = SQLiteTaskQueue(db_path, poll_seconds=service.worker_poll_seconds)
    if cluster.redis_url:
        from .queue_redis import RedisTaskQueue

        queue = RedisTaskQueue(cluster)
    signer = Signer(load_secret(service.secret_key, data))
    uploads = Uploads(
        db_path,
        blobs,
        signer,
        max_bytes=settings.limits.video_max_bytes,  # the largest input kind
        ttl_seconds=service.upload_ttl_seconds,
        policy_ttl_seconds=service.upload_policy_ttl_seconds,
        index=upload_index,
    )
    temp_dir = data / "tmp"
    temp_dir.mkdir(exist_ok=True)
    return Backends(
        settings=settings,
        store=store,
        queue=queue,
        blobs=blobs,
        uploads=uploads,
        signer=signer,
        db_path=db_path,
        temp_dir=temp_dir,
        keys=keys,
        distributed=bool(cluster.redis_url),
    )
