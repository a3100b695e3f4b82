"""The one place where the service's backends are chosen and wired.

Embedded default: one SQLite file for tasks, queue and uploads, blobs on local
disk, all under `data_dir`. A distributed deployment swaps implementations here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def open_backends(settings: Settings) -> Backends:
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    db_path = data / DB_FILE
    service = settings.service
    blobs = LocalBlobStore(data / "blobs")
    signer = Signer(load_secret(service.secret_key, data))
    uploads = Uploads(
        db_path, blobs, signer,
        max_bytes=settings.limits.video_max_bytes,  # the largest input kind
        ttl_seconds=service.upload_ttl_seconds,
        policy_ttl_seconds=service.upload_policy_ttl_seconds,
    )
    temp_dir = data / "tmp"
    temp_dir.mkdir(exist_ok=True)
    return Backends(
        settings=settings,
        store=SQLiteTaskStore(db_path),
        queue=SQLiteTaskQueue(db_path, poll_seconds=service.worker_poll_seconds),
        blobs=blobs,
        uploads=uploads,
        signer=signer,
        db_path=db_path,
        temp_dir=temp_dir,
    )
