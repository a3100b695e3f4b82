"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can reach
its task store, queue and blob store). Each check uses only the interfaces'
own read methods, so it is the same for the embedded and cluster backends."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..tasks.backends import Backends

__all__ = ["Check", "readiness"]

_PROBE = "readyz-probe"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    seconds: float
    error: str = ""


def _timed(name: str, probe: Callable[[], object]) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # noqa: BLE001 (any failure means not ready)
        return Check(name, False, time.perf_counter() - started, f"{type(error).__name__}: {error}")
    return Check(name, True, time.perf_counter() - started)


def readiness(backends: Backends) -> list[Check]:
    return [
        _timed("store", lambda: backends.store.get(_PROBE)),
        _timed("queue", lambda: len(backends.queue)),
        _timed("blobs", lambda: backends.blobs.stat("probes/" + _PROBE)),
    ]
