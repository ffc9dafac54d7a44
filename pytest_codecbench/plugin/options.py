"""What the command line and the ini file ask for, parsed and checked; a problem is a usage error naming the option."""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .. import datasets, metrics
from ..codec import Codec, CodecError, Quality
from ..kits import command_line

DEFAULT_TIMEOUT_S = 600  # an item is a codec's round trips plus metrics: seconds, rarely minutes
# option name -> (ini name, help)
OPTIONS = {
    "codecs": ("codecbench_codecs", "codecs to sweep, comma-separated names or globs (default: all)"),
    "qualities": (
        "codecbench_qualities",
        "quality grid: 'Q1,Q2' for every codec, or 'CODEC=Q1,Q2' (globs allowed), several separated by spaces",
    ),
    "dataset": (
        "codecbench_dataset",
        "'default' (embedded sample photos), 'kodak', a named dataset (codecbench datasets), or a folder of images",
    ),
    "kodak_dir": ("codecbench_kodak_dir", "an existing Kodak copy (else $CODECBENCH_KODAK_DIR, else download)"),
    **{
        f"{name.replace('-', '_')}_dir": (
            f"codecbench_{name.replace('-', '_')}_dir",
            f"an existing {name} copy, the folder of its images (else ${archive.env}, else download)",
        )
        for name, archive in datasets.ARCHIVES.items()
    },
    "max_images": ("codecbench_max_images", "use only the first N images of the dataset"),
    "crop": ("codecbench_crop", "centre-crop every image: 'N' (N×N) or 'WxH'; 'none' for full images"),
    "metrics": ("codecbench_metrics", "metrics to compute, comma-separated, or 'all' (default: the default set)"),
    "device": ("codecbench_device", "where torch models (learned codecs and metrics) run: cpu (default) or cuda"),
    "ffmpeg": ("codecbench_ffmpeg", "the ffmpeg of FFmpeg's codecs: the same as --tool ffmpeg=PATH"),
    "time_precision": (
        "codecbench_time_precision",
        "stop timing an item once the 0.95 confidence interval of its median round trip is within ±this "
        "fraction of the median (default 0.025), or when --benchmark-max-time is spent",
    ),
    "records": (
        "codecbench_records",
        "folder of per-item records, written as items pass (default: .codecbench/records); 'none' for none",
    ),
}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("codecbench", "codecbench: image-codec rate–distortion sweeps")
    for name, (ini, help) in OPTIONS.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=name, default=None, help=help)
        parser.addini(ini, help)
    group.addoption("--codec-dir", action="append", help="another folder of codec adapter files")
    group.addoption(
        "--resume", action="store_true", help="measure only items without a valid record in the record folder"
    )
    group.addoption(
        "--tool",
        action="append",
        metavar="NAME=PATH",
        help="a command-line codec's program or its folder, e.g. vtm=/opt/vtm/bin (else $CODECBENCH_NAME, then PATH)",
    )
    parser.addini(command_line.TOOLS_INI, "command-line codecs' programs, one NAME=PATH a line", type="linelist")
    group.addoption("--shard", help="run only shard K of N (K/N): every N-th item, starting at the K-th")
    parser.addini("codecbench_codec_dirs", "folders of codec adapter files (*.py defining CODECS)", type="paths")
    parser.addini(
        "codecbench_timeout",
        f"per-item time limit of sweeps in seconds, 0 for none (default {DEFAULT_TIMEOUT_S}); --timeout overrides it",
        default=str(DEFAULT_TIMEOUT_S),
    )


def _seconds(text, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not value >= 0:  # also NaN
        shown = f"{text:g}" if isinstance(text, float) else repr(text)  # --timeout arrives as a float
        raise pytest.UsageError(f"{where} {shown}: expected a time limit in seconds, 0 for no limit")
    return value


def parse_timeout(config: pytest.Config) -> tuple[float, bool]:
    """The per-item time limit in seconds (0: none), one rule wherever it is set: pytest-timeout's
    ``--timeout``, $PYTEST_TIMEOUT or ``timeout`` ini, else the ``codecbench_timeout`` ini; and
    whether the user set it through pytest-timeout (which then applies it itself)."""
    given = config.getoption("timeout", None)
    if given is not None:
        return _seconds(given, "--timeout"), True
    if os.environ.get("PYTEST_TIMEOUT"):
        return _seconds(os.environ["PYTEST_TIMEOUT"], "$PYTEST_TIMEOUT"), True
    if config.getini("timeout"):
        return _seconds(config.getini("timeout"), "timeout (ini)"), True
    return _seconds(config.getini("codecbench_timeout"), "codecbench_timeout (ini)"), False


def option(config: pytest.Config, name: str):
    """An option's value from the command line, else from the ini file, else None."""
    value = config.getoption(name)
    return value if value is not None else (config.getini(OPTIONS[name][0]) or None)


def dataset_copy(config: pytest.Config, spec: str) -> str | None:
    """The existing copy given for the named dataset ``spec`` (its ``--NAME-dir``), if any."""
    name = f"{spec.replace('-', '_')}_dir"
    return option(config, name) if name in OPTIONS else None


def tools(config: pytest.Config) -> dict[str, Path]:
    """The command-line codecs' programs the ini and the command line set ({tool: path}; the
    command line wins), relative paths taken from the ini's folder and the invocation folder."""
    ini_base = config.inipath.parent if config.inipath else config.invocation_params.dir
    cli_base = config.invocation_params.dir
    try:
        found = command_line.settings(config.getini(command_line.TOOLS_INI), command_line.TOOLS_INI, ini_base)
        if config.getini(OPTIONS["ffmpeg"][0]):
            found["ffmpeg"] = ini_base / config.getini(OPTIONS["ffmpeg"][0])
        found.update(command_line.settings(config.getoption("tool") or [], "--tool", cli_base))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if config.getoption("ffmpeg"):
        found["ffmpeg"] = cli_base / config.getoption("ffmpeg")
    return found


def codec_dirs(config: pytest.Config) -> list[Path]:
    return list(config.getini("codecbench_codec_dirs")) + [Path(p) for p in config.getoption("codec_dir") or []]


def check_path_options(config: pytest.Config) -> None:
    # pytest looks for its ini file before plugins add their options, so the value of
    # "--kodak-dir PATH" is taken for a test path and can hide the project's ini.
    args = list(config.invocation_params.args)
    dataset_dirs = [archive.option for archive in datasets.ARCHIVES.values()]
    for flag in ("--dataset", "--kodak-dir", *dataset_dirs, "--codec-dir", "--ffmpeg", "--tool"):
        for i, arg in enumerate(args[:-1]):
            if arg == flag and config.inipath is None and Path(args[i + 1]).exists():
                raise pytest.UsageError(
                    f"write {flag}={args[i + 1]} (with '='): as a separate word pytest takes the path "
                    "for a test path while it looks for its ini file, and then found none"
                )


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text.strip()) if w]


def unknown_codec(name: str, codecs: dict[str, Codec], unavailable: dict[str, str]) -> str:
    """Why ``name`` selects nothing: the names nearest to it, how many there are, and the adapters
    that could not be loaded (the codec may be one of theirs)."""
    near = difflib.get_close_matches(name, codecs, n=4, cutoff=0.6)
    text = f"unknown codec {name!r}" + (f"; did you mean {', '.join(map(repr, near))}?" if near else "")
    text += f" ({len(codecs)} codecs: `codecbench codecs` lists them)"
    return text + "".join(f"; unavailable: {source} ({why})" for source, why in unavailable.items())


def select_codecs(codecs: dict[str, Codec], spec: str | None, unavailable: dict[str, str]) -> list[Codec]:
    if not spec:
        return list(codecs.values())
    chosen: list[str] = []
    names = words(spec)
    if not names:
        raise pytest.UsageError(f"--codecs {spec!r}: no codec named")
    for pattern in names:
        matches = fnmatch.filter(codecs, pattern)
        if not matches:
            raise pytest.UsageError(f"--codecs: {unknown_codec(pattern, codecs, unavailable)}")
        chosen += [m for m in matches if m not in chosen]
    return [codecs[name] for name in chosen]


def quality_grid(selected: list[Codec], spec: str | None) -> dict[str, tuple[Quality, ...]]:
    grid = {codec.name: codec.qualities for codec in selected}
    if spec is not None and not spec.split():
        raise pytest.UsageError(f"--qualities {spec!r}: no quality given")
    for part in (spec or "").split():
        pattern, _, values = part.rpartition("=")
        targets = [c for c in selected if fnmatch.fnmatch(c.name, pattern or "*")]
        if not targets:
            raise pytest.UsageError(f"--qualities {part!r}: no selected codec matches {pattern!r}")
        if not words(values):
            raise pytest.UsageError(f"--qualities {part!r}: no quality given for {pattern or 'every codec'!r}")
        for codec in targets:
            try:
                grid[codec.name] = tuple(dict.fromkeys(codec.parse_quality(v) for v in values.split(",") if v))
            except CodecError as error:
                raise pytest.UsageError(f"--qualities: {error}") from error
    return grid


def select_metrics(spec: str | None) -> tuple[list[str], list[str]]:
    """The chosen metrics and notes for the header. One that cannot run here (e.g. missing
    weights) is a usage error when named, and is left out, with a note, when only implied."""
    known = metrics.available()
    named = spec is not None and spec != "all"
    names = words(spec) if named else [m.name for m in known.values() if m.default or spec == "all"]
    if named and not names:
        raise pytest.UsageError(f"--metrics {spec!r}: no metric named; valid: {', '.join(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise pytest.UsageError(f"--metrics: unknown metric {unknown[0]!r}; valid: {', '.join(known)}")
    usable, notes = [], []
    for name in names:
        try:
            if known[name].check:
                known[name].check()
            usable.append(name)
        except metrics.MetricError as error:
            if named and not isinstance(error, metrics.WeightsMissing):
                raise pytest.UsageError(f"--metrics: {name}: {error}") from error
            notes.append(f"{name} off: {error}")
    return usable, notes


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise pytest.UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def parse_crop(text: str | None) -> tuple[int, int] | None:
    if not text or text.lower() == "none":
        return None
    match = re.fullmatch(r"(\d+)(?:[x×](\d+))?", text.strip())
    if not match or int(match[1]) < 1 or int(match[2] or 1) < 1:
        raise pytest.UsageError(f"--crop {text!r}: expected N, WxH or none")
    return int(match[1]), int(match[2] or match[1])


def parse_max_images(text: str | None) -> int | None:
    if text is None:
        return None
    if not str(text).isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--max-images {text!r}: expected a positive integer")
    return int(text)


def parse_device(text: str | None) -> str:
    device = text or "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise pytest.UsageError(f"--device {device!r}: expected cpu or cuda")
    if device != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise pytest.UsageError(f"--device {device}: CUDA is not available on this machine")
    return device


DEFAULT_TIME_PRECISION = 0.025


def parse_time_precision(text: str | None) -> float:
    if text is None:
        return DEFAULT_TIME_PRECISION
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value < 1:
        raise pytest.UsageError(f"--time-precision {text!r}: expected a fraction between 0 and 1, e.g. 0.025")
    return value


@dataclass(frozen=True)
class RecordOptions:
    folder: Path | None  # None: records off
    resume: bool


def parse_records(config: pytest.Config) -> RecordOptions:
    text = option(config, "records") or ".codecbench/records"
    folder = None if text == "none" else config.rootpath / text
    resume = config.getoption("resume")
    if resume and folder is None:
        raise pytest.UsageError("--resume needs a record folder; --records none turns them off")
    return RecordOptions(folder, resume)
