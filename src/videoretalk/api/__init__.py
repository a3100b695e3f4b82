"""The DashScope-compatible HTTP service: `create_app(settings)` and `serve(settings)`."""

from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
