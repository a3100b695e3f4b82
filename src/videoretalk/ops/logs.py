"""Logging set-up: plain text for a terminal, or one JSON object per line.

`request_id` and `task_id` ride in context variables, set by the HTTP middleware
and by the worker around a task, so every line logged meanwhile — ours, or a
library's — carries them without being passed down. Starlette copies the
context into the thread pool, so handlers running there see the request id.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from contextvars import ContextVar

__all__ = ["REQUEST_ID", "TASK_ID", "JsonFormatter", "setup_logging"]

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
TASK_ID: ContextVar[str] = ContextVar("task_id", default="")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")
# Attributes every LogRecord has; anything else was passed as `extra=`.
# Uvicorn's `color_message` (its message again, with terminal colour codes) is dropped too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.static = {"service": service, "host": socket.gethostname()}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **self.static,
            "pid": record.process or os.getpid(),
        }
        for name, var in (("request_id", REQUEST_ID), ("task_id", TASK_ID)):
            value = getattr(record, name, None) or var.get()
            if value:
                entry[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value if isinstance(value, (int, float, bool, str)) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, log_format: str, service: str = "videoretalk") -> None:
    """Configure the root logger once per process (`serve`, `worker`, worker children)."""
    if log_format not in LOG_FORMATS:
        from ..errors import InvalidParameter

        raise InvalidParameter(
            f"VIDEORETALK_LOG_FORMAT must be one of {LOG_FORMATS}, got {log_format!r}"
        )
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(service) if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per hop is noise
