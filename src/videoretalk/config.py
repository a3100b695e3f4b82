"""The one settings object, read once from `VIDEORETALK_*` environment variables.

Every component takes the `Settings` it needs as an argument; nothing reads the
environment anywhere else. A bad value names the variable and what it expects.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidParameter
from .limits import InputLimits

ENV_PREFIX = "VIDEORETALK_"


@dataclass(frozen=True)
class EncodeSettings:
    # CRF 18 is visually close to lossless for H.264; "veryfast" keeps a 2-core
    # machine near real time at 720p while costing only a few % of file size.
    crf: int = 18
    preset: str = "veryfast"
    audio_bitrate: int = 192_000
    threads: int = 0  # 0 = let FFmpeg decide


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./videoretalk-data")
    limits: InputLimits = field(default_factory=InputLimits)
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    # Service settings (used by `videoretalk serve`).
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    workers: int = 1
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `VIDEORETALK_<FIELD>` and `VIDEORETALK_<GROUP>_<FIELD>`.

        e.g. `VIDEORETALK_PORT=9000`, `VIDEORETALK_LIMITS_VIDEO_MAX_SECONDS=300`,
        `VIDEORETALK_ENCODE_CRF=20`. Explicit keyword overrides win over the environment.
        """
        env = os.environ if environ is None else environ
        values = _read_dataclass(cls, env, ENV_PREFIX)
        values.update(overrides)
        return cls(**values)


def _read_dataclass(cls: type, env: Mapping[str, str], prefix: str) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        name = f"{prefix}{f.name.upper()}"
        if dataclasses.is_dataclass(kind):
            nested = _read_dataclass(kind, env, name + "_")  # type: ignore[arg-type]
            if nested:
                values[f.name] = kind(**nested)  # type: ignore[operator]
        elif name in env:
            values[f.name] = _parse(name, env[name], kind)
    return values


def _parse(name: str, raw: str, kind: Any) -> Any:
    if isinstance(kind, types.UnionType):  # e.g. `str | None`
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind in (int, float, str, Path):
            return kind(raw)
    except ValueError:
        pass
    else:
        raise InvalidParameter(f"{name}: unsupported setting type {kind!r}")
    raise InvalidParameter(f"{name}={raw!r} is not a valid {getattr(kind, '__name__', kind)}")
