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
from .face.settings import FaceSettings
from .limits import InputLimits
from .motion import MotionSettings
from .render.settings import RenderSettings

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
class ServiceSettings:
    """Knobs of `videoretalk serve` (env `VIDEORETALK_SERVICE_<FIELD>`)."""

    # HMAC key for result URLs and upload policies; empty = generated once and kept
    # in `<data_dir>/secret.key` so URLs survive a restart.
    secret_key: str = ""
    # Per API key: submissions per second (token bucket, burst = 2 s worth) and
    # tasks PENDING or RUNNING at once; beyond either the answer is 429 Throttling.
    key_submits_per_second: float = 2.0
    key_max_active_tasks: int = 4
    max_json_body_bytes: int = 64 * 1024
    # Comma-separated hosts or networks that URL inputs may reach although they are
    # private/loopback, e.g. "127.0.0.1/32,files.internal". Empty = public only.
    url_allow_list: str = ""
    download_timeout_seconds: float = 60.0
    max_redirects: int = 5
    result_ttl_seconds: int = 24 * 3600  # DashScope keeps video_url valid for 24 h
    upload_ttl_seconds: int = 48 * 3600  # and oss:// uploads for 48 h
    upload_policy_ttl_seconds: int = 3600
    temp_ttl_seconds: int = 6 * 3600
    sweep_interval_seconds: float = 600.0
    # A task whose worker died is run at most this many times in all.
    max_attempts: int = 2
    worker_poll_seconds: float = 0.5
    # "module:function" with `pipeline.retalk`'s signature; tests swap in a fake.
    engine: str = "videoretalk.pipeline:retalk"


@dataclass(frozen=True)
class ClusterSettings:
    """Shared backends for a cluster (env `VIDEORETALK_CLUSTER_<FIELD>`); see docs/deploy.md.

    Each one left empty keeps the embedded default under `data_dir`.
    """

    # Queue: Celery on Redis, e.g. "redis://queue.internal:6379/0".
    redis_url: str = ""
    # Tasks, API keys and upload index via SQLAlchemy, e.g.
    # "postgresql+psycopg://videoretalk:secret@db.internal/videoretalk".
    database_url: str = ""
    # Results and uploads in S3-compatible storage (AWS S3, MinIO, Aliyun OSS).
    s3_bucket: str = ""
    s3_prefix: str = ""  # keys become "<prefix><key>"
    s3_endpoint_url: str = ""  # empty = AWS; e.g. "http://minio:9000"
    s3_public_endpoint_url: str = ""  # host clients reach for presigned URLs, if different
    s3_region: str = ""
    s3_access_key_id: str = ""  # empty = boto3's own chain (AWS_* env, instance role)
    s3_secret_access_key: str = ""
    s3_addressing_style: str = "auto"  # "path" for MinIO/moto, "virtual" for Aliyun OSS
    queue_name: str = "videoretalk"
    # Redis hands an unacknowledged task to another worker after this long; keep it
    # above the longest task (a live worker's lease stops a second run either way).
    visibility_timeout_seconds: float = 3600.0
    # A running worker holds a lease in Redis, renewed every third of this; a task
    # whose lease lapsed belongs to a dead worker and is retried or failed.
    lease_seconds: float = 30.0
    # How often `serve` re-queues PENDING tasks the broker lost and orphaned RUNNING ones.
    reconcile_interval_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./videoretalk-data")
    limits: InputLimits = field(default_factory=InputLimits)
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    # "retalk" (face → motion → render) or "passthrough" (media layer only: frames unchanged).
    engine: str = "retalk"
    motion: MotionSettings = field(default_factory=MotionSettings)
    # Service settings (used by `videoretalk serve`).
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    workers: int = 1
    log_level: str = "info"
    log_format: str = "text"  # "json": one object per line with request_id and task_id
    service: ServiceSettings = field(default_factory=ServiceSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `VIDEORETALK_<FIELD>` and `VIDEORETALK_<GROUP>_<FIELD>`.

        e.g. `VIDEORETALK_PORT=9000`, `VIDEORETALK_LIMITS_VIDEO_MAX_SECONDS=300`,
        `VIDEORETALK_ENCODE_CRF=20`. Explicit keyword overrides win over the environment.
        """
        env = os.environ if environ is None else environ
        values = _read_dataclass(cls, env, ENV_PREFIX)
        values.update(overrides)
        settings = cls(**values)
        if settings.engine not in ("retalk", "passthrough"):
            raise InvalidParameter(
                f"VIDEORETALK_ENGINE={settings.engine!r}: it must be 'retalk' or 'passthrough'"
            )
        return settings


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
