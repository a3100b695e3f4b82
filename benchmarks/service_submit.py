"""Submit and fetch latency of `serve` (fake engine: measures the service, not the model).

.venv/bin/python benchmarks/service_submit.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
from servicekit import MediaServer, Service

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


def main(n: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        media = MediaServer(Path(tmp))
        (Path(tmp) / "svc").mkdir()
        started = time.perf_counter()
        service = Service(
            Path(tmp) / "svc",
            {
                "VIDEORETALK_WORKERS": "2",
                "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32",
                "VIDEORETALK_SERVICE_KEY_SUBMITS_PER_SECOND": "100000",
                "VIDEORETALK_SERVICE_KEY_MAX_ACTIVE_TASKS": "100000",
            },
        ).start()
        print(f"serve ready in {time.perf_counter() - started:.2f} s")
        try:
            key = service.create_key()
            body = {
                "model": "videoretalk",
                "input": {
                    "video_url": media.put("v.mp4", b"v"),
                    "audio_url": media.put("a.wav", b"a"),
                },
            }
            headers = {"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"}
            submit, fetch, ids = [], [], []
            with httpx.Client(base_url=service.base, headers=headers) as client:
                for _ in range(n):
                    t = time.perf_counter()
                    ids.append(client.post(SUBMIT, json=body).json()["output"]["task_id"])
                    submit.append(time.perf_counter() - t)
                for task_id in ids:
                    t = time.perf_counter()
                    client.get(f"/api/v1/tasks/{task_id}")
                    fetch.append(time.perf_counter() - t)
                t = time.perf_counter()
                for task_id in ids:
                    service.wait(key, task_id, timeout=300)
                drain = time.perf_counter() - t
            for name, xs in (("submit", submit), ("fetch", fetch)):
                xs.sort()
                print(
                    f"{name}: median {statistics.median(xs) * 1e3:.1f} ms, "
                    f"p95 {xs[int(0.95 * len(xs))] * 1e3:.1f} ms over {n}"
                )
            print(f"{n} trivial tasks drained by 2 workers {drain:.1f} s after the last submit")
        finally:
            service.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
