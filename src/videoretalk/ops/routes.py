"""`/healthz`, `/readyz` and `/metrics`, kept out of the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..tasks.backends import Backends
from .health import readiness

__all__ = ["ops_router"]


def ops_router(backends: Backends) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await run_in_threadpool(readiness, backends)
        ready = all(c.ok for c in checks)
        body = {
            "status": "ready" if ready else "unavailable",
            "checks": {
                c.name: {
                    "ok": c.ok,
                    "ms": round(c.seconds * 1000, 1),
                    **({"error": c.error} if c.error else {}),
                }
                for c in checks
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        try:
            from .metrics import render_metrics

            payload, content_type = await run_in_threadpool(render_metrics, backends)
        except ImportError:
            return Response(
                "metrics need the prometheus-client package: pip install 'videoretalk[cluster]'\n",
                status_code=501,
                media_type="text/plain",
            )
        return Response(payload, media_type=content_type)

    return router
