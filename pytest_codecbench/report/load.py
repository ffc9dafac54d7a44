"""Read codecbench JSON reports, check them, and merge them into groups measured alike.

A group is one (dataset, crop, machine): files that differ in any of these are kept
apart, never averaged together. Within a group the same item (codec, quality, image)
measured more than once is reported once: the record from the file given last on the
command line wins, with a warning.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import schema
from ..measure.records import machine_label


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
    failed: list[dict] = field(default_factory=list)  # items that failed, left out of every table
    skipped: list[dict] = field(default_factory=list)  # test, codec, items, reason: items that were not measured
    # codec -> machine: rate–distortion items measured on another machine (``borrow``); their times are not shown
    borrowed: dict[str, str] = field(default_factory=dict)
    python: str = ""
    set_references: dict[str, str] = field(default_factory=dict)  # originals' features for FID/KID, by digest

    def timed(self, codec: str) -> bool:
        """Whether the codec's times were taken on this group's machine (not borrowed)."""
        return codec not in self.borrowed

    def lossy(self, codec: str) -> bool:
        return not self.codecs.get(codec, {}).get("lossless")

    @property
    def name(self) -> str:
        """File-name friendly, stable across runs on the same kind of machine."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.dataset} {self.crop} {self.machine}".lower()).strip("-")


def _text(value: str) -> str:
    """A string that encodes as UTF-8: a file name that was not UTF-8 reaches the JSON as lone surrogates
    (Python's surrogateescape), which no file can be written with; its bytes are shown as \\xNN escapes."""
    try:
        value.encode()
        return value
    except UnicodeEncodeError:
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that stands for no byte
            return value.encode("utf-8", "backslashreplace").decode()


def _texts(value):
    """``value`` with every string in it (keys too) passed through ``_text``."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_texts(v) for v in value]
    if isinstance(value, dict):
        return {_text(k): _texts(v) for k, v in value.items()}
    return value


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _meta_problem(meta) -> str | None:
    """Why the file's ``codecbench`` section cannot be used, or None."""
    if not isinstance(meta, dict):
        return "its 'codecbench' section is not an object"
    dataset, crop = meta.get("dataset"), meta.get("crop")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        return "codecbench.dataset has no name"
    if crop is not None and not (isinstance(crop, list) and len(crop) == 2 and all(_count(c) for c in crop)):
        return f"codecbench.crop {crop!r} is not [width, height] or null"
    columns = meta.get("metrics")
    if not isinstance(columns, dict) or not all(
        isinstance(c, dict) and isinstance(c.get("label"), str) for c in columns.values()
    ):
        return "codecbench.metrics is not a table of metric columns with labels"
    if not isinstance(meta.get("codecs"), dict) or not all(isinstance(c, dict) for c in meta["codecs"].values()):
        return "codecbench.codecs is not a table of codecs"
    return None


def _item_problem(bench) -> str | None:
    """Why a benchmark entry is not a usable codecbench item, or None."""
    if not isinstance(bench, dict):
        return "is not an object"
    params, info = bench.get("params"), bench.get("extra_info")
    if not isinstance(params, dict) or not all(isinstance(params.get(k), str) for k in ("codec", "image")):
        return "has no codec and image parameters"
    if not isinstance(params.get("quality"), (int, float, str)) or isinstance(params["quality"], bool):
        return f"has quality {params.get('quality')!r}"
    if not isinstance(info, dict):
        return "has no extra_info"
    if schema.kind(info) == schema.COUNT:
        counts = info["complexity"]
        keys = [f"{part}_{key}" for part in ("encoder", "decoder") for key in ("macs", "kmacs_per_pixel", "params")]
        if not isinstance(counts, dict) or not all(_number(counts.get(key)) for key in keys):
            return "has no encoder and decoder counts"
        if not isinstance(info.get("not_counted"), dict) or not isinstance(info.get("counter"), str):
            return "does not say what was not counted, and by what"
        return None
    if not _number(info.get("bpp")) or info["bpp"] < 0:
        return f"has bpp {info.get('bpp')!r}"
    if not all(_count(info.get(k)) and info[k] > 0 for k in ("width", "height")) or not _count(info.get("bytes")):
        return "has no width, height and bytes"
    values = info.get("metrics")
    if not isinstance(values, dict) or not all(v is None or _number(v) for v in values.values()):
        return f"has metrics {values!r}"
    timing = info.get("timing")
    if (
        not isinstance(timing, dict)
        or not {"encode", "decode"} <= set(timing)
        or not all(
            isinstance(t, dict) and _number(t.get("wall_median_s")) and t["wall_median_s"] > 0 for t in timing.values()
        )
    ):
        return "has no encode and decode times"
    return None


def read_report(path: Path) -> tuple[dict, list[str]]:
    """The report, with only its usable items, and a message for each item left out."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw)
        if re.search(rb"\\u[dD][89a-fA-F]", raw):  # surrogates: pytest-benchmark writes non-ASCII as escapes
            data = _texts(data)
    except FileNotFoundError as error:
        raise ReportError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise ReportError(f"{path}: a folder, not a JSON file") from error
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error})") from error
    except (json.JSONDecodeError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as error:
        raise ReportError(f"{path}: not valid JSON, truncated? ({error})") from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("benchmarks"), list)
        or not isinstance(data.get("machine_info"), dict)
    ):
        raise ReportError(f"{path}: not a pytest-benchmark JSON report (no 'benchmarks' list and 'machine_info')")
    if "codecbench" not in data:
        raise ReportError(f"{path}: a pytest-benchmark report, but not written by codecbench (no 'codecbench' key)")
    problem = _meta_problem(data["codecbench"])
    if problem:
        raise ReportError(f"{path}: {problem}")
    usable, errors = [], []
    for index, bench in enumerate(data["benchmarks"]):
        problem = _item_problem(bench)
        if problem:
            name = bench.get("name") if isinstance(bench, dict) else None
            errors.append(f"{path}: item {name or index!r} {problem}; left out")
        else:
            usable.append(bench)
    data["benchmarks"] = usable
    failed = data["codecbench"].get("failed") or []
    data["codecbench"]["failed"] = [f for f in failed if isinstance(f, dict) and isinstance(f.get("codec"), str)]
    skipped = data["codecbench"].get("skipped") or []
    data["codecbench"]["skipped"] = [
        s for s in skipped if isinstance(s, dict) and all(isinstance(s.get(k), str) for k in ("codec", "reason"))
    ]
    return data, errors


def _note(text: str) -> None:
    print(f"codecbench report: {text}", file=sys.stderr)


def merge(paths: list[Path]) -> tuple[list[Group], list[str]]:
    """Groups from every readable file, and one error message per file that is not.

    An item's machine is the one that measured it (``extra_info.machine``, which workers on
    other hosts record), else the file's; so remote-gateway and sharded runs group by where
    each item was timed.
    """
    groups: dict[tuple, Group] = {}
    errors: list[str] = []
    skipped: list[tuple[tuple, list[dict]]] = []
    for path in paths:
        try:
            data, item_errors = read_report(path)
        except ReportError as error:
            errors.append(str(error))
            continue
        errors += item_errors
        meta = data["codecbench"]
        crop = "x".join(map(str, meta["crop"])) if meta.get("crop") else "full"
        here = machine_label(data["machine_info"].get("cpu", {}), data["machine_info"].get("processor", ""))
        # skipped items have no machine of their own: they join the file's machine's group
        skipped.append(((meta["dataset"]["name"], crop, here), meta["skipped"]))
        if not data["benchmarks"] and not meta["skipped"]:
            _note(f"{path}: an empty run, no items measured")
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
                group.failed += meta["failed"]
                group.set_references.update((meta.get("sets") or {}).get("references") or {})
            item = Item(params["codec"], params["quality"], params["image"], info)
            items = group.items if schema.kind(info) == schema.RD else group.counts
            replaced += (item.codec, str(item.quality), item.image) in items
            items[item.codec, str(item.quality), item.image] = item
        if replaced:
            _note(f"{path}: {replaced} items were already in an earlier file; the records of {path} are kept")
    for key, entries in skipped:
        if key in groups:
            groups[key].skipped += entries
    return list(groups.values()), errors


def borrow(groups: list[Group], codecs: list[str]) -> None:
    """Give each group the rate–distortion items of ``codecs`` (the anchors asked for) that it lacks and
    another machine's group of the same dataset and crop measured (an anchor measured there only, or
    some of its qualities): bpp and metrics do not depend on the machine (the report's index checks
    that bitstreams agree where both measured an item), times do, so the times of a codec with borrowed
    items are left out. A slow anchor (VTM) is then measured once, on one machine or in parts."""
    measured = {id(group): dict(group.items) for group in groups}  # what each machine measured itself
    for group in groups:
        for codec in codecs:
            for donor in groups:
                if donor is group or (donor.dataset, donor.crop) != (group.dataset, group.crop):
                    continue
                lacking = {
                    key: item
                    for key, item in measured[id(donor)].items()
                    if item.codec == codec and key not in group.items
                }
                if not lacking:
                    continue
                group.items.update(lacking)
                group.codecs.setdefault(codec, donor.codecs[codec])
                group.set_references.update(donor.set_references)
                for column, meta in donor.metrics.items():
                    group.metrics.setdefault(column, meta)
                group.borrowed[codec] = "; ".join(filter(None, [group.borrowed.get(codec), donor.machine]))
