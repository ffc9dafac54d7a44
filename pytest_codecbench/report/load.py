"""Read codecbench JSON reports, check them, and merge them into groups measured alike.

A group is one (dataset, crop, machine): files that differ in any of these are kept
apart, never averaged together. Within a group the same item (codec, quality, image)
measured more than once is reported once: the record from the file given last on the
command line wins, with a warning.
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..records import machine_label


class ReportError(Exception):
    """A file cannot be used as a codecbench report; the message names it."""


@dataclass(frozen=True)
class Item:
    codec: str
    quality: int | float | str
    image: str
    record: dict  # the benchmark's extra_info: bpp, bytes, metrics, timing, ...

    @property
    def pixels(self) -> int:
        return self.record["width"] * self.record["height"]


@dataclass
class Group:
    dataset: str
    crop: str  # "512x512" or "full"
    machine: str  # CPU and core count, e.g. "AMD EPYC 9B14, 2 cores"
    metrics: dict[str, dict] = field(default_factory=dict)  # column -> label, higher_is_better, bd_rate
    codecs: dict[str, dict] = field(default_factory=dict)  # codec -> description, versions, lossless
    items: dict[tuple, Item] = field(default_factory=dict)
    counts: dict[tuple, Item] = field(default_factory=dict)  # complexity counts (test_macs): MACs, parameters
    sources: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # the pytest commands that measured it
    python: str = ""

    @property
    def name(self) -> str:
        """File-name friendly, stable across runs on the same kind of machine."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.dataset} {self.crop} {self.machine}".lower()).strip("-")


def read_report(path: Path) -> dict:
    try:
        path = Path(path)
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError as error:
        raise ReportError(f"{path}: no such file") from error
    except (json.JSONDecodeError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as error:
        raise ReportError(f"{path}: not valid JSON, truncated? ({error})") from error
    if not isinstance(data, dict) or "benchmarks" not in data or "machine_info" not in data:
        raise ReportError(f"{path}: not a pytest-benchmark JSON report (no 'benchmarks' and 'machine_info')")
    if "codecbench" not in data:
        raise ReportError(f"{path}: a pytest-benchmark report, but not written by codecbench (no 'codecbench' key)")
    for bench in data["benchmarks"]:
        params, info = bench.get("params") or {}, bench.get("extra_info") or {}
        if not {"codec", "quality", "image"} <= set(params) or not {"bpp", "complexity"} & set(info):
            raise ReportError(f"{path}: benchmark {bench.get('name')!r} is not a codecbench item")
    return data


def merge(paths: list[Path]) -> tuple[list[Group], list[str]]:
    """Groups from every readable file, and one error message per file that is not.

    An item's machine is the one that measured it (``extra_info.machine``, which workers on
    other hosts record), else the file's; so remote-gateway and sharded runs group by where
    each item was timed.
    """
    groups: dict[tuple, Group] = {}
    errors: list[str] = []
    for path in paths:
        try:
            data = read_report(path)
        except ReportError as error:
            errors.append(str(error))
            continue
        meta = data["codecbench"]
        crop = "x".join(map(str, meta["crop"])) if meta.get("crop") else "full"
        here = machine_label(data["machine_info"].get("cpu", {}), data["machine_info"].get("processor", ""))
        if not data["benchmarks"]:
            warnings.warn(f"{path}: an empty run, no items measured", stacklevel=2)
        replaced = 0
        for bench in data["benchmarks"]:
            params, info = bench["params"], bench["extra_info"]
            key = (meta["dataset"]["name"], crop, info.get("machine", here))
            group = groups.setdefault(key, Group(*key))
            if str(path) not in group.sources:
                group.sources.append(str(path))
                if meta.get("command") and meta["command"] not in group.commands:
                    group.commands.append(meta["command"])
                group.python = data["machine_info"].get("python_version", "")
                group.metrics.update(meta["metrics"])
                group.codecs.update(meta["codecs"])
            item = Item(params["codec"], params["quality"], params["image"], info)
            items = group.items if "bpp" in info else group.counts
            replaced += (item.codec, str(item.quality), item.image) in items
            items[item.codec, str(item.quality), item.image] = item
        if replaced:
            warnings.warn(f"{path}: {replaced} items were already in an earlier file; the records of {path} are kept",
                          stacklevel=2)  # fmt: skip
    return list(groups.values()), errors
