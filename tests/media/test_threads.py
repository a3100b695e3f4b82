"""The decode-ahead and write-behind threads: order kept, errors surface, threads end."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from videoretalk.media.decode import DecodedFrame, prefetch
from videoretalk.media.encode import WriteBehind


def _frames(count: int, fail_at: int | None = None) -> Iterator[DecodedFrame]:
    for i in range(count):
        if i == fail_at:
            raise RuntimeError("decoder broke")
        yield DecodedFrame(i, i / 25, np.full((2, 2, 3), i, np.uint8))


def _decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "videoretalk-decode"]


def test_prefetch_keeps_order_and_ends_its_thread() -> None:
    assert [f.index for f in prefetch(_frames(50), depth=3)] == list(range(50))
    assert not _decode_threads()


def test_prefetch_raises_the_producers_error_in_the_consumer() -> None:
    seen = []
    with pytest.raises(RuntimeError, match="decoder broke"):
        for frame in prefetch(_frames(20, fail_at=7)):
            seen.append(frame.index)
    assert seen == list(range(7))
    assert not _decode_threads()


def test_prefetch_stops_when_the_consumer_stops_early() -> None:
    frames = prefetch(_frames(1000), depth=2)
    assert next(frames).index == 0
    frames.close()  # what a `for` loop does when its body raises
    assert not _decode_threads()


class _Sink:
    def __init__(self, fail_at: int | None = None) -> None:
        self.times: list[float] = []
        self.fail_at = fail_at

    def write(self, image: np.ndarray, time: float) -> None:
        if len(self.times) == self.fail_at:
            raise OSError("disk full")
        self.times.append(time)


def test_write_behind_writes_everything_in_order() -> None:
    sink = _Sink()
    with WriteBehind(sink, depth=2) as writer:  # type: ignore[arg-type]
        for i in range(30):
            writer.write(np.zeros((2, 2, 3), np.uint8), i / 25)
    assert sink.times == [i / 25 for i in range(30)]


def test_write_behind_raises_the_writers_error() -> None:
    sink = _Sink(fail_at=5)
    with pytest.raises(OSError, match="disk full"), WriteBehind(sink, depth=2) as writer:  # type: ignore[arg-type]
        for i in range(30):
            writer.write(np.zeros((2, 2, 3), np.uint8), i / 25)
    assert sink.times == [i / 25 for i in range(5)]
