"""Alembic migrations of the shared database (see `sql_schema.py`)."""
