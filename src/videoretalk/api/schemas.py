"""Request bodies parsed by hand, so every mistake names its field the DashScope way."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidParameter, InvalidURL, ModelNotExist
from ..ingest.download import check_url_syntax
from ..ingest.uploads import OSS_SCHEME
from ..tasks.records import MODEL_NAME, TaskInputs, TaskStatus

__all__ = ["parse_list_status", "parse_submit"]

# DashScope's documented range for query_face_threshold (default 170).
FACE_THRESHOLD_RANGE = (120, 200)


def _field(
    container: dict[str, Any], name: str, path: str, kind: type | tuple[type, ...], required: bool
) -> Any:
    value = container.get(name)
    if value is None:
        if required:
            raise InvalidParameter(f"Field required: {path}")
        return None
    # bool is an int in Python; JSON true is not a number here.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidParameter(
            f"{path} must be {_JSON_NAMES.get(names, names)}, "
            f"got {type(value).__name__}: {value!r}"[:300]
        )
    return value


_JSON_NAMES = {
    "str": "a string",
    "bool": "a boolean",
    "dict": "an object",
    "int or float": "a number",
}


def _url(inputs: dict[str, Any], name: str, required: bool, oss_resolve: bool) -> str | None:
    value = _field(inputs, name, f"input.{name}", str, required)
    if value is None:
        return None
    if not value.strip():
        raise InvalidParameter(f"input.{name} must not be empty")
    if value.startswith(OSS_SCHEME):
        if not oss_resolve:
            raise InvalidURL(
                f"input.{name} is an oss:// URL: send the header "
                "`X-DashScope-OssResourceResolve: enable` to use uploaded files"
            )
        return value
    check_url_syntax(value, f"input.{name}")
    return value


def parse_submit(raw: bytes, oss_resolve: bool) -> TaskInputs:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidParameter("request body must be a JSON object")
    model = _field(body, "model", "model", str, True)
    if model != MODEL_NAME:
        raise ModelNotExist(f"Model not exist: {model!r} (this service serves {MODEL_NAME!r})")
    inputs = _field(body, "input", "input", dict, True)
    parameters = _field(body, "parameters", "parameters", dict, False) or {}
    threshold = _field(
        parameters, "query_face_threshold", "parameters.query_face_threshold", (int, float), False
    )
    if threshold is not None:
        low, high = FACE_THRESHOLD_RANGE
        if not low <= threshold <= high or threshold != int(threshold):
            raise InvalidParameter(
                f"parameters.query_face_threshold must be an integer in "
                f"[{low}, {high}], got {threshold!r}"
            )
        threshold = int(threshold)
    video = _url(inputs, "video_url", True, oss_resolve)
    audio = _url(inputs, "audio_url", True, oss_resolve)
    assert video is not None and audio is not None
    return TaskInputs(
        video_url=video,
        audio_url=audio,
        ref_image_url=_url(inputs, "ref_image_url", False, oss_resolve),
        video_extension=bool(
            _field(parameters, "video_extension", "parameters.video_extension", bool, False)
        ),
        query_face_threshold=threshold,
    )


def parse_list_status(value: str | None) -> TaskStatus | None:
    if value is None or value == "":
        return None
    try:
        status = TaskStatus(value.upper())
    except ValueError:
        status = TaskStatus.UNKNOWN
    if status is TaskStatus.UNKNOWN:
        raise InvalidParameter(
            f"status must be one of PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED; got {value!r}"
        )
    return status
