"""SHA-256 of files, each version of a file (path, size, mtime) hashed once per process.

Checkpoints are tens of MB and every item of a quality checks its file; weight files
and codec adapters are checked as often.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    stat = Path(path).stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
