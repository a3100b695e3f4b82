"""Result downloads by signed, expiring URL, with HTTP Range support."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from ..errors import AccessDenied, InvalidParameter
from ..tasks.records import TaskRecord
from .context import ServiceContext, get_context, request_id
from .middleware import error_body

__all__ = ["result_url", "router"]

router = APIRouter(tags=["files"])

RESULT_PATH = "/api/v1/results/{task_id}.mp4"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(InvalidParameter):
    status = 416


def result_url(ctx: ServiceContext, request: Request, record: TaskRecord) -> str:
    """Absolute URL of a task's video, valid `result_ttl_seconds` after the task ended."""
    path = RESULT_PATH.format(task_id=record.task_id)
    expires = int((record.end_time or 0) + ctx.settings.service.result_ttl_seconds)
    if record.result and record.result.blob_key:  # an object store presigns its own
        direct = ctx.backends.blobs.url(record.result.blob_key, expires, f"{record.task_id}.mp4")
        if direct:
            return direct
    return f"{ctx.base_url(request)}{path}?{ctx.backends.signer.signed_query(path, expires)}"


@router.api_route(RESULT_PATH, methods=["GET", "HEAD"])
def download(
    task_id: str,
    request: Request,
    ctx: ServiceContext = Depends(get_context),
    Expires: str = "",
    Signature: str = "",
) -> Response:  # OSS's query names
    path = RESULT_PATH.format(task_id=task_id)
    verdict = ctx.backends.signer.check_url(path, Expires, Signature)
    if verdict == "expired":
        raise AccessDenied(
            "Request has expired: result URLs are valid for "
            f"{ctx.settings.service.result_ttl_seconds / 3600:g} h."
        )
    if verdict:
        raise AccessDenied("The request signature does not match.")
    record = ctx.backends.store.get(task_id)
    blob_key = record.result.blob_key if record and record.result else ""
    info = ctx.backends.blobs.stat(blob_key) if blob_key else None
    if info is None:
        raise AccessDenied("The result no longer exists.")
    size = info.size
    start, end, status = 0, size - 1, 200
    header = request.headers.get("range")
    if header:
        match = _RANGE.match(header.strip())
        if match and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
            else:  # suffix: the last N bytes
                start = max(size - int(match[2]), 0)
            if start > end or start >= size:
                # RFC 9110: a 416 names the full length so the client can ask again.
                error = RangeNotSatisfiable(f"range {header!r} is outside the {size} bytes")
                return JSONResponse(
                    error_body(request_id(request), error),
                    status_code=416,
                    headers={"content-range": f"bytes */{size}"},
                )
            status = 206
    headers = {
        "accept-ranges": "bytes",
        "content-length": str(end - start + 1),
        "content-disposition": f'inline; filename="{task_id}.mp4"',
    }
    if status == 206:
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type="video/mp4")
    return StreamingResponse(
        ctx.backends.blobs.read(blob_key, start, end),
        status_code=status,
        headers=headers,
        media_type="video/mp4",
    )
