"""Routes for the console's page and its two assets (no templating, no build step)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from starlette.exceptions import HTTPException

__all__ = ["ASSET_PATH", "console_router"]

ASSET_PATH = "/console/{name}"
_ASSETS = {  # the only files served: nothing else under static/ is reachable
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}


@cache
def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


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


def console_router(public_base_url: str = "") -> APIRouter:
    """`GET /` (the page) and `GET /console/<asset>`; mounted by `api.create_app`."""
    router = APIRouter(include_in_schema=False)
    page_headers = {
        "content-security-policy": content_security_policy(public_base_url),
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
    }

    @router.api_route("/", methods=["GET", "HEAD"])
    def index() -> Response:
        return Response(
            _read("index.html"), media_type="text/html; charset=utf-8", headers=page_headers
        )

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
