"""Outermost ASGI middleware: request id, body size cap, last-resort error body.

Pure ASGI rather than BaseHTTPMiddleware so that streamed bodies (uploads,
ranged downloads) pass through without being buffered.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InvalidParameter, VideoRetalkError
from ..ops.logs import REQUEST_ID

__all__ = ["BodyLimit", "RequestContextMiddleware", "error_body"]

log = logging.getLogger("videoretalk.api")


class BodyTooLarge(InvalidParameter):
    # 413 rather than InvalidParameter's 400, so proxies and clients see the size for what it is.
    status = 413


class BodyLimit(NamedTuple):
    max_bytes: int
    advice: str  # what the caller should do instead, ends the 413 message


def error_body(request_id: str, error: VideoRetalkError) -> dict[str, str]:
    return {"request_id": request_id, "code": error.code, "message": error.message}


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, body_limit: Callable[[Scope], BodyLimit]) -> None:
        self.app = app
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        REQUEST_ID.set(request_id)  # for log lines; ASGI runs each request in its own context
        limit = self.body_limit(scope)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        too_large = BodyTooLarge(
            f"The request body is larger than the {limit.max_bytes} bytes allowed here: "
            + limit.advice
        )
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit.max_bytes:
            await _send_error(send_with_id, request_id, too_large)
            return
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.max_bytes:
                    raise too_large
            return message

        try:
            await self.app(scope, capped_receive, send_with_id)
        except Exception as error:
            if started:
                raise
            if not isinstance(error, VideoRetalkError):
                log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                error = VideoRetalkError("internal error; please retry later")
            await _send_error(send_with_id, request_id, error)


async def _send_error(send: Send, request_id: str, error: VideoRetalkError) -> None:
    body = json.dumps(error_body(request_id, error)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
