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

from . import __version__
from .digests import file_sha256


def machine_label(cpu: dict, fallback: str = "") -> str:
    """How records and reports name a machine: CPU brand and core count, from py-cpuinfo's
    dict (pytest-benchmark's ``machine_info.cpu`` is the same)."""
    return f"{cpu.get('brand_raw') or fallback or 'unknown CPU'}, {cpu.get('count', '?')} cores"


@cache
def machine() -> str:
    """This machine's label."""
    import cpuinfo

    return machine_label(cpuinfo.get_cpu_info())


def item_key(test: str, codec, quality, image: str, pixels: str, shape: tuple, versions: dict, device: str,
             measured_with: dict | None) -> dict:  # fmt: skip
    """Everything that decides an item's result. ``measured_with``: for a rate–distortion item
    the metric set and timing options; None for a complexity count, which depends on neither."""
    key = {
        "test": test,
        "codecbench": __version__,
        "codec": codec.name,
        "quality": quality,
        # an adapter file's content; for an entry point, its name and its libraries' versions
        "adapter": file_sha256(codec.source) if Path(codec.source).is_file() else codec.source,
        "versions": versions,
        "weights": [checkpoint.url for checkpoint in codec.weights(quality)],  # names carry a hash
        "image": image,
        "pixels": pixels,
        "shape": list(shape),
        "device": device,
        "machine": machine(),
        **(measured_with or {}),
    }
    return json.loads(json.dumps(key, default=str))  # plain types: it travels to the xdist controller


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
