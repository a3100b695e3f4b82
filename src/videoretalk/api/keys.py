"""API keys: created by the operator (`videoretalk keys create`), stored hashed.

A key is `sk-` and 32 random hex digits, shown once. Only its SHA-256 is kept:
the key is random and long, so a fast hash is enough (nothing to brute-force),
and lookup stays a single indexed read per request.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tasks.store import open_db

__all__ = ["ApiKey", "KeyStore"]

KEY_PREFIX = "sk-"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created REAL NOT NULL,
    revoked REAL,
    submits_per_second REAL,
    max_active_tasks INTEGER
);
"""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    hint: str  # first characters, to recognise a key in `keys list`
    created: float
    revoked: float | None = None
    submits_per_second: float | None = None  # None = the service default
    max_active_tasks: int | None = None


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(
    name: str, submits_per_second: float | None, max_active_tasks: int | None
) -> tuple[ApiKey, str]:
    """A fresh key record and its secret; every key store persists what this makes."""
    secret = KEY_PREFIX + secrets.token_hex(16)
    key = ApiKey(
        key_id="key-" + secrets.token_hex(6),
        name=name,
        hint=secret[:7] + "…",
        created=time.time(),
        submits_per_second=submits_per_second,
        max_active_tasks=max_active_tasks,
    )
    return key, secret


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return open_db(self.path)

    def create(
        self,
        name: str,
        submits_per_second: float | None = None,
        max_active_tasks: int | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key record and its secret (the only time the secret is seen)."""
        key, secret = new_key(name, submits_per_second, max_active_tasks)
        with self._db() as db:
            db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    key.key_id,
                    key.name,
                    key_digest(secret),
                    key.hint,
                    key.created,
                    submits_per_second,
                    max_active_tasks,
                ),
            )
        return key, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM api_keys WHERE digest = ? AND revoked IS NULL", (key_digest(secret),)
            ).fetchone()
        return key_from_row(row) if row else None

    def get(self, key_id: str) -> ApiKey | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return key_from_row(row) if row else None

    def list(self) -> list[ApiKey]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM api_keys ORDER BY created").fetchall()
        return [key_from_row(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self._db() as db:
            return (
                db.execute(
                    "UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL",
                    (time.time(), key_id),
                ).rowcount
                == 1
            )


def key_from_row(row: Any) -> ApiKey:
    """A key row (SQLite or SQLAlchemy: both index by column name) as an `ApiKey`."""
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        hint=row["hint"],
        created=row["created"],
        revoked=row["revoked"],
        submits_per_second=row["submits_per_second"],
        max_active_tasks=row["max_active_tasks"],
    )
