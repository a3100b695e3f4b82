"""The shared database's tables (tasks, API keys, upload index) and their migrations.

One SQLAlchemy `MetaData` describes what the code reads and writes; Alembic
revisions in `migrations/versions/` create and change it. `open_engine` brings a
database to the newest revision before anything uses it, under a PostgreSQL
advisory lock so that nodes starting together do not migrate twice.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    text,
)
from sqlalchemy.engine import Connection, Engine

__all__ = ["api_keys", "metadata", "migrate", "open_engine", "tasks", "uploads"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "videoretalk_schema_version"
# Any fixed 64-bit number, the same on every node: "videoretalk migrations".
_MIGRATION_LOCK_ID = 0x766964656F6D6967

metadata = MetaData()

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("model", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("inputs", Text, nullable=False),  # JSON of TaskInputs
    Column("submit_time", Float, nullable=False),  # epoch seconds
    Column("scheduled_time", Float),
    Column("end_time", Float),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("worker", String(255)),
    Column("code", String(128)),
    Column("message", Text),
    Column("result", Text),  # JSON of TaskResult
    Column("progress", Text),  # JSON of TaskProgress
    Index("tasks_owner_time", "owner", "submit_time"),
    Index("tasks_status", "status"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("hint", String(32), nullable=False),
    Column("created", Float, nullable=False),
    Column("revoked", Float),
    Column("submits_per_second", Float),
    Column("max_active_tasks", Integer),
)

uploads = Table(
    "uploads",
    metadata,
    Column("object_key", String(512), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("blob_key", String(512), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created", Float, nullable=False),
    Index("uploads_created", "created"),
)


def migrate(connection: Connection) -> None:
    """Upgrade the database behind `connection` to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def open_engine(url: str) -> Engine:
    """An engine for `url`, its schema migrated to the newest revision."""
    engine = create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        migrate(connection)
    return engine
