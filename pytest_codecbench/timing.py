"""Wall and CPU time of named stages, over every run of an encode/decode round trip."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

_active: ContextVar[tuple[StageTimer, str] | None] = ContextVar("codecbench_stage", default=None)


@contextmanager
def stage(name: str, sync: Callable[[], None] | None = None):
    """Time a named stage; nested stages are named ``outer/inner``.

    Outside a measured round trip this does nothing, so codecs may call it freely.
    CPU time is the process's (all threads), wall time is ``perf_counter``. ``sync``
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
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        if sync:
            sync()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
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
        """Median and minimum wall time and median CPU time of every stage, in seconds."""
        stages = {name for run in self.runs for name in run}
        result = {}
        for name in sorted(stages):
            walls = [run[name][0] for run in self.runs if name in run]
            cpus = [run[name][1] for run in self.runs if name in run]
            result[name] = {
                "wall_median_s": statistics.median(walls),
                "wall_min_s": min(walls),
                "cpu_median_s": statistics.median(cpus),
                "runs": len(walls),
            }
        return result
