"""Durable per-item records: written as soon as an item passes, read back to resume a sweep.

Each record is one JSON file named by the SHA-256 of its key: everything that decides the
result (codecbench version, the codec's adapter source and library versions, quality, the
exact pixels measured, metric set, device, machine, timing options). A record whose key no
longer matches is simply not found, so a resumed run measures it again; one that holds
another key, or whose content no longer matches the checksum stored with it, is measured
again with a warning naming the file. Files are written to a temporary name, flushed to
disk and renamed: a killed process leaves either the whole record or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from functools import cache
from pathlib import Path

from .. import __version__
from ..kits.digests import file_sha256


def machine_label(cpu: dict, fallback: str = "") -> str:
    """How records and reports name a machine: CPU brand and core count, from py-cpuinfo's
    dict (pytest-benchmark's ``machine_info.cpu`` is the same)."""
    return f"{cpu.get('brand_raw') or fallback or 'unknown CPU'}, {cpu.get('count', '?')} cores"


@cache
def machine() -> str:
    """This machine's label."""
    import cpuinfo

    return machine_label(cpuinfo.get_cpu_info())


def item_key(
    test: str,
    codec,
    quality,
    image: str,
    pixels: str,
    shape: tuple,
    versions: dict,
    device: str,
    measured_with: dict | None,
) -> dict:
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


class RecordWarning(UserWarning):
    """A record could not be used or written; the sweep goes on without it."""


def _checksum(key: dict, benchmark: dict) -> str:
    return digest({"key": key, "benchmark": benchmark})


def _problem(entry, key: dict) -> str | None:
    """Why a stored entry cannot stand for the item of ``key``, or None."""
    if not isinstance(entry, dict) or not {"key", "benchmark", "sha256"} <= set(entry):
        return "is not a complete codecbench record"
    if entry["key"] != key:
        stored = entry["key"] if isinstance(entry["key"], dict) else {}
        item = ", ".join(f"{k} {stored.get(k)!r}" for k in ("codec", "quality", "image"))
        return f"holds the record of another item ({item})"
    if entry["sha256"] != _checksum(entry["key"], entry["benchmark"]):
        return "was changed after it was written (its checksum does not match)"
    return None


class RecordStore:
    """Records in one folder. Records are a safety net: one that cannot be written is not
    fatal (the first error is warned about, naming the folder; the sweep goes on), and one
    that cannot be trusted is warned about, naming the file, and measured again."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.write_error: str | None = None

    def path(self, key_digest: str) -> Path:
        return self.folder / key_digest[:2] / f"{key_digest}.json"

    def load(self, key: dict) -> dict | None:
        """The stored entry ({"key", "benchmark", "sha256"}) of the item of ``key``, or None."""
        path = self.path(digest(key))
        if not path.exists():
            return None
        try:
            problem = _problem(json.loads(path.read_text()), key)
        except (OSError, ValueError) as error:
            problem = f"cannot be read ({error})"
        if problem is None:
            return json.loads(path.read_text())
        warnings.warn(RecordWarning(f"record {path} {problem}; the item is measured again"), stacklevel=2)
        return None

    def save(self, key: dict, benchmark: dict) -> None:
        """Write the record whole or not at all: to a scratch file, flushed to disk, then renamed."""
        path = self.path(digest(key))
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(scratch, "w") as file:
                json.dump(
                    {"key": key, "benchmark": benchmark, "sha256": _checksum(key, benchmark)}, file, sort_keys=True
                )
                file.flush()
                os.fsync(file.fileno())
            os.replace(scratch, path)
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)  # the rename itself survives a power loss
            finally:
                os.close(folder)
        except OSError as error:
            with contextlib.suppress(OSError):
                scratch.unlink(missing_ok=True)
            if self.write_error is None:
                self.write_error = f"cannot write records in {self.folder} ({error}); measuring goes on without them"
                warnings.warn(RecordWarning(self.write_error), stacklevel=2)
