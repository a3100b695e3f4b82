"""Request bodies past their cap are refused with 413 and what to do instead, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from videoretalk.api import create_app, routes_tasks
from videoretalk.api.routes_uploads import UPLOAD_POST_PATH
from videoretalk.config import Settings
from videoretalk.limits import InputLimits


def _form(file_bytes: int) -> tuple[bytes, str]:
    """A multipart form with the policy fields and a file of `file_bytes` bytes."""
    boundary = "vrtboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\nx\r\n'.encode()
        for name in ("OSSAccessKeyId", "policy", "Signature", "key")
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n".encode()
        + b"x" * file_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _post(
    app: object, path: str, body: bytes, chunked: bool, content_type: str = "application/json"
) -> httpx.Response:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            content = chunks() if chunked else body
            return await client.post(path, content=content, headers={"Content-Type": content_type})

    return asyncio.run(send())


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_answer_413_with_advice(tmp_path: Path, chunked: bool) -> None:
    settings = Settings(data_dir=tmp_path, limits=InputLimits(video_max_bytes=1000))
    app = create_app(settings)
    upload_cap = 1000 + 1024 * 1024  # the video cap plus the form's own overhead
    form, form_type = _form(upload_cap)
    upload = _post(app, UPLOAD_POST_PATH, form, chunked, form_type)
    assert upload.status_code == 413, upload.text
    assert upload.json()["code"] == "InvalidParameter"
    assert "video size limit" in upload.json()["message"]
    # Just under the cap the form is read and judged on its fields (an unknown key here).
    form, _ = _form(upload_cap - len(form) + upload_cap - 1)
    assert len(form) == upload_cap - 1
    assert _post(app, UPLOAD_POST_PATH, form, chunked, form_type).status_code == 403
    if chunked:
        return  # a chunked submission is counted after its key is checked: test_service_api
    submit_path = routes_tasks.router.prefix + routes_tasks.SUBMIT_PATH
    submit = _post(app, submit_path, b"x" * (settings.service.max_json_body_bytes + 1), False)
    assert submit.status_code == 413, submit.text
    assert "by URL" in submit.json()["message"]
