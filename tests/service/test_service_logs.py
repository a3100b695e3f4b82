"""With VIDEORETALK_LOG_FORMAT=json, every line `serve` prints is one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

from servicekit import Service


def test_serve_logs_are_json_lines_uvicorns_included(tmp_path: Path) -> None:
    service = Service(
        tmp_path, {"VIDEORETALK_LOG_FORMAT": "json", "VIDEORETALK_LOG_LEVEL": "info"}
    ).start()
    service.stop()
    lines = [line for line in (tmp_path / "serve.log").read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # raises on a plain-text line
    loggers = {entry["logger"] for entry in entries}
    assert "videoretalk.serve" in loggers and "uvicorn.error" in loggers
    assert all("color_message" not in entry for entry in entries)
