"""The app factory: explicit middleware and error translation, routers, lifespan.

Middleware, outermost first:
  1. RequestContextMiddleware — request id (X-Request-Id), body cap, last-resort 500
  2. FastAPI's ExceptionMiddleware — VideoRetalkError → {"request_id","code","message"}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from ..config import Settings
from ..errors import InvalidParameter, VideoRetalkError
from ..ops.routes import ops_router
from ..tasks.backends import Backends, open_backends
from ..web import console_router
from . import routes_files, routes_tasks, routes_uploads
from .context import ServiceContext, request_id
from .keys import KeyStore
from .middleware import BodyLimit, RequestContextMiddleware, error_body

__all__ = ["create_app"]

# Multipart overhead on top of the largest file an upload policy allows.
_FORM_OVERHEAD_BYTES = 1024 * 1024


class _HttpError(VideoRetalkError):
    """A routing-level error (unknown path, wrong method) in the common error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


# DashScope's other model services. The SDK picks the path from its `task` argument, and
# `VideoSynthesis` defaults to "video-generation": a bare "Not Found" there does not say
# that videoretalk needs task="image2video".
_SERVICES_PREFIX = "/api/v1/services/"


def _wrong_service_message(path: str) -> str:
    return (
        f"No service at {path}: videoretalk is served at POST "
        f"{routes_tasks.router.prefix}{routes_tasks.SUBMIT_PATH}/ (with the dashscope SDK, pass task='image2video' "
        "to VideoSynthesis.async_call or VideoSynthesis.call)."
    )


def create_app(settings: Settings, backends: Backends | None = None) -> FastAPI:
    backends = backends or open_backends(settings)
    keys = backends.keys or KeyStore(backends.db_path)  # shared (SQL) in a cluster
    ctx = ServiceContext(settings=settings, backends=backends, keys=keys)
    app = FastAPI(
        title="videoretalk",
        version="0.1.0",
        description="DashScope-compatible lip-sync video service (model `videoretalk`).",
    )
    app.state.ctx = ctx

    upload_cap = settings.limits.video_max_bytes + _FORM_OVERHEAD_BYTES

    def body_limit(scope: Scope) -> BodyLimit:
        if scope["path"] == routes_uploads.UPLOAD_POST_PATH:
            return BodyLimit(upload_cap, "upload a file no larger than the video size limit.")
        return BodyLimit(
            settings.service.max_json_body_bytes,
            "pass media by URL (input.video_url, input.audio_url), not inside the body.",
        )

    app.add_middleware(RequestContextMiddleware, body_limit=body_limit)

    @app.exception_handler(VideoRetalkError)
    async def _service_error(request: Request, error: VideoRetalkError) -> JSONResponse:
        return JSONResponse(error_body(request_id(request), error), status_code=error.status)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(error.status_code, "InvalidRequest")
        message = str(error.detail)
        if error.status_code == 404 and request.url.path.startswith(_SERVICES_PREFIX):
            message = _wrong_service_message(request.url.path)
        wrapped = _HttpError(error.status_code, code, message)
        return JSONResponse(error_body(request_id(request), wrapped), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        wrapped = InvalidParameter(f"{where}: {first.get('msg', 'invalid')}")
        return JSONResponse(error_body(request_id(request), wrapped), status_code=400)

    app.include_router(ops_router(backends))  # /healthz, /readyz, /metrics
    app.include_router(routes_tasks.router)
    app.include_router(routes_uploads.router)
    app.include_router(routes_files.router)
    # The web console at /; its input hints state this server's limits.
    app.include_router(console_router(settings.public_base_url, settings.limits))
    return app
