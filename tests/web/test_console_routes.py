"""The console's routes in-process: the page, its assets, headers, and its API paths."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from videoretalk.api import create_app
from videoretalk.api.routes_tasks import SUBMIT_PATH
from videoretalk.api.routes_uploads import UPLOAD_POST_PATH
from videoretalk.config import Settings
from videoretalk.limits import MB, InputLimits


class _Client:
    """Requests straight into the ASGI app (no server, no lifespan)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, path: str) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as c:
                return await c.request(method, path)

        # A thread of its own: Playwright's sync API may hold this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, send()).result()

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def head(self, path: str) -> httpx.Response:
        return self.request("HEAD", path)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> _Client:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-routes"),
        public_base_url="https://retalk.example.com",
    )
    return _Client(create_app(settings))


def test_page_and_assets(client: _Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' https://retalk.example.com" in policy
    assets = re.findall(r'(?:href|src)="(/console/[^"]+)"', page.text)
    assert sorted(assets) == ["/console/console.css", "/console/console.js"]
    for path, kind in zip(sorted(assets), ("text/css", "text/javascript")):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    assert client.head("/").status_code == 200


def test_only_listed_assets_are_served(client: _Client) -> None:
    for path in ("/console/index.html", "/console/..%2F__init__.py", "/console/nope.js"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "NotFound"


def test_page_uses_the_public_api_paths(client: _Client) -> None:
    script = client.get("/console/console.js").text
    assert '"/api/v1"' in script
    assert 'API + "' + SUBMIT_PATH + '"' in script
    assert "/uploads?action=getPolicy&model=videoretalk" in script
    assert "upload_host" in script and UPLOAD_POST_PATH not in script  # the policy says where
    assert ".innerHTML" not in script  # server data is only ever set as text


def _hints(page: str) -> list[str]:
    return re.findall(r'<p class="hint">([^<]*)</p>', page)


def test_input_hints_state_the_default_limits(client: _Client) -> None:
    page = client.get("/").text
    assert "{{" not in page
    video, audio, image = _hints(page)
    assert video == "MP4, MOV or AVI · 2–120 s · 15–60 fps · each side 640–2048 px · ≤ 300 MB"
    assert audio == "WAV, MP3, AAC or M4A · 2–120 s · ≤ 30 MB"
    assert image.endswith("JPEG, PNG, BMP, WebP · long side ≤ 4096 px · ≤ 10 MB")


def test_input_hints_follow_limits_an_operator_raised(tmp_path: Path) -> None:
    limits = InputLimits(
        video_max_seconds=600,
        video_max_side_px=3840,
        video_max_bytes=2048 * MB,
        audio_max_seconds=600.5,
        image_max_bytes=25 * MB,
    )
    page = _Client(create_app(Settings(data_dir=tmp_path, limits=limits))).get("/").text
    video, audio, image = _hints(page)
    assert "2–600 s" in video and "640–3840 px" in video and "≤ 2048 MB" in video
    assert "2–600.5 s" in audio
    assert image.endswith("≤ 25 MB")


def test_static_files_ship_with_the_package() -> None:
    import videoretalk.web

    static = Path(videoretalk.web.__file__).parent / "static"
    assert {p.name for p in static.iterdir()} >= {"index.html", "console.css", "console.js"}
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/static/*"' in pyproject
