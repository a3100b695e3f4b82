"""API keys and the upload index in the shared database, so every API node sees
the same keys and every worker node can resolve any `oss://` upload.

Same methods as `api.keys.KeyStore` and `ingest.uploads.SQLiteUploadIndex`; the
tables are `sql_schema.api_keys` and `sql_schema.uploads`.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..api.keys import ApiKey, key_digest, key_from_row, new_key
from .sql_schema import api_keys, uploads

__all__ = ["SQLKeyStore", "SQLUploadIndex"]


class SQLKeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        name: str,
        submits_per_second: float | None = None,
        max_active_tasks: int | None = None,
    ) -> tuple[ApiKey, str]:
        key, secret = new_key(name, submits_per_second, max_active_tasks)
        with self.engine.begin() as db:
            db.execute(
                insert(api_keys).values(
                    key_id=key.key_id,
                    name=key.name,
                    digest=key_digest(secret),
                    hint=key.hint,
                    created=key.created,
                    submits_per_second=submits_per_second,
                    max_active_tasks=max_active_tasks,
                )
            )
        return key, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        return self._one(api_keys.c.digest == key_digest(secret), api_keys.c.revoked.is_(None))

    def get(self, key_id: str) -> ApiKey | None:
        return self._one(api_keys.c.key_id == key_id)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as db:
            rows = db.execute(select(api_keys).order_by(api_keys.c.created)).mappings().all()
        return [key_from_row(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as db:
            return (
                db.execute(
                    update(api_keys)
                    .where(api_keys.c.key_id == key_id, api_keys.c.revoked.is_(None))
                    .values(revoked=time.time())
                ).rowcount
                == 1
            )

    def _one(self, *where: object) -> ApiKey | None:
        with self.engine.connect() as db:
            row = db.execute(select(api_keys).where(*where)).mappings().first()  # type: ignore[arg-type]
        return key_from_row(row) if row else None


class SQLUploadIndex:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exists(self, object_key: str) -> bool:
        with self.engine.connect() as db:
            return (
                db.execute(
                    select(uploads.c.object_key).where(uploads.c.object_key == object_key)
                ).first()
                is not None
            )

    def add(self, object_key: str, owner: str, blob_key: str, size: int, created: float) -> None:
        values = {"owner": owner, "blob_key": blob_key, "size": size, "created": created}
        with self.engine.begin() as db:
            try:
                with db.begin_nested():
                    db.execute(insert(uploads).values(object_key=object_key, **values))
            except IntegrityError:  # a replace, as the SQLite index does
                db.execute(
                    update(uploads).where(uploads.c.object_key == object_key).values(**values)
                )

    def find(self, object_key: str, owner: str, since: float) -> str | None:
        with self.engine.connect() as db:
            row = db.execute(
                select(uploads.c.blob_key).where(
                    uploads.c.object_key == object_key,
                    uploads.c.owner == owner,
                    uploads.c.created > since,
                )
            ).first()
        return str(row[0]) if row else None

    def older_than(self, cutoff: float) -> list[tuple[str, str]]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(uploads.c.object_key, uploads.c.blob_key).where(uploads.c.created <= cutoff)
            ).all()
        return [(str(o), str(b)) for o, b in rows]

    def remove(self, object_key: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(uploads).where(uploads.c.object_key == object_key))
