"""What a session sweeps: the codecs, qualities, images and metrics that options and ini chose."""

from __future__ import annotations

from functools import cached_property

import pytest

from .. import images, metrics
from ..codec import Codec, CodecError, Quality, load_codecs
from ..measure import records
from . import options, process

TORCH_MODULES = {"torch", "torchvision", "compressai", "diffusers", "fvcore"}


class Sweep:
    """The session's selection, checked once in ``pytest_configure``; the dataset is resolved on first use."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.unavailable: dict[str, str] = {}  # adapter -> why it cannot be loaded; its codecs are left out
        try:
            self.codecs = load_codecs(options.codec_dirs(config), self.unavailable)
        except CodecError as error:
            raise pytest.UsageError(str(error)) from error
        self.selected = options.select_codecs(self.codecs, options.option(config, "codecs"), self.unavailable)
        self.qualities = options.quality_grid(self.selected, options.option(config, "qualities"))
        self.crop = options.parse_crop(options.option(config, "crop"))
        self.max_images = options.parse_max_images(options.option(config, "max_images"))
        self.device = options.parse_device(options.option(config, "device"))
        record_options = options.parse_records(config)
        self.records = records.RecordStore(record_options.folder) if record_options.folder else None
        self.resume = record_options.resume
        self.shard = options.parse_shard(config.getoption("shard"))
        self.metric_names, self.metric_notes = options.select_metrics(options.option(config, "metrics"))
        limit, by_pytest_timeout = options.parse_timeout(config)
        self.time_limit = limit or None  # seconds; None: no limit
        self.time_limit_mark = process.time_limit(config, limit, by_pytest_timeout)
        self.time_precision = options.parse_time_precision(options.option(config, "time_precision"))
        # processes sharing the machine: an xdist worker knows the count (the environment variable
        # would also reach a pytest started from inside a worker, as the plugin's own tests do)
        self.workers = getattr(config, "workerinput", {}).get("workercount", 1)
        self.store = images.ImageStore(self.crop)
        self._versions: dict[str, dict] = {}

    @cached_property
    def dataset(self) -> images.Dataset:
        try:
            spec = options.option(self.config, "dataset") or "default"
            dataset = images.resolve(spec, options.dataset_copy(self.config, spec))
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
        known = metrics.available()
        return [known[name] for name in self.metric_names]

    @cached_property
    def needs_torch(self) -> bool:
        """Whether a selected codec (by the modules it requires) or metric runs torch."""
        modules = {module.split(".")[0] for codec in self.selected for module in codec.requires}
        return bool(modules & TORCH_MODULES) or any(metric.torch for metric in self.metrics)

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

    def record_key(self, test: str, codec: Codec, quality: Quality, image: images.ImageRef, measured: bool) -> dict:
        """The item's record key (see ``records.item_key``); ``measured``: a rate–distortion item."""
        option = self.config.option
        timing = {
            "min_rounds": option.benchmark_min_rounds,
            "max_time": option.benchmark_max_time,
            "precision": self.time_precision,
        }
        measured_with = {"metrics": self.metric_names, "timing": timing} if measured else None
        pixels, shape = self.store.digest(image), self.store.get(image).shape
        return records.item_key(
            test, codec, quality, image.name, pixels, shape, self.versions(codec), self.device, measured_with
        )
