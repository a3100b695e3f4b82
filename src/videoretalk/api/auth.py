"""`Authorization: Bearer <key>` → the caller's `ApiKey`, or 401 InvalidApiKey."""

from __future__ import annotations

from fastapi import Depends, Request

from ..errors import InvalidApiKey
from .context import ServiceContext, get_context
from .keys import ApiKey

__all__ = ["current_key"]


def current_key(request: Request, ctx: ServiceContext = Depends(get_context)) -> ApiKey:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidApiKey("No API-key provided: send `Authorization: Bearer <key>`.")
    key = ctx.keys.authenticate(secret.strip())
    if key is None:
        raise InvalidApiKey("Invalid API-key provided.")
    return key
