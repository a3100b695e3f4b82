"""What every handler needs, built once by the app factory and kept on `app.state`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from fastapi import Request

from ..config import Settings
from ..tasks.backends import Backends
from .keys import KeyStore

__all__ = ["ServiceContext", "TokenBuckets", "get_context"]


class TokenBuckets:
    """Per-key token buckets for submissions per second (burst = 2 s worth, at least 1)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill)

    def take(self, key: str, rate: float) -> bool:
        burst = max(1.0, 2.0 * rate)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._state[key] = (tokens, now)
                return False
            self._state[key] = (tokens - 1.0, now)
            return True


@dataclass
class ServiceContext:
    settings: Settings
    backends: Backends
    keys: KeyStore
    buckets: TokenBuckets = field(default_factory=TokenBuckets)
    # Serialises "count active tasks, then create one" so the cap holds under races.
    submit_lock: threading.Lock = field(default_factory=threading.Lock)

    def base_url(self, request: Request) -> str:
        configured = self.settings.public_base_url.rstrip("/")
        return configured or str(request.base_url).rstrip("/")


def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))
