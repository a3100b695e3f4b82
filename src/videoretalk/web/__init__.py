"""The browser console served at `/`: a static page that uses the public API.

See docs/console.md. The page keeps the API key in the browser and calls the same
`/api/v1/...` endpoints as any other client; the server only hands out its files.
"""

from .console import console_router

__all__ = ["console_router"]
