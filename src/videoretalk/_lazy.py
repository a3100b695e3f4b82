"""Lazy package attributes: heavy modules (mediapipe, dlib, the models) load on first use.

`config` imports each stage's settings through its package, and `videoretalk --help`
imports the CLI; neither should pay for loading models. A package lists which of its
public names live in which submodule and sets `__getattr__ = lazy_attributes(...)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `package.<where[name]>` when `name` is first used."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f".{where[name]}", package), name)

    return __getattr__
