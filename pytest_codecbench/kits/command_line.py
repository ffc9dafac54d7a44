"""Codecs driven by command-line programs (VTM, HM, FFmpeg): where a program is found, its version,
its start-up cost, and one measured run of it.

Where: a tool is set by name, ``--tool NAME=PATH`` (repeatable) or the ``codecbench_tools`` ini
(one ``NAME=PATH`` a line), which codecbench exports as ``$CODECBENCH_<NAME>`` so that xdist's
workers inherit it; a user may set that variable directly. PATH is a folder holding the tool's programs
(or their ``bin/``), or one of them, whose folder then gives the others. Unset, the programs are
looked for on PATH.

A run's child process is measured: its CPU time is counted in the stage that ran it (see
``timing.cpu_seconds``) and its peak resident memory in the item's (``memory.note_child``). That
peak is the program's own high-water mark (``VmHWM``), read from /proc every few milliseconds while
it runs: the ``ru_maxrss`` that ``wait4`` gives counts the memory of the process that spawned it too
(Linux keeps the largest resident set of the address space it had before ``exec``, the parent's),
so a 100 MB program started from a 400 MB Python process would read 400 MB.
Start-up cost is measured, not a version: codecs report it beside each item
(``extra_info.estimates``), so that record keys, which hold versions, stay stable.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..measure import memory
from .digests import file_sha256  # noqa: F401  (adapters hash their programs' configuration files)

TOOLS_INI = "codecbench_tools"


class ToolError(Exception):
    """A program failed or wrote something else than asked; the message holds its own words."""


def variable(tool: str) -> str:
    """The environment variable that sets ``tool``: ``vtm`` -> ``CODECBENCH_VTM``."""
    return "CODECBENCH_" + re.sub(r"\W", "_", tool).upper()


def settings(entries: list[str], where: str, base: Path) -> dict[str, Path]:
    """``NAME=PATH`` entries (of ``where``: an option or the ini) as {name: path}, a relative path
    taken from ``base``; ValueError naming the entry when one is malformed."""
    found = {}
    for entry in entries:
        name, equals, path = entry.partition("=")
        if not (equals and name.strip() and path.strip()):
            raise ValueError(f"{where} {entry!r}: expected NAME=PATH, e.g. vtm=/opt/vtm/bin")
        found[name.strip()] = base / Path(path.strip()).expanduser()
    return found


@dataclass(frozen=True)
class Tool:
    """A program of a named tool: ``Tool("vtm", ("EncoderAppStatic", "EncoderApp"), how)``."""

    tool: str  # the name it is set by
    programs: tuple[str, ...]  # file names it may have, preferred first
    install: str  # how to get it, for the skip reason

    def setting(self) -> Path | None:
        value = os.environ.get(variable(self.tool))
        return Path(value) if value else None

    def path(self) -> Path | None:
        """The program: in the folder (or beside the executable) the tool is set to, else on PATH."""
        setting = self.setting()
        if setting is None:
            found = next(filter(None, map(shutil.which, self.programs)), None)
            return Path(found) if found else None
        if not setting.exists():
            return None
        if setting.is_file() and setting.name in self.programs:
            return setting
        folder = setting if setting.is_dir() else setting.parent
        for place in (folder, folder / "bin"):
            for name in self.programs:
                if (place / name).is_file():
                    return place / name
        # an executable of another name (ffmpeg-7), unless it named a sibling (EncoderApp for DecoderApp)
        return setting if setting.is_file() else None

    def missing(self) -> str | None:
        """Why the program cannot be run here, or None."""
        path = self.path()
        setting = self.setting()
        if path is None:
            where = f"${variable(self.tool)}={setting}" if setting else "PATH"
            return (
                f"{' or '.join(self.programs)} not found (looked in {where}): {self.install}; "
                f"then --tool {self.tool}=PATH (or ${variable(self.tool)}) names it or its folder"
            )
        if not os.access(path, os.X_OK):
            return f"{path} is not executable"
        return None

    def run(self, args: list, stdin: bytes = b"", env: dict[str, str] | None = None) -> tuple[bytes, str]:
        """The program's stdout and stderr for ``args``; ToolError if it fails."""
        return run([str(self.path()), *map(str, args)], stdin, env)

    def version(self, args: list, pattern: str) -> str:
        """The first group of ``pattern`` in what the program prints for ``args`` (e.g. ``--help``)."""
        out, err = run([str(self.path()), *args], check=False)
        found = re.search(pattern, out.decode(errors="replace") + err)
        return found[1] if found else "unknown"


def run(command: list[str], stdin: bytes = b"", env: dict | None = None, check: bool = True) -> tuple[bytes, str]:
    """Run ``command`` with ``stdin`` fed to it, measured: it is reaped with ``os.wait4``, which
    gives its own peak memory (and adds its CPU time to this process's children's)."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    streams: dict[str, bytes] = {}

    def read(name, pipe):
        streams[name] = pipe.read()

    # threads, so that neither side waits for the other to empty a full pipe
    readers = [threading.Thread(target=read, args=item) for item in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    try:
        process.stdin.write(stdin)
    except BrokenPipeError:  # the program exited without reading it all; its status tells why
        pass
    finally:
        process.stdin.close()
    watcher = _PeakWatcher(process.pid)
    try:
        _, status, _ = os.wait4(process.pid, 0)
    except BaseException:  # the time limit or Ctrl-C: the program must not outlive its item
        process.kill()
        os.waitpid(process.pid, 0)
        process.returncode = -9
        raise
    finally:
        watcher.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    if watcher.peak:  # none when it ended before the first look: then its memory is not known
        memory.note_child(watcher.peak)
    stderr = streams["err"].decode(errors="replace")
    if check and process.returncode != 0:
        said = (stderr.strip() or streams["out"].decode(errors="replace").strip()).splitlines()
        tail = " | ".join(said[-3:])
        raise ToolError(f"{Path(command[0]).name} {' '.join(command[1:])} exited with {process.returncode}: {tail}")
    return streams["out"], stderr


class _PeakWatcher:
    """Reads a running program's VmHWM (bytes) every POLL_S seconds in a thread of its own, so that the
    caller blocks in ``wait4`` and sees the exit at once; growth in its last POLL_S is not seen."""

    POLL_S = 0.005

    def __init__(self, pid: int):
        self.path, self.peak = Path(f"/proc/{pid}/status"), 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while True:
            high = memory.status_bytes(self.path, "VmHWM")  # None once it has exited (a zombie has no memory)
            if high is None or self.done.is_set():
                return
            self.peak = max(self.peak, high)
            self.done.wait(self.POLL_S)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


@cache
def startup_ms(command: tuple[str, ...]) -> float:
    """The median wall time of a run that does no coding (e.g. ``ffmpeg -version``): the cost of
    starting the program, which every encode and decode pays once."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run(list(command), check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3
