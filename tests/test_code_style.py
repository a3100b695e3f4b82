"""The code keeps the project's lint rules and formatting (STYLE.md: run ruff).

Ruff is pinned in the `test` extra: its default rule set grows between releases, and the
rules are those of the pinned version with `pyproject.toml`'s settings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ruff", reason="ruff comes with the test extra")

REPO = Path(__file__).resolve().parents[1]
CODE = ["src", "tests", "scripts", "benchmarks"]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", *args, "--no-cache", *CODE]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_lint_rules_hold() -> None:
    result = _ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
