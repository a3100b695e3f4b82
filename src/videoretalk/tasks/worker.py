"""A worker process: take a task id, fetch its inputs, run the engine, store the result.

Media validation happens here (inside the engine), so a bad input ends its task
FAILED with the InvalidFile.* / InvalidURL.* code instead of failing the submit.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from ..config import Settings
from ..errors import VideoRetalkError
from ..ingest.download import DownloadPolicy, download
from ..ingest.netguard import AllowList
from ..ingest.uploads import OSS_SCHEME
from ..ops.logs import TASK_ID, setup_logging
from .backends import Backends, open_backends
from .progress import ProgressRecorder
from .records import TaskInputs, TaskResult

__all__ = ["load_engine", "run_task", "worker_main"]

log = logging.getLogger("videoretalk.worker")

Engine = Callable[..., Any]


class _Shutdown(BaseException):
    """Raised in the worker by SIGTERM so a task being run is handed back, not lost."""


def load_engine(spec: str) -> Engine:
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "retalk")  # type: ignore[no-any-return]


def download_policy(settings: Settings) -> DownloadPolicy:
    service = settings.service
    return DownloadPolicy(
        timeout_seconds=service.download_timeout_seconds,
        max_redirects=service.max_redirects,
        allow=AllowList.parse(service.url_allow_list),
    )


def _fetch(
    url: str,
    field: str,
    dest: Path,
    max_bytes: int,
    owner: str,
    backends: Backends,
    policy: DownloadPolicy,
) -> Path:
    if url.startswith(OSS_SCHEME):
        backends.blobs.fetch(backends.uploads.lookup(url, owner, field), dest)
    else:
        download(url, dest, field=field, max_bytes=max_bytes, policy=policy)
    return dest


def run_task(task_id: str, backends: Backends, worker: str, engine: Engine) -> None:
    store, settings = backends.store, backends.settings
    attempt = store.start(task_id, worker)
    if attempt is None:  # canceled (or already taken) since it was queued
        return
    record = store.get(task_id)
    assert record is not None
    inputs: TaskInputs = record.inputs
    workdir = backends.temp_dir / task_id
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    limits, policy = settings.limits, download_policy(settings)
    started = time.monotonic()
    progress = ProgressRecorder(store, task_id, attempt)
    try:
        progress("download", 0.0)
        video = _fetch(
            inputs.video_url,
            "video_url",
            workdir / "video",
            limits.video_max_bytes,
            record.owner,
            backends,
            policy,
        )
        audio = _fetch(
            inputs.audio_url,
            "audio_url",
            workdir / "audio",
            limits.audio_max_bytes,
            record.owner,
            backends,
            policy,
        )
        progress("download", 0.5)
        ref_image = None
        if inputs.ref_image_url:
            ref_image = _fetch(
                inputs.ref_image_url,
                "ref_image_url",
                workdir / "ref_image",
                limits.image_max_bytes,
                record.owner,
                backends,
                policy,
            )
        result = engine(
            video,
            audio,
            workdir / "output.mp4",
            ref_image=ref_image,
            video_extension=inputs.video_extension,
            settings=settings,
            query_face_threshold=inputs.query_face_threshold,
            progress=progress,
        )
        progress("store", 0.0)
        blob_key = f"results/{task_id}.mp4"
        backends.blobs.put_file(blob_key, Path(result.output))
        usage = result.usage
        store.succeed(
            task_id,
            attempt,
            TaskResult(
                blob_key=blob_key,
                video_duration=round(float(usage.video_duration), 3),
                video_ratio=str(getattr(usage, "video_ratio", "standard")),
            ),
        )
        log.info("task %s succeeded in %.1f s", task_id, time.monotonic() - started)
    except _Shutdown:
        # Not the task's fault: hand it back without spending an attempt.
        store.requeue(task_id, attempt, refund=True)
        backends.queue.put(task_id)
        raise
    except VideoRetalkError as error:
        store.fail(task_id, attempt, error.code, error.message)
        log.info("task %s failed: %s %s", task_id, error.code, error.message)
    except Exception as error:
        log.exception("task %s crashed", task_id)
        store.fail(
            task_id,
            attempt,
            "InternalError",
            f"processing failed unexpectedly ({type(error).__name__}); please retry",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _watch_parent(parent: int) -> None:
    # Orphaned by a `kill -9` of `serve`: stop at once, so a restarted service
    # does not find a ghost still writing to the task it has just retried.
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def worker_main(settings: Settings, slot: int, boot_id: str, parent: int) -> None:
    """Entry point of a worker process (started by `WorkerPool` in process `parent`).

    `parent` comes from the spawner, not from `os.getppid()` here: a worker spawned as
    `serve` stops takes a second to start, and by then its parent may be gone, its
    parent pid already 1; watching that, it never noticed and ran on as an orphan
    (seen after `test_worker_killed_mid_task_is_retried_once_then_failed`).
    """
    setup_logging(settings.log_level, settings.log_format)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    stopping = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        raise _Shutdown()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to serve, which stops us
    backends = open_backends(settings)
    engine = load_engine(settings.service.engine)
    name = f"{boot_id}/{slot}/{os.getpid()}"
    log.info("worker %s ready", name)
    try:
        while not stopping.is_set():
            task_id = backends.queue.get(timeout=1.0)
            if task_id is not None:
                TASK_ID.set(task_id)  # on every log line until the next task
                run_task(task_id, backends, name, engine)
    except _Shutdown:
        pass
