"""Getting inputs in safely: URL downloads (SSRF-guarded) and oss:// uploads."""

from __future__ import annotations

from .download import DownloadPolicy, download
from .netguard import AllowList, blocked_reason

__all__ = ["AllowList", "DownloadPolicy", "blocked_reason", "download"]
