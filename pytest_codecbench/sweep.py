"""What a session sweeps: the codecs, qualities, images and metrics chosen by options and ini."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from functools import cached_property
from pathlib import Path

import pytest

from . import __version__, images, metrics
from .codec import Codec, CodecError, Quality, load_codecs
from .digests import file_sha256
from .records import RecordStore, machine

# option name -> (ini name, help)
OPTIONS = {
    "codecs": ("codecbench_codecs", "codecs to sweep, comma-separated names or globs (default: all)"),
    "qualities": (
        "codecbench_qualities",
        "quality grid: 'Q1,Q2' for every codec, or 'CODEC=Q1,Q2' (globs allowed), several separated by spaces",
    ),
    "dataset": ("codecbench_dataset", "'default' (embedded sample photos), 'kodak', or a folder of images"),
    "kodak_dir": ("codecbench_kodak_dir", "an existing Kodak copy (else $CODECBENCH_KODAK_DIR, else download)"),
    "max_images": ("codecbench_max_images", "use only the first N images of the dataset"),
    "crop": ("codecbench_crop", "centre-crop every image: 'N' (N×N) or 'WxH'; 'none' for full images"),
    "metrics": ("codecbench_metrics", "metrics to compute, comma-separated, or 'all' (default: the default set)"),
    "device": ("codecbench_device", "where torch models (learned codecs and metrics) run: cpu (default) or cuda"),
    "records": (
        "codecbench_records",
        "folder of per-item records, written as items pass (default: .codecbench/records); 'none' for none",
    ),
}


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text.strip()) if w]


def _parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise pytest.UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def _parse_crop(text: str | None) -> tuple[int, int] | None:
    if not text or text.lower() == "none":
        return None
    match = re.fullmatch(r"(\d+)(?:[x×](\d+))?", text.strip())
    if not match or int(match[1]) < 1 or int(match[2] or 1) < 1:
        raise pytest.UsageError(f"--crop {text!r}: expected N, WxH or none")
    return int(match[1]), int(match[2] or match[1])


class Sweep:
    """The session's selection, validated once; the dataset is resolved on first use."""

    def __init__(self, config: pytest.Config):
        self.config = config
        dirs = list(config.getini("codecbench_codec_dirs")) + [Path(p) for p in config.getoption("codec_dir") or []]
        try:
            self.codecs = load_codecs(dirs)
        except CodecError as error:
            raise pytest.UsageError(str(error)) from error
        self.selected = self._select_codecs(self.option("codecs"))
        self.qualities = self._select_qualities(self.option("qualities"))
        self.crop = _parse_crop(self.option("crop"))
        max_images = self.option("max_images")
        if max_images is not None and (not str(max_images).isdigit() or int(max_images) < 1):
            raise pytest.UsageError(f"--max-images {max_images!r}: expected a positive integer")
        self.max_images = int(max_images) if max_images is not None else None
        self.device = self.option("device") or "cpu"
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise pytest.UsageError(f"--device {self.device!r}: expected cpu or cuda")
        if self.device != "cpu":
            import torch

            if not torch.cuda.is_available():
                raise pytest.UsageError(f"--device {self.device}: CUDA is not available on this machine")
        records = self.option("records") or ".codecbench/records"
        self.records = None if records == "none" else RecordStore(config.rootpath / records)
        self.resume = config.getoption("resume")
        if self.resume and self.records is None:
            raise pytest.UsageError("--resume needs a record folder; --records none turns them off")
        self.shard = _parse_shard(config.getoption("shard"))
        self._versions: dict[str, dict] = {}
        self.metric_notes: list[str] = []
        self.metric_names = self._select_metrics(self.option("metrics"))
        self.store = images.ImageStore(self.crop)

    def option(self, name: str):
        value = self.config.getoption(name)
        return value if value is not None else (self.config.getini(OPTIONS[name][0]) or None)

    def _select_codecs(self, spec: str | None) -> list[Codec]:
        if not spec:
            return list(self.codecs.values())
        chosen: list[str] = []
        for pattern in _words(spec):
            matches = fnmatch.filter(self.codecs, pattern)
            if not matches:
                raise pytest.UsageError(
                    f"--codecs: unknown codec {pattern!r}; valid: {', '.join(self.codecs) or 'none'}"
                )
            chosen += [m for m in matches if m not in chosen]
        return [self.codecs[name] for name in chosen]

    def _select_qualities(self, spec: str | None) -> dict[str, tuple[Quality, ...]]:
        grid = {codec.name: codec.qualities for codec in self.selected}
        for part in (spec or "").split():
            pattern, _, values = part.rpartition("=")
            targets = [c for c in self.selected if fnmatch.fnmatch(c.name, pattern or "*")]
            if not targets:
                raise pytest.UsageError(f"--qualities {part!r}: no selected codec matches {pattern!r}")
            for codec in targets:
                try:
                    grid[codec.name] = tuple(dict.fromkeys(codec.parse_quality(v) for v in values.split(",") if v))
                except CodecError as error:
                    raise pytest.UsageError(f"--qualities: {error}") from error
        return grid

    def _select_metrics(self, spec: str | None) -> list[str]:
        """The chosen metrics; one that cannot run here (e.g. missing weights) is a usage error
        when named, and is left out, with a note in the header, when only implied."""
        known = metrics.available()
        named = bool(spec) and spec != "all"
        names = _words(spec) if named else [m.name for m in known.values() if m.default or spec == "all"]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise pytest.UsageError(f"--metrics: unknown metric {unknown[0]!r}; valid: {', '.join(known)}")
        usable = []
        for name in names:
            try:
                if known[name].check:
                    known[name].check()
                usable.append(name)
            except metrics.MetricError as error:
                if named:
                    raise pytest.UsageError(f"--metrics: {name}: {error}") from error
                self.metric_notes.append(f"{name} off: {error}")
        return usable

    @cached_property
    def dataset(self) -> images.Dataset:
        try:
            dataset = images.resolve(self.option("dataset") or "default", self.option("kodak_dir"))
        except images.DatasetError as error:
            raise pytest.UsageError(str(error)) from error
        if self.max_images:
            dataset = images.Dataset(dataset.name, dataset.source, dataset.images[: self.max_images])
        return dataset

    @cached_property
    def images_by_name(self) -> dict[str, images.ImageRef]:
        return {image.name: image for image in self.dataset.images}

    @cached_property
    def metrics(self) -> list[metrics.Metric]:
        # One torch thread in every process: float32 reductions then add up in the same
        # order whatever -n is, so -n 0 and -n N give bit-identical metrics; xdist's
        # workers are what use the cores.
        metrics.prepare_torch(threads=1, on=self.device)
        known = metrics.available()
        return [known[name] for name in self.metric_names]

    def items(self):
        """(codec, quality, image) for every item, in a stable order."""
        for codec in self.selected:
            for quality in self.qualities[codec.name]:
                for image in self.dataset.images:
                    yield codec, quality, image

    def versions(self, codec: Codec) -> dict:
        if codec.name not in self._versions:
            missing = codec.missing_requirement()
            self._versions[codec.name] = {"missing": missing} if missing else codec.versions()
        return self._versions[codec.name]

    def item_key(self, test: str, codec: Codec, quality: Quality, image: images.ImageRef, measured: bool) -> dict:
        """What decides an item's record; ``measured``: a rate–distortion item (metrics and timing
        options count), not a complexity count."""
        key = {
            "test": test,
            "codecbench": __version__,
            "codec": codec.name,
            "quality": quality,
            # an adapter file's content; for an entry point, its name and its libraries' versions
            "adapter": file_sha256(codec.source) if Path(codec.source).is_file() else codec.source,
            "versions": self.versions(codec),
            "weights": [checkpoint.url for checkpoint in codec.weights(quality)],  # names carry a hash
            "image": image.name,
            "pixels": self.store.digest(image),
            "shape": list(self.store.get(image).shape),
            "device": self.device,
            "machine": machine(),
        }
        if measured:
            options = self.config.option
            key["metrics"] = self.metric_names
            key["timing"] = {"min_rounds": options.benchmark_min_rounds, "max_time": options.benchmark_max_time}
        return json.loads(json.dumps(key, default=str))  # plain types: it travels to the xdist controller

    def describe(self) -> dict:
        """What the numbers were measured on, for the JSON report."""
        return {
            "command": shlex.join(["pytest", *self.config.invocation_params.args]),
            "dataset": {"name": self.dataset.name, "source": self.dataset.source, "images": len(self.dataset.images)},
            "crop": list(self.crop) if self.crop else None,
            "metrics": {
                key: {"label": column.label, "higher_is_better": column.higher_is_better, "bd_rate": column.bd_rate}
                for metric in metrics.available().values()
                if metric.name in self.metric_names
                for key, column in metric.columns.items()
            },
            "codecs": {
                codec.name: {
                    "description": codec.description,
                    "lossless": codec.lossless,
                    "qualities": list(self.qualities[codec.name]),
                    "source": codec.source,
                    "versions": self.versions(codec),
                }
                for codec in self.selected
            },
        }
