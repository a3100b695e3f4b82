"""Import a repository script (scripts/, benchmarks/) in a test, as a module of its own."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def load_script(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script at `path` as module `path.stem`, registered for the test's duration
    (dataclasses look their module up in `sys.modules`); its folder is importable, as
    when it is run, for the modules beside it."""
    monkeypatch.syspath_prepend(str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, path.stem, module)
    spec.loader.exec_module(module)
    return module


def import_from_scripts(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Module `name` (dotted, e.g. a package beside the scripts) imported with `folder` on
    the path, as the scripts in `folder` import it when run."""
    monkeypatch.syspath_prepend(str(folder))
    return importlib.import_module(name)
