"""ProgressRecorder: (stage, fraction) from the engine → a throttled, monotonic percentage."""

from __future__ import annotations

from pathlib import Path

from videoretalk.tasks.progress import STAGE_SPANS, ProgressRecorder
from videoretalk.tasks.records import TaskInputs, TaskProgress, TaskRecord
from videoretalk.tasks.store import SQLiteTaskStore


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Recording(SQLiteTaskStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[TaskProgress] = []

    def set_progress(self, task_id: str, attempt: int, progress: TaskProgress) -> bool:
        self.writes.append(progress)
        return super().set_progress(task_id, attempt, progress)


def _running(tmp_path: Path) -> tuple[_Recording, int]:
    store = _Recording(tmp_path / "t.db")
    store.create(TaskRecord("t1", "k1", TaskInputs("http://a/v.mp4", "http://a/a.wav"), "r"))
    attempt = store.start("t1", "w")
    assert attempt is not None
    return store, attempt


def test_stages_map_onto_one_rising_percentage(tmp_path: Path) -> None:
    store, attempt = _running(tmp_path)
    clock = _Clock()
    recorder = ProgressRecorder(store, "t1", attempt, clock=clock)
    recorder("download", 0.0)
    recorder("validate", 0.0)
    clock.now = 1.0
    recorder("analyse", 0.5)
    assert store.get("t1").progress == TaskProgress("analyse", 26.5)  # type: ignore[union-attr]
    clock.now = 2.0
    recorder("render", 1.0)
    clock.now = 3.0
    recorder("mystery-stage", 0.1)  # unknown stages keep the bar where it was
    assert store.get("t1").progress == TaskProgress("mystery-stage", 97.0)  # type: ignore[union-attr]
    clock.now = 4.0
    recorder("analyse", 0.0)  # never backwards
    assert store.get("t1").progress.percent == 97.0  # type: ignore[union-attr]
    assert all(low <= high for low, high in STAGE_SPANS.values())


def test_writes_are_throttled_but_stage_changes_are_not(tmp_path: Path) -> None:
    store, attempt = _running(tmp_path)
    clock = _Clock()
    recorder = ProgressRecorder(store, "t1", attempt, max_writes_per_second=4, clock=clock)
    for frame in range(250):  # 250 frames over 5 s of wall time
        clock.now = frame * 0.02
        recorder("render", (frame + 1) / 250)
    assert 18 <= len(store.writes) <= 22  # ~4 a second, not 250
    clock.now += 0.01
    recorder("done", 1.0)  # a new stage is written at once
    assert store.writes[-1] == TaskProgress("done", 97.0)
