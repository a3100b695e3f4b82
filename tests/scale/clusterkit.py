"""Real servers for the scale tests: PostgreSQL and Redis from the environment (or a
private `redis-server`), and an S3 endpoint (moto in server mode) on loopback.

CI (`.ci/run`) starts Redis and PostgreSQL and exports
`VIDEORETALK_TEST_REDIS_URL` and `VIDEORETALK_TEST_DATABASE_URL`; without them
the tests that need them skip, saying which variable is missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SERVICE_TESTS = HERE.parent / "service"  # fake_engine.py, servicekit.py

REDIS_ENV = "VIDEORETALK_TEST_REDIS_URL"
DATABASE_ENV = "VIDEORETALK_TEST_DATABASE_URL"


def need_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.skip(f"{name} is not set: start the server and export it (see .ci/run)")
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private `redis-server` on loopback, which a test may kill and restart."""

    def __init__(self, folder: Path, persistent: bool = True) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistent = persistent
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.folder),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
            self.proc = None


def fresh_database(base_url: str) -> tuple[str, str]:
    """Create an empty database next to `base_url`'s; returns (url, name)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "videoretalk_t" + secrets.token_hex(4)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), name


def drop_database(base_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Moto:
    """moto's S3 in server mode, on loopback; clients reach it over real HTTP."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def bucket(self) -> str:
        import boto3

        name = "videoretalk-" + secrets.token_hex(4)
        boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.server.stop()


def python_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "videoretalk.api", *args]
