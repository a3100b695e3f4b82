"""Temporary uploads the way the dashscope SDK's `OssUtils.upload` does them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import AccessDenied, InvalidParameter, ModelNotExist
from ..tasks.records import MODEL_NAME
from .auth import current_key
from .context import ServiceContext, get_context, request_id
from .keys import ApiKey

__all__ = ["UPLOAD_POST_PATH", "router"]

router = APIRouter(prefix="/api/v1", tags=["uploads"])

UPLOAD_POST_PATH = "/api/v1/uploads/oss"
_FORM_FIELDS = 16  # the SDK sends 8 fields and one file


@router.get("/uploads")
def get_policy(
    request: Request,
    action: str = "",
    model: str = "",
    key: ApiKey = Depends(current_key),
    ctx: ServiceContext = Depends(get_context),
) -> dict[str, Any]:
    """An upload policy (`action=getPolicy`) for `POST upload_host`."""
    if action != "getPolicy":
        raise InvalidParameter(f"action must be 'getPolicy', got {action!r}")
    if model != MODEL_NAME:
        raise ModelNotExist(f"Model not exist: {model!r} (this service serves {MODEL_NAME!r})")
    policy = ctx.backends.uploads.issue_policy(key.key_id, ctx.base_url(request) + UPLOAD_POST_PATH)
    return {"request_id": request_id(request), "data": asdict(policy)}


@router.post("/uploads/oss")
async def upload(request: Request, ctx: ServiceContext = Depends(get_context)) -> Response:
    """OSS-style POST object: the signed policy, not an API key, authorises it."""
    form = await request.form(max_files=1, max_fields=_FORM_FIELDS)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidParameter("form field 'file' (the file, sent last) is required")
        for name in ("OSSAccessKeyId", "policy", "Signature", "key"):
            if not fields.get(name):
                raise InvalidParameter(f"form field {name!r} is required")
        owner = fields["OSSAccessKeyId"]
        api_key = await run_in_threadpool(ctx.keys.get, owner)
        if api_key is None or api_key.revoked is not None:
            raise AccessDenied("the API key of this upload policy is unknown or revoked")
        await run_in_threadpool(
            ctx.backends.uploads.accept,
            owner,
            fields["policy"],
            fields["Signature"],
            fields["key"],
            file.file,
        )
    finally:
        await form.close()
    status = fields.get("success_action_status", "")
    return Response(status_code=int(status) if status in ("200", "201", "204") else 204)
