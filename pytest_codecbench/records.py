"""Durable per-item records: written as soon as an item passes, read back to resume a sweep.

Each record is one JSON file named by the SHA-256 of its key: everything that decides the
result (codecbench version, the codec's adapter source and library versions, quality, the
exact pixels measured, metric set, device, machine, timing options). A record whose key no
longer matches is simply not found, so a resumed run measures it again. Files are written
to a temporary name, flushed to disk and renamed: a killed process leaves either the whole
record or none.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path


@cache
def machine() -> str:
    """The CPU and core count, as the report names machines (from py-cpuinfo, as pytest-benchmark does)."""
    import cpuinfo

    info = cpuinfo.get_cpu_info()
    return f"{info.get('brand_raw') or 'unknown CPU'}, {info.get('count', '?')} cores"


def digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


class RecordStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, key_digest: str) -> Path:
        return self.folder / key_digest[:2] / f"{key_digest}.json"

    def load(self, key_digest: str) -> dict | None:
        """The stored entry ({"key", "benchmark"}), or None if there is none or it cannot be read."""
        try:
            return json.loads(self.path(key_digest).read_text())
        except (OSError, ValueError):
            return None

    def save(self, key_digest: str, entry: dict) -> None:
        path = self.path(key_digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(scratch, "w") as file:
            json.dump(entry, file, sort_keys=True)
            file.flush()
            os.fsync(file.fileno())
        os.replace(scratch, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a power loss
        finally:
            os.close(folder)
