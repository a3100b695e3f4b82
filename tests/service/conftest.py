"""Fixtures for the service tests (helpers live in servicekit.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # servicekit.py, fake_engine.py
from servicekit import MediaServer, Service


@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    server = MediaServer(tmp_path_factory.mktemp("media"))
    yield server
    server.httpd.shutdown()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service(
        tmp_path_factory.mktemp("svc"),
        {
            "VIDEORETALK_WORKERS": "2",
            "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32",
            "VIDEORETALK_SERVICE_DOWNLOAD_TIMEOUT_SECONDS": "2",
        },
    ).start()
    yield svc
    svc.stop()
