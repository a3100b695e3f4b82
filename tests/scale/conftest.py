"""Fixtures for the scale tests (helpers live in clusterkit.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "service"))
from clusterkit import DATABASE_ENV, Moto, drop_database, fresh_database, need_env

# boto3 needs some credentials; moto accepts any.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    base = need_env(DATABASE_ENV)
    url, name = fresh_database(base)
    yield url
    drop_database(base, name)


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    pytest.importorskip("moto.server", reason="moto[server] is in the test extra")
    server = Moto()
    yield server
    server.stop()
