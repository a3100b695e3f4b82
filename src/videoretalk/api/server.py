"""`videoretalk serve`: API, worker pool and sweeper in one command, one machine."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import uvicorn

from ..config import Settings
from ..errors import InvalidParameter
from ..ops.logs import setup_logging
from ..storage.sweeper import Sweeper
from ..tasks.backends import open_backends
from ..tasks.pool import WorkerPool
from .app import create_app

__all__ = ["serve"]

log = logging.getLogger("videoretalk.serve")


def _lock_data_dir(data_dir: Path) -> int:
    # The embedded backends assume one service per data folder: a second one would
    # "recover" the first one's running tasks.
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "serve.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InvalidParameter(f"another `videoretalk serve` is using {data_dir}") from None
    return fd


def serve(settings: Settings) -> None:
    setup_logging(settings.log_level, settings.log_format)
    lock = _lock_data_dir(Path(settings.data_dir))
    backends = open_backends(settings)
    pool, reconciler = None, None
    if backends.distributed:
        # Cluster: `videoretalk worker` nodes run tasks; this node only serves, and
        # re-queues what a lost broker or a dead worker left behind.
        from ..tasks.cluster import Reconciler

        reconciler = Reconciler(backends)
        reconciler.start()
    else:
        pool = WorkerPool(backends, settings.workers)
        pool.recover()
        pool.start()
    sweeper = Sweeper(backends)
    sweeper.start()
    app = create_app(settings, backends)
    log.info(
        "videoretalk serving on http://%s:%d with %s, data in %s",
        settings.host,
        settings.port,
        f"{settings.workers} workers" if pool else "cluster workers",
        settings.data_dir,
    )
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            # Uvicorn's own lines go through our handler, so VIDEORETALK_LOG_FORMAT=json
            # makes every line JSON, not only ours.
            log_config=None,
        )
    finally:
        sweeper.stop()
        if pool is not None:
            pool.stop()
        if reconciler is not None:
            reconciler.stop()
        os.close(lock)
