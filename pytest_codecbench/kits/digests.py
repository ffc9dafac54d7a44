"""SHA-256 (and MD5) of files, each version of a file (path, size, mtime) hashed once per process.

Checkpoints are tens of MB and every item of a quality checks its file; weight files
and codec adapters are checked as often.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    return _digest(str(path), *_version(path), "sha256")


def file_md5(path: Path | str) -> str:
    return _digest(str(path), *_version(path), "md5")


def _version(path: Path | str) -> tuple[int, int]:
    stat = Path(path).stat()
    return stat.st_size, stat.st_mtime_ns


@cache
def _digest(path: str, size: int, mtime_ns: int, algorithm: str) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, algorithm).hexdigest()
