"""Blob stores, signed expiring URLs and the expiry sweeper."""

from __future__ import annotations

from .blobs import BlobInfo, BlobStore, LocalBlobStore
from .signing import Signer

__all__ = ["BlobInfo", "BlobStore", "LocalBlobStore", "Signer"]
