"""Operations: structured logs, Prometheus metrics, health and readiness checks."""

from __future__ import annotations

from .logs import REQUEST_ID, TASK_ID, setup_logging

__all__ = ["REQUEST_ID", "TASK_ID", "setup_logging"]
