"""No task lost, none stuck: worker crashes and whole-service restarts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from servicekit import MediaServer, Service

from videoretalk.config import Settings
from videoretalk.tasks.records import TaskStatus
from videoretalk.tasks.store import SQLiteTaskStore
from videoretalk.tasks.worker import worker_main

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


def _submit(service: Service, key: str, media_server: MediaServer, **directives: object) -> str:
    video = media_server.put(f"v-{uuid.uuid4().hex[:8]}.mp4", directives)
    audio = media_server.put("a.wav", b"a")
    response = httpx.post(
        service.base + SUBMIT,
        json={"model": "videoretalk", "input": {"video_url": video, "audio_url": audio}},
        headers={"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["output"]["task_id"])


def _wait_running(store: SQLiteTaskStore, task_id: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = store.get(task_id)
        if record and record.status is TaskStatus.RUNNING and record.worker:
            return int(record.worker.rsplit("/", 1)[1])
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never ran")


def test_worker_killed_mid_task_is_retried_once_then_failed(
    tmp_path: Path, media_server: MediaServer
) -> None:
    service = Service(
        tmp_path, {"VIDEORETALK_WORKERS": "1", "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32"}
    ).start()
    try:
        key = service.create_key()
        store = SQLiteTaskStore(tmp_path / "service.db")
        # kill -9 the worker mid-run: the task is run again and succeeds.
        task = _submit(service, key, media_server, sleep=2)
        os.kill(_wait_running(store, task), signal.SIGKILL)
        done = service.wait(key, task)
        assert done["output"]["task_status"] == "SUCCEEDED"  # type: ignore[index]
        assert store.get(task).attempts == 2  # type: ignore[union-attr]
        # A task that kills its worker every time: FAILED after the retry, with a reason.
        doomed = _submit(service, key, media_server, die=True)
        done = service.wait(key, doomed)
        assert done["output"]["task_status"] == "FAILED"  # type: ignore[index]
        assert done["output"]["code"] == "InternalError"  # type: ignore[index]
        assert "tried 2 times" in done["output"]["message"]  # type: ignore[index]
        # And the pool still works afterwards.
        after = _submit(service, key, media_server)
        assert service.wait(key, after)["output"]["task_status"] == "SUCCEEDED"  # type: ignore[index]
    finally:
        service.stop()


def test_restart_of_the_whole_service_loses_nothing(
    tmp_path: Path, media_server: MediaServer
) -> None:
    env = {"VIDEORETALK_WORKERS": "1", "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32"}
    service = Service(tmp_path, env).start()
    key = service.create_key()
    store = SQLiteTaskStore(tmp_path / "service.db")
    running = _submit(service, key, media_server, sleep=3)
    pending = [_submit(service, key, media_server) for _ in range(2)]
    _wait_running(store, running)
    service.stop(signal.SIGKILL)  # the whole process group, workers included
    assert store.get(running).status is TaskStatus.RUNNING  # type: ignore[union-attr]

    service = Service(tmp_path, env)
    service.start()
    try:
        for task in (running, *pending):
            done = service.wait(key, task)
            assert done["output"]["task_status"] == "SUCCEEDED", done  # type: ignore[index]
        assert not store.running() and not store.pending()
    finally:
        service.stop()


def test_a_worker_whose_spawner_is_already_gone_exits(tmp_path: Path) -> None:
    """A worker the pool spawns just as `serve` stops may start after its parent has
    exited: it must still notice (and exit), not serve the queue as an orphan."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that is no one's parent any more
    settings = Settings.from_env(
        environ={
            "VIDEORETALK_DATA_DIR": str(tmp_path),
            "VIDEORETALK_SERVICE_ENGINE": "fake_engine:retalk",
        }
    )
    worker = multiprocessing.get_context("spawn").Process(
        target=worker_main, args=(settings, 0, "test", gone.pid), daemon=True
    )
    worker.start()
    worker.join(30)
    if worker.is_alive():
        worker.kill()
        worker.join()
    assert worker.exitcode == 3
