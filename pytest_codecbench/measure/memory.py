"""Memory: an item's peak (resident-set high-water mark above its start, CUDA's peak
allocation) and the memory a machine has available, read from Linux's /proc.

Python has no portable way to reset the process's high-water mark; Linux resets it when
"5" is written to /proc/self/clear_refs (since 4.0). Where that is not possible the peak
is not recorded (None) rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

STATUS, CLEAR_REFS, MEMINFO = Path("/proc/self/status"), Path("/proc/self/clear_refs"), Path("/proc/meminfo")
_children: list[int] = []  # peak resident bytes of each child process reaped since the last Peak began


def note_child(peak_bytes: int) -> None:
    """A child process's own peak (a command-line codec's encoder): the item records the largest."""
    _children.append(peak_bytes)


def status_bytes(path: Path, field: str) -> int | None:
    """A ``Field:   N kB`` line of a /proc file, in bytes."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available() -> int | None:
    """Bytes the machine can still give without swapping (MemAvailable), or None if unknown."""
    return status_bytes(MEMINFO, "MemAvailable")


class Peak:
    """``with Peak(device) as peak: ...``, then ``peak.result()``: megabytes above the start."""

    def __init__(self, device: str = "cpu"):
        self.cuda = device.startswith("cuda")
        self.start: int | None = None

    def __enter__(self):
        _children.clear()
        try:
            CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident set
            self.start = status_bytes(STATUS, "VmRSS")
        except OSError:
            self.start = None
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc):
        self.high = status_bytes(STATUS, "VmHWM") if self.start is not None else None
        self.children = list(_children)
        if self.cuda:
            import torch

            self.cuda_peak = torch.cuda.max_memory_allocated()
        return False

    def result(self) -> dict[str, float | None]:
        mb = 1 << 20
        peak = {"rss_above_start_mb": None if self.high is None else max(self.high - self.start, 0) / mb}
        if self.cuda:
            peak["cuda_max_allocated_mb"] = self.cuda_peak / mb
        if self.children:
            peak["child_process_mb"] = max(self.children) / mb
        return peak
