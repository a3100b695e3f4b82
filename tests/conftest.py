"""Fixtures shared by every test package: where the shared clips live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEV_DIR = SHARED_DATA / "dev"
TRAIN_DIR = SHARED_DATA / "train"


@pytest.fixture(scope="session")
def dev_dir() -> Path:
    if not DEV_DIR.is_dir():
        pytest.skip("../shared/data/dev is not beside the repository")
    return DEV_DIR


@pytest.fixture(scope="session")
def train_dir() -> Path:
    if not TRAIN_DIR.is_dir():
        pytest.skip("../shared/data/train is not beside the repository")
    return TRAIN_DIR
