"""The pytest plugin: options, parametrization, fixtures, and the JSON record of every item."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from pytest_benchmark.stats import Metadata
from pytest_benchmark.utils import safe_dumps

from . import __version__, records
from .images import ImageError
from .measure import Measurement, measure
from .sweep import OPTIONS, Sweep
from .weights import WeightsUnavailable

SWEEP = pytest.StashKey[Sweep]()
MEASURED = pytest.StashKey[Measurement]()
BENCHMARK = pytest.StashKey[object]()  # the item's pytest-benchmark fixture
RECORD_KEY = pytest.StashKey[tuple[str, dict]]()  # (digest, key) of the item's durable record
RESUMED = pytest.StashKey[dict]()  # the stored entry an item was resumed from
RECORD_PROPERTY = "codecbench_record"  # a report's user property carrying {"key", "benchmark"}


def pytest_addoption(parser: pytest.Parser):
    group = parser.getgroup("codecbench", "codecbench: image-codec rate–distortion sweeps")
    for name, (ini, help) in OPTIONS.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=name, default=None, help=help)
        parser.addini(ini, help)
    group.addoption("--codec-dir", action="append", help="another folder of codec adapter files")
    group.addoption(
        "--resume", action="store_true", help="measure only items without a valid record in the record folder"
    )
    group.addoption("--shard", help="run only shard K of N (K/N): every N-th item, starting at the K-th")
    parser.addini("codecbench_codec_dirs", "folders of codec adapter files (*.py defining CODECS)", type="paths")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _check_path_options(config: pytest.Config):
    # pytest looks for its ini file before plugins add their options, so the value of
    # "--kodak-dir PATH" is taken for a test path and can hide the project's ini.
    args = list(config.invocation_params.args)
    for flag in ("--dataset", "--kodak-dir", "--codec-dir"):
        for i, arg in enumerate(args[:-1]):
            if arg == flag and config.inipath is None and Path(args[i + 1]).exists():
                raise pytest.UsageError(
                    f"write {flag}={args[i + 1]} (with '='): as a separate word pytest takes the path "
                    "for a test path while it looks for its ini file, and then found none"
                )


def pytest_configure(config: pytest.Config):
    _check_path_options(config)
    os.environ.setdefault("SVT_LOG", "1")  # the SVT-AV1 encoder prints a banner per encode otherwise
    sweep = Sweep(config)
    config.stash[SWEEP] = sweep
    config.addinivalue_line("markers", "lossless: codecs whose decode(encode(x)) must equal x")
    config.addinivalue_line("markers", "lossy: codecs that are not lossless")
    for family in sorted({c.family for c in sweep.codecs.values() if c.family}):
        config.addinivalue_line("markers", f"{family}: codecs of the {family} family")
    if not _is_worker(config):
        config.pluginmanager.register(Controller(config), "codecbench-controller")
        if getattr(config.option, "maxworkerrestart", "") is None and config.getoption("numprocesses", None):
            # A codec that crashes natively takes its worker with it, once per item; xdist's
            # default (4 restarts per worker) would end the sweep after a few such items.
            config.option.maxworkerrestart = str(max(100, 4 * config.option.numprocesses))


def pytest_sessionstart(session: pytest.Session):
    # pytest-benchmark would warn that it is off under xdist; codecbench measures there.
    session.config._benchmarksession.xdist_warning = False


def pytest_report_header(config: pytest.Config):
    sweep = config.stash[SWEEP]
    if not sweep.codecs:
        return None
    dataset = sweep.dataset
    note = " (embedded default: no dataset configured; use --dataset kodak or --dataset FOLDER)"
    return [
        f"codecbench {__version__}: dataset {dataset.name!r}, {len(dataset.images)} images from {dataset.source}"
        + (note if dataset.name == "default" else ""),
        (
            f"codecbench: crop {'x'.join(map(str, sweep.crop)) if sweep.crop else 'none (full images)'}, "
            f"metrics {', '.join(sweep.metric_names)}, {len(sweep.selected)} codecs, device {sweep.device}"
        ),
        *(f"codecbench: {note}" for note in sweep.metric_notes),
    ]


def _param_id(codec, quality, image) -> str:
    """The item's parameter id, e.g. ``jxl-q90-kodim01``."""
    return f"{codec.item_id(quality)}-{image.name}"


def pytest_generate_tests(metafunc: pytest.Metafunc):
    if not {"codec", "quality", "image"} <= set(metafunc.fixturenames):
        return
    sweep = metafunc.config.stash[SWEEP]
    marks = {
        c.name: [pytest.mark.lossless if c.lossless else pytest.mark.lossy]
        + ([getattr(pytest.mark, c.family)] if c.family else [])
        for c in sweep.selected
    }
    counting = "flops" in metafunc.fixturenames  # complexity items: codecs that can be counted
    params = [
        pytest.param(codec.name, quality, image.name, id=_param_id(codec, quality, image), marks=marks[codec.name])
        for codec, quality, image in sweep.items()
        if codec.complexity or not counting
    ]
    metafunc.parametrize(("codec", "quality", "image"), params, indirect=("codec", "image"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    shard = config.stash[SWEEP].shard
    if shard:
        index, count = shard
        config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if i % count != index - 1])
        items[:] = items[index - 1 :: count]


@pytest.fixture
def codec(request):
    """The Codec of this item; its items skip when a library it needs is missing."""
    codec = request.config.stash[SWEEP].codecs[request.param]
    missing = codec.missing_requirement()
    if missing:
        pytest.skip(missing)
    return codec


@pytest.fixture
def image(request):
    """The ImageRef (name, path) of this item."""
    return request.config.stash[SWEEP].images_by_name[request.param]


@pytest.fixture
def reference(request, image):
    """The reference image: H×W×3 uint8 RGB, decoded once per process, read-only."""
    try:
        return request.config.stash[SWEEP].store.get(image)
    except ImageError as error:
        pytest.fail(str(error), pytrace=False)


def _skip(benchmark, reason: str):
    benchmark.skipped = True  # pytest-benchmark would warn that its fixture went unused
    pytest.skip(reason)


def _prepare(request, benchmark, codec, quality, image, measured: bool) -> None:
    """Skip an item whose record is stored (with --resume); otherwise get its benchmark
    fixture ready: in an xdist worker pytest-benchmark switches itself off, so switch it
    back on; the record then goes to the controller with the item's report."""
    config, sweep = request.config, request.config.stash[SWEEP]
    if sweep.records is not None:
        key = sweep.item_key(request.node.originalname, codec, quality, image, measured)
        key_digest = records.digest(key)
        request.node.stash[RECORD_KEY] = (key_digest, key)
        entry = sweep.records.load(key_digest) if sweep.resume else None
        if entry is not None:
            request.node.stash[RESUMED] = entry
            _skip(benchmark, f"resumed: measured by an earlier run, record {sweep.records.path(key_digest)}")
    request.node.stash[BENCHMARK] = benchmark
    if _is_worker(config):
        benchmark.disabled = config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")
        benchmark._add_stats = lambda stats: None  # the controller keeps the records


@pytest.fixture
def measurement(request, benchmark, codec, quality, image, reference) -> Measurement:
    """Encode and decode, timed over pytest-benchmark's rounds, then the metrics."""
    _prepare(request, benchmark, codec, quality, image, measured=True)
    try:
        for checkpoint in codec.weights(quality):
            checkpoint.ensure()
    except WeightsUnavailable as error:
        _skip(benchmark, f"{codec.item_id(quality)}: {error}")
    result = measure(benchmark, codec, quality, image, reference, request.config.stash[SWEEP].metrics)
    request.node.stash[MEASURED] = result
    return result


@pytest.fixture
def flops(request, benchmark, codec, quality, image, reference) -> dict:
    """fvcore's count of a torch-based codec's encoder and decoder at this quality and image
    size (see ``complexity.count``); needs no weights. Its item's benchmark time is the count's."""
    _prepare(request, benchmark, codec, quality, image, measured=False)
    height, width = reference.shape[:2]
    counted = benchmark.pedantic(codec.complexity, (quality, height, width), rounds=1, iterations=1)
    benchmark.extra_info.update({"width": width, "height": height, "machine": records.machine(), **counted})
    return counted


@pytest.fixture
def bitstream(measurement) -> bytes:
    return measurement.bitstream


@pytest.fixture
def decoded(measurement):
    return measurement.decoded


@pytest.fixture
def metrics(measurement) -> dict:
    return measurement.metrics


@pytest.fixture
def timings(measurement) -> dict:
    return measurement.timings


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Every lossless item is checked bit-exact, whatever the test body does."""
    result = yield
    measured = item.stash.get(MEASURED, None)
    if measured is not None and measured.mismatch:
        pytest.fail(measured.mismatch, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """A passed item's record is stored at once, by the process that measured it; in a
    worker, measured and resumed records also travel to the controller with the report."""
    report = yield
    worker, store = _is_worker(item.config), item.config.stash[SWEEP].records
    if call.when == "setup" and RESUMED in item.stash:
        report.user_properties.append((RECORD_PROPERTY, item.stash[RESUMED]))
    benchmark = item.stash.get(BENCHMARK, None)
    if call.when != "call" or benchmark is None or benchmark.has_error or benchmark.stats is None:
        return report
    entry = {"benchmark": json.loads(safe_dumps(benchmark.stats.as_dict(include_data=True)))}
    if store is not None and report.passed:
        key_digest, entry["key"] = item.stash[RECORD_KEY]
        store.save(key_digest, entry)
    if worker:
        report.user_properties.append((RECORD_PROPERTY, entry))
    return report


class Controller:
    """On the xdist controller (or the only process): hands pytest-benchmark the records
    that workers measured and that were resumed, so --benchmark-json is complete; keeps
    them in the record folder too (a remote worker wrote its own on its machine); and
    names codec, quality and image when a worker crashes."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport):
        store = self.config.stash[SWEEP].records
        for name, entry in report.user_properties:
            if name != RECORD_PROPERTY:
                continue
            record = entry["benchmark"]
            fixture = SimpleNamespace(cprofile_stats=None, has_error=False, **{k: record[k] for k in _FIXTURE_FIELDS})
            metadata = Metadata(fixture, record["stats"]["iterations"], record["options"])
            for duration in record["stats"]["data"]:
                metadata.stats.update(duration)
            self.config._benchmarksession.benchmarks.append(metadata)
            if store is not None and "key" in entry:
                key_digest = records.digest(entry["key"])
                if not store.path(key_digest).exists():
                    store.save(key_digest, entry)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched):
        sweep = self.config.stash[SWEEP]
        param = crashitem.rpartition("[")[2].rstrip("]")
        for codec, quality, image in sweep.items():
            if _param_id(codec, quality, image) == param:
                report.longrepr = (
                    f"codec {codec.name!r} at quality {quality!r} on image {image.path} crashed its worker process "
                    f"(a segfault or abort in native code); xdist started a new worker and the sweep went on. "
                    f"[{report.longrepr}]"
                )
                return


_FIXTURE_FIELDS = ("name", "fullname", "group", "param", "params", "extra_info")


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict):
    output_json["benchmarks"].sort(key=lambda b: b["fullname"])
    output_json["codecbench"] = {"version": __version__, **config.stash[SWEEP].describe()}
