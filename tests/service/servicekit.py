"""Helpers for the service tests: a loopback media server and a real `serve` process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MediaServer:
    """Serves files from a folder, plus misbehaving endpoints for the ingest tests.

    /redirect?to=URL  302 to URL         /status/N       answers HTTP N
    /slow             never finishes     /endless?n=BYTES  no Content-Length, BYTES then close
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.hits.append(f"{self.headers.get('Host')} {self.path}")
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query["to"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path.startswith("/status/"):
                    self.send_response(int(url.path.rsplit("/", 1)[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(5)
                elif url.path == "/endless":
                    self.send_response(200)
                    self.end_headers()
                    try:
                        self.wfile.write(b"x" * int(query["n"]))
                    except OSError:
                        pass
                else:
                    path = server.root / url.path.lstrip("/")
                    if not path.is_file():
                        self.send_error(404)
                        return
                    data = path.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def put(self, name: str, data: bytes | dict[str, object]) -> str:
        raw = json.dumps(data).encode() if isinstance(data, dict) else data
        (self.root / name).write_bytes(raw)
        return f"{self.base}/{name}"


class Service:
    """A real `python -m videoretalk.api serve` subprocess on loopback."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(HERE),
            "VIDEORETALK_DATA_DIR": str(data_dir),
            "VIDEORETALK_PORT": str(self.port),
            "VIDEORETALK_LOG_LEVEL": "warning",
            "VIDEORETALK_SERVICE_ENGINE": "fake_engine:retalk",
            "VIDEORETALK_SERVICE_WORKER_POLL_SECONDS": "0.1",
            "VIDEORETALK_SERVICE_KEY_SUBMITS_PER_SECOND": "50",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        # The child keeps its own copy of the descriptor; ours can close at once.
        with open(self.data_dir / "serve.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "videoretalk.api", "serve"],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {(self.data_dir / 'serve.log').read_text()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("serve did not come up in 60 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def create_key(self, name: str = "test", **limits: object) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "videoretalk.api",
                "keys",
                "create",
                "--name",
                name,
                "--json",
                *[f"--{k.replace('_', '-')}={v}" for k, v in limits.items()],
            ],
            env=self.env,
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return str(json.loads(out)["api_key"])

    def wait(self, key: str, task_id: str, timeout: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = httpx.get(
                f"{self.base}/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"}
            ).json()
            if body["output"]["task_status"] not in ("PENDING", "RUNNING"):
                return body  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"task {task_id} still {body['output']['task_status']}")
