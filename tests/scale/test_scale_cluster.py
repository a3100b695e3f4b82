"""A real cluster on loopback: one `serve` API node and two `videoretalk worker`
nodes over Redis (a private redis-server, killed and restarted by one test),
PostgreSQL and S3 (moto), with the fake engine standing in for the pipeline."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clusterkit import REPO, SERVICE_TESTS, Moto, RedisServer, python_command
from servicekit import MediaServer, Service

from videoretalk.tasks.records import TaskStatus

pytest.importorskip("celery", reason="the cluster extra is in the test extra")

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


class Workers:
    """`videoretalk worker` processes, replaced when one dies (as systemd would)."""

    def __init__(self, env: dict[str, str], log_dir: Path, count: int) -> None:
        self.env, self.log_dir = env, log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        for _ in range(count):
            self.procs.append(self._spawn())
        self._watch = threading.Thread(target=self._keep_alive, daemon=True)
        self._watch.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        # The child keeps its own copy of the descriptor; ours can close at once.
        with open(self.log_dir / "workers.log", "ab") as log:
            return subprocess.Popen(
                python_command("worker"),
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _keep_alive(self) -> None:
        while not self._stop.wait(0.3):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None:
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        self._watch.join()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


class Cluster:
    def __init__(self, tmp: Path, database_url: str, moto: Moto) -> None:
        self.redis = RedisServer(tmp, persistent=False).start()
        env = {
            "PYTHONPATH": str(SERVICE_TESTS),
            "VIDEORETALK_LOG_LEVEL": "info",
            "VIDEORETALK_LOG_FORMAT": "json",
            "VIDEORETALK_SERVICE_SECRET_KEY": "cluster-secret",
            "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32",
            "VIDEORETALK_SERVICE_KEY_MAX_ACTIVE_TASKS": "20",
            "VIDEORETALK_CLUSTER_REDIS_URL": self.redis.url,
            "VIDEORETALK_CLUSTER_DATABASE_URL": database_url,
            "VIDEORETALK_CLUSTER_S3_BUCKET": moto.bucket(),
            "VIDEORETALK_CLUSTER_S3_ENDPOINT_URL": moto.url,
            "VIDEORETALK_CLUSTER_S3_REGION": "us-east-1",
            "VIDEORETALK_CLUSTER_S3_ADDRESSING_STYLE": "path",
            "VIDEORETALK_CLUSTER_LEASE_SECONDS": "2",
            "VIDEORETALK_CLUSTER_RECONCILE_INTERVAL_SECONDS": "1",
            "VIDEORETALK_CLUSTER_VISIBILITY_TIMEOUT_SECONDS": "60",
        }
        self.api = Service(tmp / "api", env)
        (tmp / "api").mkdir()
        self.api.env.update(env)  # Service's own defaults (engine, poll) stay
        self.api.start()
        worker_env = {**self.api.env, "VIDEORETALK_DATA_DIR": str(tmp / "worker")}
        self.workers = Workers(worker_env, tmp, 2)
        self.key = self.api.create_key("cluster", rate=50, max_active=20)
        from videoretalk.tasks.store_sql import SQLTaskStore

        self.store = SQLTaskStore(database_url)

    def submit(self, media: MediaServer, **directives: object) -> str:
        video = media.put(f"v-{uuid.uuid4().hex[:8]}.mp4", directives or b"video-bytes")
        body = {
            "model": "videoretalk",
            "input": {"video_url": video, "audio_url": media.put("a.wav", b"audio")},
        }
        rsp = httpx.post(
            self.api.base + SUBMIT,
            json=body,
            timeout=10,
            headers={"X-DashScope-Async": "enable", "Authorization": f"Bearer {self.key}"},
        )
        assert rsp.status_code == 200, rsp.text
        return str(rsp.json()["output"]["task_id"])

    def wait(self, task_id: str, timeout: float = 60) -> dict[str, object]:
        return self.api.wait(self.key, task_id, timeout)

    def wait_running(self, task_id: str, timeout: float = 30) -> int:
        """The pid of the worker running `task_id`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.store.get(task_id)
            if record and record.status is TaskStatus.RUNNING and record.worker:
                return int(record.worker.split("/")[1])
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} never started")

    def stop(self) -> None:
        self.workers.stop()
        self.api.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, moto: Moto
) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"), database_url, moto)
    yield c
    c.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    server = MediaServer(tmp_path_factory.mktemp("media"))
    yield server
    server.httpd.shutdown()


def _output(done: dict[str, object]) -> dict[str, object]:
    return done["output"]  # type: ignore[return-value]


def test_six_tasks_succeed_on_both_workers(cluster: Cluster, media: MediaServer) -> None:
    tasks = [cluster.submit(media, sleep=0.4) for _ in range(6)]
    outputs = [_output(cluster.wait(t)) for t in tasks]
    assert [o["task_status"] for o in outputs] == ["SUCCEEDED"] * 6
    url = str(outputs[0]["video_url"])
    assert "X-Amz-Signature=" in url and re.search(r"X-Amz-Expires=86[34]\d\d", url), url
    assert httpx.get(url).content == json.dumps({"sleep": 0.4}).encode()
    workers = {cluster.store.get(t).worker for t in tasks}  # type: ignore[union-attr]
    assert len(workers) == 2, workers
    ready = httpx.get(cluster.api.base + "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    metrics = httpx.get(cluster.api.base + "/metrics").text
    assert re.search(r'videoretalk_tasks\{status="SUCCEEDED"\} [6-9]', metrics), metrics
    assert "videoretalk_queue_depth 0.0" in metrics
    assert "videoretalk_processing_seconds_per_output_second_bucket" in metrics
    logs = [
        json.loads(line)
        for line in (cluster.api.data_dir.parent / "workers.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(entry.get("task_id") == tasks[0] for entry in logs)


def test_cancel_of_a_pending_task_holds_cluster_wide(cluster: Cluster, media: MediaServer) -> None:
    busy = [cluster.submit(media, sleep=1.5) for _ in range(2)]
    waiting = cluster.submit(media)
    rsp = httpx.post(
        f"{cluster.api.base}/api/v1/tasks/{waiting}/cancel",
        headers={"Authorization": f"Bearer {cluster.key}"},
    )
    assert rsp.status_code == 200, rsp.text
    for task in busy:
        assert _output(cluster.wait(task))["task_status"] == "SUCCEEDED"
    time.sleep(0.5)
    record = cluster.store.get(waiting)
    assert record is not None and record.status is TaskStatus.CANCELED and record.attempts == 0


def test_kill_9_of_a_worker_mid_task(cluster: Cluster, media: MediaServer) -> None:
    task = cluster.submit(media, sleep=3)
    os.kill(cluster.wait_running(task), signal.SIGKILL)
    assert _output(cluster.wait(task))["task_status"] == "SUCCEEDED"
    assert cluster.store.get(task).attempts == 2  # type: ignore[union-attr]
    # A task that kills every worker it lands on: FAILED after the limit, not stuck.
    doomed = cluster.submit(media, die=True)
    out = _output(cluster.wait(doomed))
    assert (out["task_status"], out["code"]) == ("FAILED", "InternalError")
    assert "tried 2 times" in str(out["message"])


def test_sigterm_lets_a_worker_finish_its_task(cluster: Cluster, media: MediaServer) -> None:
    task = cluster.submit(media, sleep=2)
    pid = cluster.wait_running(task)
    proc = next(p for p in cluster.workers.procs if p.pid == pid)
    proc.terminate()
    assert proc.wait(30) == 0
    assert _output(cluster.wait(task))["task_status"] == "SUCCEEDED"
    assert cluster.store.get(task).attempts == 1  # type: ignore[union-attr]


def test_restart_of_api_and_redis_loses_nothing(cluster: Cluster, media: MediaServer) -> None:
    tasks = [cluster.submit(media, sleep=0.5) for _ in range(5)]
    cluster.redis.stop(signal.SIGKILL)  # no persistence: the queue is gone
    cluster.api.stop(signal.SIGKILL)
    cluster.redis.start()
    cluster.api.start()
    for task in tasks:
        assert _output(cluster.wait(task, timeout=90))["task_status"] == "SUCCEEDED"
    assert not cluster.store.pending() and not cluster.store.running()
