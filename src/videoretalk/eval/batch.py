"""Which clips to score: one clip from arguments, or many from a manifest or a folder.

A manifest is JSON, either a list of clips or {"clips": [...]}; each clip names
`video`, `audio` and `output`, optionally `reference`, `name` and `seconds` (processing
time). Relative paths are relative to the manifest's folder. A folder is read through
its `manifest.json` if it has one, else every `X.mp4` with a sidecar `X.json` holding
the same fields (its `output` defaults to `X.mp4`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidParameter

Pathish = str | os.PathLike[str]
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ClipJob:
    name: str
    video: Path
    audio: Path
    output: Path
    reference: Path | None = None
    seconds: float | None = None  # processing wall time, if the caller measured it


def load_manifest(path: Pathish) -> list[ClipJob]:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"Cannot read the manifest {path}: {exc}") from exc
    entries = data.get("clips") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise InvalidParameter(f'{path}: expected a list of clips or {{"clips": [...]}}.')
    return [_job(entry, path.parent, f"{path}: clip {i}") for i, entry in enumerate(entries)]


def scan_folder(folder: Pathish) -> list[ClipJob]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidParameter(f"{folder} is not a folder.")
    if (folder / MANIFEST_NAME).is_file():
        return load_manifest(folder / MANIFEST_NAME)
    jobs = []
    for output in sorted(folder.glob("*.mp4")):
        sidecar = output.with_suffix(".json")
        if not sidecar.is_file():
            continue
        try:
            entry = json.loads(sidecar.read_text())
        except ValueError as exc:
            raise InvalidParameter(f"{sidecar} is not valid JSON: {exc}") from exc
        if isinstance(entry, dict):
            entry = {"output": output.name, "name": output.stem, **entry}
        jobs.append(_job(entry, folder, str(sidecar)))
    if not jobs:
        raise InvalidParameter(
            f"{folder} holds neither {MANIFEST_NAME} nor any X.mp4 with an X.json "
            "naming its video and audio."
        )
    return jobs


def _job(entry: Any, base: Path, where: str) -> ClipJob:
    if not isinstance(entry, dict):
        raise InvalidParameter(
            f"{where}: each clip must be an object with video, audio and output."
        )
    missing = [k for k in ("video", "audio", "output") if not entry.get(k)]
    if missing:
        raise InvalidParameter(f"{where}: missing {', '.join(missing)}.")

    def resolve(key: str) -> Path:
        return (base / str(entry[key])).resolve()

    seconds = entry.get("seconds")
    if seconds is not None and not isinstance(seconds, (int, float)):
        raise InvalidParameter(f"{where}: seconds must be a number, not {seconds!r}.")
    output = resolve("output")
    return ClipJob(
        name=str(entry.get("name") or output.stem),
        video=resolve("video"),
        audio=resolve("audio"),
        output=output,
        reference=resolve("reference") if entry.get("reference") else None,
        seconds=float(seconds) if seconds is not None else None,
    )
