"""Alembic environment: runs on the connection `sql_schema.migrate` hands over."""

from __future__ import annotations

from alembic import context

from videoretalk.tasks.sql_schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
