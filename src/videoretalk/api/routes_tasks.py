"""Submit, fetch, list and cancel tasks — DashScope's async task API."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..errors import AccessDenied, InvalidParameter, Throttling, UnsupportedOperation
from ..tasks.records import (
    TaskInputs,
    TaskRecord,
    TaskStatus,
    format_time,
    parse_compact_time,
)
from ..tasks.store import TaskQuery
from .auth import current_key
from .context import ServiceContext, get_context, request_id
from .keys import ApiKey
from .routes_files import result_url
from .schemas import parse_list_status, parse_submit

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tasks"])

SUBMIT_PATH = "/services/aigc/image2video/video-synthesis"
MAX_PAGE_SIZE = 100


@router.post(SUBMIT_PATH)
@router.post(SUBMIT_PATH + "/", include_in_schema=False)
async def submit(
    request: Request, key: ApiKey = Depends(current_key), ctx: ServiceContext = Depends(get_context)
) -> dict[str, Any]:
    """Create a lip-sync task; poll `GET /api/v1/tasks/{task_id}` for the result."""
    if request.headers.get("x-dashscope-async", "").lower() != "enable":
        raise AccessDenied("current user api does not support synchronous calls")
    oss_resolve = request.headers.get("x-dashscope-ossresourceresolve", "").lower() == "enable"
    inputs = parse_submit(await request.body(), oss_resolve)
    record = await run_in_threadpool(_create, ctx, key, inputs, request_id(request))
    return {
        "output": {"task_id": record.task_id, "task_status": record.status.value},
        "request_id": request_id(request),
    }


def _create(ctx: ServiceContext, key: ApiKey, inputs: TaskInputs, rid: str) -> TaskRecord:
    for field in ("video_url", "audio_url", "ref_image_url"):
        url = getattr(inputs, field)
        if url and url.startswith("oss://"):
            ctx.backends.uploads.lookup(url, key.key_id, f"input.{field}")
    service = ctx.settings.service
    rate = key.submits_per_second or service.key_submits_per_second
    if not ctx.buckets.take(key.key_id, rate):
        raise Throttling(
            f"Requests rate limit exceeded ({rate:g} submissions per second "
            "for this API key); please retry later."
        )
    limit = key.max_active_tasks or service.key_max_active_tasks
    store = ctx.backends.store
    with ctx.submit_lock:
        if store.count_active(key.key_id) >= limit:
            raise Throttling(
                f"Too many tasks in progress: this API key may have {limit} tasks "
                "PENDING or RUNNING at once; wait for one to finish."
            )
        record = TaskRecord(task_id=_new_task_id(), owner=key.key_id, inputs=inputs, request_id=rid)
        store.create(record)
    ctx.backends.queue.put(record.task_id)
    return record


def _new_task_id() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


@router.get("/tasks/{task_id}")
def fetch(
    task_id: str,
    request: Request,
    key: ApiKey = Depends(current_key),
    ctx: ServiceContext = Depends(get_context),
) -> dict[str, Any]:
    """A task's state; another key's task, or an unknown id, reads as UNKNOWN."""
    record = ctx.backends.store.get(task_id)
    body: dict[str, Any] = {"request_id": request_id(request)}
    if record is None or record.owner != key.key_id:
        body["output"] = {"task_id": task_id, "task_status": TaskStatus.UNKNOWN.value}
        return body
    output: dict[str, Any] = {"task_id": record.task_id, "task_status": record.status.value}
    for name in ("submit_time", "scheduled_time", "end_time"):
        value = format_time(getattr(record, name))
        if value is not None:
            output[name] = value
    if record.status is TaskStatus.SUCCEEDED and record.result is not None:
        output["video_url"] = result_url(ctx, request, record)
        body["usage"] = {
            "video_duration": record.result.video_duration,
            "video_ratio": record.result.video_ratio,
        }
    elif record.status in (TaskStatus.FAILED,) and record.code:
        output["code"] = record.code
        output["message"] = record.message or ""
    output.update(_progress(record))
    body["output"] = output
    return body


@router.get("/tasks")
@router.get("/tasks/", include_in_schema=False)
def list_tasks(
    request: Request,
    page_no: str = "1",
    page_size: str = "10",
    start_time: str | None = None,
    end_time: str | None = None,
    model_name: str | None = None,
    status: str | None = None,
    key: ApiKey = Depends(current_key),
    ctx: ServiceContext = Depends(get_context),
) -> dict[str, Any]:
    """The caller's tasks, newest first; times as `20230420000000`."""
    query = TaskQuery(
        owner=key.key_id,
        page_no=_positive_int(page_no, "page_no", 10**9),
        page_size=_positive_int(page_size, "page_size", MAX_PAGE_SIZE),
        start_time=_time(start_time, "start_time"),
        end_time=_time(end_time, "end_time"),
        model=model_name or None,
        status=parse_list_status(status),
    )
    page = ctx.backends.store.query(query)
    return {
        "request_id": request_id(request),
        "page_no": query.page_no,
        "page_size": query.page_size,
        "total": page.total,
        "tasks": [_summary(r) for r in page.tasks],
    }


def _summary(record: TaskRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "task_id": record.task_id,
        "task_status": record.status.value,
        "model_name": record.model,
        "request_id": record.request_id,
        "api_key_id": record.owner,
    }
    for name in ("submit_time", "scheduled_time", "end_time"):
        value = format_time(getattr(record, name))
        if value is not None:
            item[name] = value
    if record.code:
        item["code"] = record.code
        item["message"] = record.message or ""
    item.update(_progress(record))
    return item


def _progress(record: TaskRecord) -> dict[str, Any]:
    """`progress` of a RUNNING task — an addition of ours; DashScope clients ignore it."""
    if record.status is not TaskStatus.RUNNING or record.progress is None:
        return {}
    return {"progress": {"stage": record.progress.stage, "percent": record.progress.percent}}


def _positive_int(text: str, name: str, maximum: int) -> int:
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise InvalidParameter(f"{name} must be an integer from 1 to {maximum}, got {text!r}")
    return int(text)


def _time(text: str | None, name: str) -> float | None:
    if not text:
        return None
    try:
        return parse_compact_time(text)
    except ValueError:
        raise InvalidParameter(
            f"{name} must look like 20230420000000 (yyyyMMddHHmmss), got {text!r}"
        ) from None


@router.post("/tasks/{task_id}/cancel")
def cancel(
    task_id: str,
    request: Request,
    key: ApiKey = Depends(current_key),
    ctx: ServiceContext = Depends(get_context),
) -> dict[str, Any]:
    """Cancel a PENDING task; any other state is a 400 UnsupportedOperation."""
    store = ctx.backends.store
    record = store.get(task_id)
    if record is None or record.owner != key.key_id:
        raise UnsupportedOperation(
            f"Failed to cancel the task: no task {task_id!r} for this API key."
        )
    if not store.cancel(task_id):
        current = store.get(task_id)
        state = current.status.value if current else "UNKNOWN"
        raise UnsupportedOperation(
            f"Failed to cancel the task: it is {state}; only PENDING tasks can be canceled."
        )
    return {"request_id": request_id(request)}
