"""Wall and CPU time of named stages, over every run of an encode/decode round trip."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

CONFIDENCE = 0.95

_active: ContextVar[tuple[StageTimer, str] | None] = ContextVar("codecbench_stage", default=None)


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its waited-for children (e.g. ffmpeg)."""
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


@contextmanager
def stage(name: str, sync: Callable[[], None] | None = None):
    """Time a named stage; nested stages are named ``outer/inner``.

    Outside a measured round trip this does nothing, so codecs may call it freely.
    CPU time is the process's (all threads) and its children's (a command-line codec's
    program, once reaped), wall time is ``perf_counter``. ``sync``
    (e.g. ``torch.cuda.synchronize``) is called before each clock reading, so that work
    queued on an accelerator is counted in the stage that queued it.
    """
    active = _active.get()
    if active is None:
        yield
        return
    timer, prefix = active
    token = _active.set((timer, f"{prefix}/{name}" if prefix else name))
    if sync:
        sync()
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield
    finally:
        if sync:
            sync()
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        _active.reset(token)
        record(name, wall, cpu)


def record(name: str, wall: float, cpu: float) -> None:
    """Add time measured by other means (e.g. module hooks) to stage ``name`` of the current run."""
    active = _active.get()
    if active is None:
        return
    timer, prefix = active
    path = f"{prefix}/{name}" if prefix else name
    old_wall, old_cpu = timer.current.get(path, (0.0, 0.0))
    timer.current[path] = (old_wall + wall, old_cpu + cpu)


@cache
def _interval_rank(n: int) -> int:
    """The largest j with P(X_(j) <= median <= X_(n+1-j)) >= CONFIDENCE for n samples of any
    continuous distribution: the binomial order-statistic interval (as scipy.stats.quantile_test's
    confidence_interval), 0 when n is too small for one (n < 6 at 0.95)."""
    from scipy.stats import binom

    tail = (1 - CONFIDENCE) / 2
    return int((binom.cdf(range(n + 1), n, 0.5) <= tail).sum())


def median_interval(values: list[float]) -> tuple[float, float] | None:
    """The distribution-free CONFIDENCE interval of the median of ``values``, or None with too few."""
    j = _interval_rank(len(values))
    if j == 0:
        return None
    ordered = sorted(values)
    return ordered[j - 1], ordered[len(values) - j]


def precise_enough(durations: list[float], precision: float) -> bool:
    """Whether the median's confidence interval lies within ±``precision`` of the median."""
    interval = median_interval(durations)
    if interval is None:
        return False
    median = statistics.median(durations)
    return interval[1] - median <= precision * median and median - interval[0] <= precision * median


class StageTimer:
    """Collects one ``{stage: (wall_s, cpu_s)}`` dict per run."""

    def __init__(self):
        self.runs: list[dict[str, tuple[float, float]]] = []
        self.current: dict[str, tuple[float, float]] = {}

    @contextmanager
    def run(self):
        self.current = {}
        token = _active.set((self, ""))
        try:
            yield
        finally:
            _active.reset(token)
        self.runs.append(self.current)

    def summary(self) -> dict[str, dict[str, float]]:
        """Median (with its confidence interval, None for fewer than 6 runs) and minimum wall time
        and median CPU time of every stage, in seconds."""
        stages = {name for run in self.runs for name in run}
        result = {}
        for name in sorted(stages):
            walls = [run[name][0] for run in self.runs if name in run]
            cpus = [run[name][1] for run in self.runs if name in run]
            interval = median_interval(walls)
            result[name] = {
                "wall_median_s": statistics.median(walls),
                "wall_median_ci_s": list(interval) if interval else None,
                "wall_min_s": min(walls),
                "cpu_median_s": statistics.median(cpus),
                "runs": len(walls),
            }
        return result
