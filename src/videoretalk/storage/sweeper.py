"""Deletes what has outlived its promise: results after 24 h, uploads after 48 h,
and working folders of tasks that are no longer running."""

from __future__ import annotations

import logging
import shutil
import threading
import time

from ..tasks.backends import Backends

__all__ = ["Sweeper", "sweep"]

log = logging.getLogger("videoretalk.sweeper")


def sweep(backends: Backends, now: float | None = None) -> dict[str, int]:
    """One pass; returns how many of each kind were removed."""
    now = time.time() if now is None else now
    service = backends.settings.service
    removed = {"results": 0, "uploads": 0, "temp": 0}
    for record in backends.store.expired_results(before=now - service.result_ttl_seconds):
        if record.result and record.result.blob_key:
            backends.blobs.delete(record.result.blob_key)
            backends.store.drop_result(record.task_id)
            removed["results"] += 1
    removed["uploads"] = backends.uploads.expire(now)
    running = {r.task_id for r in backends.store.running()}
    for folder in backends.temp_dir.iterdir():
        try:
            old = folder.stat().st_mtime < now - service.temp_ttl_seconds
        except FileNotFoundError:
            continue
        if folder.name not in running and old:
            shutil.rmtree(folder, ignore_errors=True)
            removed["temp"] += 1
    return removed


class Sweeper:
    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        interval = self.backends.settings.service.sweep_interval_seconds
        while True:
            try:
                removed = sweep(self.backends)
                if any(removed.values()):
                    log.info("swept %s", removed)
            except Exception:  # a failed sweep must not take the service down
                log.exception("sweep failed")
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        self._stop.set()
