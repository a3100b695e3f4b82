"""Fixtures for the console tests: a real `serve` with the media engine, and Chromium.

The browser is Debian's `chromium` (`apt-get install -y chromium`, as `.ci/run`
does), driven through Playwright's Python driver; Playwright's own browser
downloads are never used. Without either, the browser tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "service"))  # servicekit.py
from servicekit import Service

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def find_chromium() -> str | None:
    """`VIDEORETALK_TEST_CHROMIUM`, else Debian's chromium on PATH."""
    configured = os.environ.get("VIDEORETALK_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no chromium found: `apt-get install -y chromium` "
            "(or set VIDEORETALK_TEST_CHROMIUM) to run the console's browser tests"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def console_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One worker, so a second task waits PENDING while the first runs."""
    svc = Service(
        tmp_path_factory.mktemp("console"),
        {
            "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent / "service")]),
            "VIDEORETALK_WORKERS": "1",
            "VIDEORETALK_SERVICE_ENGINE": "media_engine:retalk",
            # ~10 s of render for a 5 s clip: long enough to watch the bar move.
            "VIDEORETALK_TEST_RENDER_DELAY": "0.08",
        },
    ).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path | None:
    """`VIDEORETALK_SCREENSHOTS=docs/screenshots` keeps the pictures of each step."""
    target = os.environ.get("VIDEORETALK_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
