"""Blob store: where results and uploads live, behind a small interface.

Keys are relative, '/'-separated names chosen by the service ("results/<task>.mp4",
"uploads/<digest>"), never by a client. `LocalBlobStore` keeps them on disk; an S3
backend implements the same protocol.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["BlobInfo", "BlobStore", "LocalBlobStore"]

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    created: float  # epoch seconds


class BlobStore(Protocol):
    def put_file(self, key: str, source: Path) -> BlobInfo: ...
    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> BlobInfo | None:
        """Store at most `max_bytes`; None (and nothing stored) if the stream is longer."""
        ...

    def stat(self, key: str) -> BlobInfo | None: ...
    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end] inclusive, in chunks."""
        ...

    def fetch(self, key: str, dest: Path) -> None:
        """Copy a blob to a local file (the worker's working copy)."""
        ...

    def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> Iterator[BlobInfo]: ...
    def url(self, key: str, expires_at: float, filename: str = "") -> str | None:
        """A direct download URL valid until `expires_at`, or None when the service
        serves the blob itself (its own signed URL)."""
        ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"bad blob key {key!r}")
        return self.root.joinpath(*parts)

    def put_file(self, key: str, source: Path) -> BlobInfo:
        with open(source, "rb") as stream:
            info = self.put_stream(key, stream, max_bytes=2**62)
        assert info is not None
        return info

    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> BlobInfo | None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename, so a reader never sees half a file.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        os.unlink(tmp_name)
                        return None
                    out.write(chunk)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return BlobInfo(key, size, time.time())

    def stat(self, key: str) -> BlobInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, ValueError):
            return None
        return BlobInfo(key, st.st_size, st.st_mtime)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with open(self._path(key), "rb") as f:
            f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = f.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def fetch(self, key: str, dest: Path) -> None:
        shutil.copyfile(self._path(key), dest)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except ValueError:
            pass

    def url(self, key: str, expires_at: float, filename: str = "") -> str | None:
        return None  # served by the API's own signed route

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        base = self.root / prefix
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith(".part-"):
                st = path.stat()
                yield BlobInfo(path.relative_to(self.root).as_posix(), st.st_size, st.st_mtime)
