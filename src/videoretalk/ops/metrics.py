"""Prometheus metrics, read from the shared task store and queue at scrape time.

Computed from the store rather than counted in-process, so any API node reports
the whole cluster and nothing is lost when a worker process dies:

  videoretalk_tasks{status}                         gauge: tasks in the store
  videoretalk_queue_depth                           gauge: ids waiting in the queue
  videoretalk_task_failures_total{code}             counter: FAILED tasks by error code
  videoretalk_processing_seconds_per_output_second  gauge histogram: first start to end,
                                                    per second of output video, over
                                                    successes in the last window
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..tasks.backends import Backends
from ..tasks.records import TaskStatus
from ..tasks.stats import task_stats

__all__ = ["SPEED_BUCKETS", "WINDOW_SECONDS", "ServiceCollector", "render_metrics"]

# Realtime factor buckets: 0.25× … 32× the output duration.
SPEED_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
WINDOW_SECONDS = 3600.0
_STORED = [s for s in TaskStatus if s is not TaskStatus.UNKNOWN]


class ServiceCollector:
    def __init__(self, backends: Backends, window_seconds: float = WINDOW_SECONDS) -> None:
        self.backends = backends
        self.window_seconds = window_seconds

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeHistogramMetricFamily,
            GaugeMetricFamily,
        )

        stats = task_stats(self.backends.store, since=time.time() - self.window_seconds)
        tasks = GaugeMetricFamily(
            "videoretalk_tasks", "Tasks in the store by status.", labels=["status"]
        )
        for status in _STORED:
            tasks.add_metric([status.value], stats.by_status.get(status.value, 0))
        yield tasks
        yield GaugeMetricFamily(
            "videoretalk_queue_depth",
            "Task ids waiting in the queue.",
            value=len(self.backends.queue),
        )
        failures = CounterMetricFamily(
            "videoretalk_task_failures", "Tasks that ended FAILED, by error code.", labels=["code"]
        )
        for code, count in sorted(stats.failures_by_code.items()):
            failures.add_metric([code], count)
        yield failures
        ratios = [wall / out for wall, out in stats.recent_runs if out > 0]
        buckets = [(str(le), float(sum(r <= le for r in ratios))) for le in SPEED_BUCKETS]
        buckets.append(("+Inf", float(len(ratios))))
        yield GaugeHistogramMetricFamily(
            "videoretalk_processing_seconds_per_output_second",
            f"Processing seconds (first start to end) per second of output video, over "
            f"tasks that succeeded in the last {self.window_seconds:g} s.",
            buckets=buckets,
            gsum_value=float(sum(ratios)),
        )


def render_metrics(backends: Backends) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(backends))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
