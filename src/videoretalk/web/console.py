"""Routes for the console's page and its two assets (no templating, no build step)."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from starlette.exceptions import HTTPException

from ..limits import MB, InputLimits

__all__ = ["ASSET_PATH", "console_router", "limit_hints"]

ASSET_PATH = "/console/{name}"
_ASSETS = {  # the only files served: nothing else under static/ is reachable
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _number(value: float) -> str:
    return f"{value:g}"


def limit_hints(limits: InputLimits) -> dict[str, str]:
    """The line under each input that says what it accepts, from the limits this
    server enforces (an operator may have raised them), so the page never promises
    what validation then refuses."""
    return {
        "video_hint": (
            f"MP4, MOV or AVI · {_number(limits.video_min_seconds)}–"
            f"{_number(limits.video_max_seconds)} s · {_number(limits.video_min_fps)}–"
            f"{_number(limits.video_max_fps)} fps · each side {limits.video_min_side_px}–"
            f"{limits.video_max_side_px} px · ≤ {_number(limits.video_max_bytes / MB)} MB"
        ),
        "audio_hint": (
            f"WAV, MP3, AAC or M4A · {_number(limits.audio_min_seconds)}–"
            f"{_number(limits.audio_max_seconds)} s · ≤ {_number(limits.audio_max_bytes / MB)} MB"
        ),
        "image_hint": (
            "Which face to edit when several are shown · JPEG, PNG, BMP, WebP · "
            f"long side ≤ {limits.image_max_side_px} px · ≤ {_number(limits.image_max_bytes / MB)} MB"
        ),
    }


def _page(limits: InputLimits) -> bytes:
    page = _read("index.html").decode("utf-8")
    for name, text in limit_hints(limits).items():
        page = page.replace("{{" + name + "}}", html.escape(text))
    return page.encode("utf-8")


def content_security_policy(public_base_url: str) -> str:
    # The page talks only to this service; a public base URL on another origin (a
    # proxy) is where upload_host and video_url point, so it is allowed too.
    # Media may come from anywhere: a pasted input URL is previewed as it is.
    connect = "'self'"
    base = urlsplit(public_base_url)
    if base.scheme and base.netloc:
        connect += f" {base.scheme}://{base.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' blob: data:; media-src * blob:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def console_router(public_base_url: str, limits: InputLimits) -> APIRouter:
    """`GET /` (the page) and `GET /console/<asset>`; mounted by `api.create_app`."""
    router = APIRouter(include_in_schema=False)
    page = _page(limits)
    page_headers = {
        "content-security-policy": content_security_policy(public_base_url),
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
    }

    @router.api_route("/", methods=["GET", "HEAD"])
    def index() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=page_headers)

    @router.api_route(ASSET_PATH, methods=["GET", "HEAD"])
    def asset(name: str) -> Response:
        media_type = _ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, f"no console file {name!r}")
        return Response(
            _read(name),
            media_type=media_type,
            headers={"x-content-type-options": "nosniff", "cache-control": "no-cache"},
        )

    return router
