"""DashScope-style temporary uploads: a signed POST policy, then `oss://` URLs.

`OssUtils.upload` in the dashscope SDK asks `GET /api/v1/uploads?action=getPolicy`
for a policy, POSTs the file as multipart form data to `upload_host` (no API key:
the signed policy is the credential) and then uses `oss://<upload_dir>/<name>`.
Here the policy is base64 JSON naming the API key, its upload directory, the size
cap and the expiry, signed with the server secret. An upload is visible only to
the key that made it, for `upload_ttl_seconds` (48 h, as DashScope's).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from ..errors import AccessDenied, InvalidFileSize, InvalidParameter, InvalidURL
from ..storage.blobs import BlobStore
from ..storage.signing import Signer
from ..tasks.store import open_db

__all__ = ["OSS_SCHEME", "UploadIndex", "UploadPolicy", "Uploads"]

OSS_SCHEME = "oss://"
MB = 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    object_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_created ON uploads (created);
"""


@dataclass(frozen=True)
class UploadPolicy:
    """The `data` of a getPolicy answer, field names as the SDK reads them."""

    policy: str
    signature: str
    upload_dir: str
    upload_host: str
    expire_in_seconds: int
    max_file_size_mb: float
    capacity_limit_mb: float
    oss_access_key_id: str
    x_oss_object_acl: str = "private"
    x_oss_forbid_overwrite: str = "true"


class UploadIndex(Protocol):
    """Which upload (object key) belongs to whom and where its bytes are (blob key)."""

    def exists(self, object_key: str) -> bool: ...
    def add(
        self, object_key: str, owner: str, blob_key: str, size: int, created: float
    ) -> None: ...
    def find(self, object_key: str, owner: str, since: float) -> str | None: ...
    def older_than(self, cutoff: float) -> list[tuple[str, str]]: ...
    def remove(self, object_key: str) -> None: ...


class SQLiteUploadIndex:
    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_db(self.db_path)

    def exists(self, object_key: str) -> bool:
        with self._db() as db:
            return bool(
                db.execute("SELECT 1 FROM uploads WHERE object_key = ?", (object_key,)).fetchone()
            )

    def add(self, object_key: str, owner: str, blob_key: str, size: int, created: float) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?)",
                (object_key, owner, blob_key, size, created),
            )

    def find(self, object_key: str, owner: str, since: float) -> str | None:
        with self._db() as db:
            row = db.execute(
                "SELECT blob_key FROM uploads WHERE object_key = ? AND owner = ? AND created > ?",
                (object_key, owner, since),
            ).fetchone()
        return str(row[0]) if row else None

    def older_than(self, cutoff: float) -> list[tuple[str, str]]:
        with self._db() as db:
            rows = db.execute(
                "SELECT object_key, blob_key FROM uploads WHERE created <= ?", (cutoff,)
            ).fetchall()
        return [(str(o), str(b)) for o, b in rows]

    def remove(self, object_key: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM uploads WHERE object_key = ?", (object_key,))


class Uploads:
    def __init__(
        self,
        db_path: Path,
        blobs: BlobStore,
        signer: Signer,
        *,
        max_bytes: int,
        ttl_seconds: float,
        policy_ttl_seconds: int,
        index: UploadIndex | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.blobs = blobs
        self.signer = signer
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.policy_ttl_seconds = policy_ttl_seconds
        self.index: UploadIndex = index or SQLiteUploadIndex(self.db_path)

    # -- issuing and accepting --------------------------------------------------
    def issue_policy(self, owner: str, upload_host: str) -> UploadPolicy:
        upload_dir = f"videoretalk/{owner}/{secrets.token_hex(8)}"
        expires = time.time() + self.policy_ttl_seconds
        document = {
            "expiration": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conditions": [
                ["content-length-range", 0, self.max_bytes],
                ["starts-with", "$key", upload_dir + "/"],
                {"owner": owner},
            ],
        }
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        return UploadPolicy(
            policy=policy,
            signature=self.signer.sign_policy(owner, policy),
            upload_dir=upload_dir,
            upload_host=upload_host,
            expire_in_seconds=self.policy_ttl_seconds,
            max_file_size_mb=self.max_bytes / MB,
            capacity_limit_mb=self.max_bytes / MB,
            oss_access_key_id=owner,
        )

    def accept(
        self, owner: str, policy: str, signature: str, object_key: str, stream: BinaryIO
    ) -> int:
        """Check the form's policy and store the file; returns its size."""
        if not self.signer.check_policy(owner, policy, signature):
            raise AccessDenied("upload policy signature does not match")
        try:
            document = json.loads(base64.b64decode(policy, validate=True))
            expiration = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%S.000Z")
            conditions = document["conditions"]
            max_bytes = int(conditions[0][2])
            upload_dir = str(conditions[1][2])
        except (ValueError, KeyError, IndexError, TypeError):
            raise AccessDenied("upload policy is malformed") from None
        if expiration.replace(tzinfo=UTC).timestamp() < time.time():
            raise AccessDenied("upload policy has expired; ask for a new one")
        name = object_key[len(upload_dir) :] if object_key.startswith(upload_dir) else ""
        if not name or "/" in name or name in (".", ".."):
            raise AccessDenied(f"key must be {upload_dir}<file name>")
        blob_key = "uploads/" + hashlib.sha256(object_key.encode()).hexdigest()
        if self.index.exists(object_key):
            raise InvalidParameter(f"{object_key} already exists (x-oss-forbid-overwrite)")
        info = self.blobs.put_stream(blob_key, stream, max_bytes)
        if info is None:
            raise InvalidFileSize(f"upload is larger than the {max_bytes / MB:g} MB allowed")
        self.index.add(object_key, owner, blob_key, info.size, time.time())
        return info.size

    # -- using -----------------------------------------------------------------
    def lookup(self, url: str, owner: str, field: str) -> str:
        """The blob key behind `oss://…` for this owner; InvalidURL if it is not theirs."""
        object_key = url[len(OSS_SCHEME) :]
        blob_key = self.index.find(object_key, owner, time.time() - self.ttl_seconds)
        if blob_key is None:
            raise InvalidURL(
                f"{field}: {url} is not an upload of this API key, or it has "
                f"expired ({self.ttl_seconds / 3600:g} h after upload)"
            )
        return blob_key

    def expire(self, now: float | None = None) -> int:
        """Forget and delete uploads older than the TTL; returns how many."""
        cutoff = (time.time() if now is None else now) - self.ttl_seconds
        rows = self.index.older_than(cutoff)
        for object_key, blob_key in rows:
            self.blobs.delete(blob_key)
            self.index.remove(object_key)
        return len(rows)
