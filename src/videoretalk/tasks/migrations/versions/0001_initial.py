"""Tasks, API keys and the upload index (issue 8).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("submit_time", sa.Float, nullable=False),
        sa.Column("scheduled_time", sa.Float),
        sa.Column("end_time", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("worker", sa.String(255)),
        sa.Column("code", sa.String(128)),
        sa.Column("message", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("progress", sa.Text),
    )
    op.create_index("tasks_owner_time", "tasks", ["owner", "submit_time"])
    op.create_index("tasks_status", "tasks", ["status"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(32), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("revoked", sa.Float),
        sa.Column("submits_per_second", sa.Float),
        sa.Column("max_active_tasks", sa.Integer),
    )
    op.create_table(
        "uploads",
        sa.Column("object_key", sa.String(512), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(512), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("uploads_created", "uploads", ["created"])


def downgrade() -> None:
    op.drop_table("uploads")
    op.drop_table("api_keys")
    op.drop_table("tasks")
