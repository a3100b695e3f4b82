"""Cluster throughput and queue overhead on this machine (issue 8).

Starts a real cluster on loopback — a private redis-server, PostgreSQL from
VIDEORETALK_TEST_DATABASE_URL (a fresh database, dropped after), moto's S3,
one `serve` API node and N `videoretalk worker` nodes — with the fake engine
taking a fixed time per task, and prints:

  * tasks per minute with 1 and 2 worker processes (TASKS tasks of ENGINE_SECONDS each);
  * queue overhead per task on an idle cluster: submit → start (the store's
    scheduled_time − submit_time) and end → visible (first client poll seeing
    SUCCEEDED − the store's end_time; polls every 10 ms).

    VIDEORETALK_TEST_DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/scale_cluster.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "scale"), str(REPO / "tests" / "service")]
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

from clusterkit import (
    DATABASE_ENV,
    SERVICE_TESTS,
    Moto,
    RedisServer,
    drop_database,
    fresh_database,
    python_command,
)
from servicekit import MediaServer, Service

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


def _env(redis_url: str, database_url: str, moto: Moto) -> dict[str, str]:
    return {
        "PYTHONPATH": str(SERVICE_TESTS),
        "VIDEORETALK_LOG_LEVEL": "warning",
        "VIDEORETALK_SERVICE_SECRET_KEY": "bench",
        "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32",
        "VIDEORETALK_SERVICE_KEY_MAX_ACTIVE_TASKS": "1000",
        "VIDEORETALK_CLUSTER_REDIS_URL": redis_url,
        "VIDEORETALK_CLUSTER_DATABASE_URL": database_url,
        "VIDEORETALK_CLUSTER_S3_BUCKET": moto.bucket(),
        "VIDEORETALK_CLUSTER_S3_ENDPOINT_URL": moto.url,
        "VIDEORETALK_CLUSTER_S3_REGION": "us-east-1",
        "VIDEORETALK_CLUSTER_S3_ADDRESSING_STYLE": "path",
    }


class Bench:
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        (tmp / "api").mkdir()
        self.api = Service(tmp / "api", env)
        self.api.env.update(env)
        self.api.start()
        self.key = self.api.create_key("bench", rate=1000, max_active=1000)
        self.media = MediaServer(tmp)
        self.audio = self.media.put("a.wav", b"audio")
        self.worker_env = {**self.api.env, "VIDEORETALK_DATA_DIR": str(tmp / "worker")}
        self.workers: list[subprocess.Popen[bytes]] = []
        self.client = httpx.Client(headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def scale_to(self, n: int) -> None:
        while len(self.workers) < n:
            self.workers.append(
                subprocess.Popen(
                    python_command("worker"),
                    env=self.worker_env,
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        # Warm-up: every worker has taken a task once (imports, connections).
        self.run_batch(2 * n, 0.2)

    def submit(self, seconds: float) -> str:
        video = self.media.put(f"v-{uuid.uuid4().hex[:8]}", {"sleep": seconds})
        rsp = self.client.post(
            self.api.base + SUBMIT,
            headers={"X-DashScope-Async": "enable"},
            json={"model": "videoretalk", "input": {"video_url": video, "audio_url": self.audio}},
        )
        rsp.raise_for_status()
        return str(rsp.json()["output"]["task_id"])

    def wait(self, task_id: str) -> float:
        """Seconds since the epoch at which SUCCEEDED was first seen."""
        while True:
            body = self.client.get(f"{self.api.base}/api/v1/tasks/{task_id}").json()
            status = body["output"]["task_status"]
            if status == "SUCCEEDED":
                return time.time()
            if status not in ("PENDING", "RUNNING"):
                raise RuntimeError(f"task {task_id} ended {status}: {body}")
            time.sleep(0.01)

    def run_batch(self, count: int, seconds: float) -> float:
        started = time.perf_counter()
        tasks = [self.submit(seconds) for _ in range(count)]
        for task in tasks:
            self.wait(task)
        return time.perf_counter() - started

    def stop(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            proc.wait(30)
        self.api.stop()
        self.media.httpd.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=16, help="tasks per throughput run")
    parser.add_argument("--engine-seconds", type=float, default=1.0, help="fake engine time")
    parser.add_argument("--overhead-samples", type=int, default=10)
    args = parser.parse_args()
    base = os.environ.get(DATABASE_ENV)
    if not base:
        raise SystemExit(f"set {DATABASE_ENV} (a PostgreSQL URL whose role may create databases)")
    from videoretalk.tasks.store_sql import SQLTaskStore

    database_url, db_name = fresh_database(base)
    moto = Moto()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis = RedisServer(tmp, persistent=False).start()
        bench = Bench(tmp, _env(redis.url, database_url, moto))
        store = SQLTaskStore(database_url)
        try:
            print(
                f"fake engine {args.engine_seconds:g} s per task, {args.tasks} tasks per run, "
                f"{os.cpu_count()} CPU cores"
            )
            for workers in (1, 2):
                bench.scale_to(workers)
                wall = bench.run_batch(args.tasks, args.engine_seconds)
                ideal = 60.0 * workers / args.engine_seconds
                print(
                    f"{workers} worker(s): {args.tasks / wall * 60:6.1f} tasks/min "
                    f"(ideal {ideal:.0f}; {wall:.1f} s wall)"
                )
            to_start, to_visible = [], []
            for _ in range(args.overhead_samples):
                task = bench.submit(0.0)
                seen = bench.wait(task)
                record = store.get(task)
                assert record and record.scheduled_time and record.end_time
                to_start.append(record.scheduled_time - record.submit_time)
                to_visible.append(seen - record.end_time)
            for name, values in (("submit → start", to_start), ("end → visible", to_visible)):
                print(
                    f"queue overhead {name}: median {statistics.median(values) * 1000:.0f} ms, "
                    f"max {max(values) * 1000:.0f} ms over {len(values)} idle-cluster tasks"
                )
        finally:
            bench.stop()
            redis.stop()
            moto.stop()
            store.engine.dispose()
            drop_database(base, db_name)


if __name__ == "__main__":
    main()
