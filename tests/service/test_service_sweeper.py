"""The sweeper deletes expired results, uploads and working folders, and nothing else."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from videoretalk.config import Settings
from videoretalk.storage.sweeper import sweep
from videoretalk.tasks.backends import open_backends
from videoretalk.tasks.records import TaskInputs, TaskRecord, TaskResult

DAY = 24 * 3600


def test_sweep_removes_only_what_expired(tmp_path: Path) -> None:
    backends = open_backends(Settings(data_dir=tmp_path))
    store, blobs = backends.store, backends.blobs
    src = tmp_path / "out.mp4"
    src.write_bytes(b"video")
    for task_id in ("old", "new"):
        store.create(
            TaskRecord(
                task_id=task_id,
                owner="k",
                request_id="r",
                inputs=TaskInputs("http://a/v", "http://a/a"),
            )
        )
        store.start(task_id, "w")
        blobs.put_file(f"results/{task_id}.mp4", src)
        store.succeed(task_id, 1, TaskResult(f"results/{task_id}.mp4", 5.0))
    policy = backends.uploads.issue_policy("k", "http://x/up")
    backends.uploads.accept(
        "k", policy.policy, policy.signature, policy.upload_dir + "/a.wav", io.BytesIO(b"audio")
    )
    stale = backends.temp_dir / "gone-task"
    stale.mkdir()
    os.utime(stale, (time.time() - DAY, time.time() - DAY))

    # "old" ended a day and a bit ago (as seen from the future), "new" did not.
    later = time.time() + DAY + 60
    with backends.store._db() as db:  # type: ignore[attr-defined]
        db.execute("UPDATE tasks SET end_time = end_time + ? WHERE task_id = 'new'", (DAY,))
    removed = sweep(backends, now=later)
    assert removed == {"results": 1, "uploads": 0, "temp": 1}
    assert blobs.stat("results/old.mp4") is None and blobs.stat("results/new.mp4") is not None
    assert store.get("old").result.video_duration == 5.0  # type: ignore[union-attr]
    assert not stale.exists()
    assert sweep(backends, now=time.time() + 2 * DAY + 60)["uploads"] == 1
