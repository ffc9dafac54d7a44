"""The pytest plugin: options, parametrization, fixtures, and the route of every item's record to the JSON.

A session of a project that configures no codecs gets the options and nothing else.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .. import __version__, schema
from ..images import ImageError
from ..kits.weights import WeightsUnavailable
from ..measure import bench, records
from ..measure.item import Measurement, measure
from ..metrics import distribution
from . import options, process
from .describe import describe, skip_forecast
from .sweep import Sweep

SWEEP = pytest.StashKey[Sweep]()
MEASURED = pytest.StashKey[Measurement]()
BENCHMARK = pytest.StashKey[object]()  # the item's pytest-benchmark fixture
RECORD_KEY = pytest.StashKey[dict]()  # the key of the item's durable record
RESUMED = pytest.StashKey[dict]()  # the stored entry an item was resumed from
SKIP_GROUP = pytest.StashKey[str]()  # why an item skipped, in words shared by items alike
EMPTY = pytest.StashKey[set]()  # node ids of test functions that have no item in this sweep
RECORD_PROPERTY = "codecbench_record"  # a report's user property carrying {"key", "benchmark"}
SKIP_PROPERTY = "codecbench_skip"  # a report's user property carrying its SKIP_GROUP
FAILED_PROPERTY = "codecbench_failed"  # a report's user property naming a failed item and why


def pytest_addoption(parser: pytest.Parser):
    options.add_options(parser)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)  # before xdist's pytest_configure reads its restart limit
def pytest_configure(config: pytest.Config):
    options.check_path_options(config)
    sweep = Sweep(config)
    if not sweep.codecs and not sweep.unavailable:
        return  # not a codecbench project
    config.stash[SWEEP] = sweep
    config.addinivalue_line("markers", "lossless: codecs whose decode(encode(x)) must equal x")
    config.addinivalue_line("markers", "lossy: codecs that are not lossless")
    for family in sorted({c.family for c in sweep.codecs.values() if c.family}):
        config.addinivalue_line("markers", f"{family}: codecs of the {family} family")
    process.configure_session(config)
    if not _is_worker(config):
        config.pluginmanager.register(Controller(config), "codecbench-controller")


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's pytest_configure made its session
def pytest_sessionstart(session: pytest.Session):
    if SWEEP in session.config.stash:
        bench.silence_xdist_warning(session.config)


def pytest_report_header(config: pytest.Config):
    sweep = config.stash.get(SWEEP, None)
    if sweep is None:
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
        *(f"codecbench: codecs of {source} unavailable: {why}" for source, why in sweep.unavailable.items()),
        *(f"codecbench: {line}" for line in skip_forecast(sweep)),
    ]


def _param_id(codec, quality, image) -> str:
    """The item's parameter id, e.g. ``jxl-q90-kodim01``."""
    return f"{codec.item_id(quality)}-{image.name}"


def _escaped(param_id: str) -> str:
    """A parameter id as pytest writes it into node ids: non-ASCII as escapes (its ascii_escaped)."""
    return param_id.encode("unicode_escape").decode("ascii")


def pytest_generate_tests(metafunc: pytest.Metafunc):
    if not {"codec", "quality", "image"} <= set(metafunc.fixturenames) or SWEEP not in metafunc.config.stash:
        return
    sweep = metafunc.config.stash[SWEEP]
    limit = [sweep.time_limit_mark] if sweep.time_limit_mark else []
    marks = {
        c.name: [pytest.mark.lossless if c.lossless else pytest.mark.lossy, *limit]
        + ([getattr(pytest.mark, c.family)] if c.family else [])
        for c in sweep.selected
    }
    counting = "macs" in metafunc.fixturenames  # complexity items: codecs that can be counted
    params = [
        pytest.param(codec.name, quality, image.name, id=_param_id(codec, quality, image), marks=marks[codec.name])
        for codec, quality, image in sweep.items()
        if codec.complexity or not counting
    ]
    if not params:  # e.g. test_macs when no selected codec can be counted: deselected, not a skip
        metafunc.config.stash.setdefault(EMPTY, set()).add(metafunc.definition.nodeid)
    metafunc.parametrize(("codec", "quality", "image"), params, indirect=("codec", "image"))


def pytest_collection_finish(session: pytest.Session):
    """Prepare a process that will measure items now, outside every item's time limit: importing
    torch, torchvision and scipy takes seconds, which a limit of a few would count against the first."""
    config = session.config
    sweep = config.stash.get(SWEEP, None)
    measures = sweep and not config.option.collectonly and (_is_worker(config) or not process.under_xdist(config))
    if measures and any("codec" in getattr(item, "fixturenames", ()) for item in session.items):
        process.configure_worker(sweep.device, sweep.needs_torch)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    sweep = config.stash.get(SWEEP, None)
    if sweep is None:
        return
    empty = config.stash.get(EMPTY, set())
    chosen = [item for item in items if item.nodeid.partition("[")[0] not in empty]
    if sweep.shard:
        index, count = sweep.shard
        chosen = chosen[index - 1 :: count]
    if len(chosen) < len(items):
        kept = set(map(id, chosen))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = chosen


def _skip(request, reason: str, group: str, benchmark=None):
    if benchmark is not None:
        bench.mark_unused(benchmark)
    request.node.stash[SKIP_GROUP] = group
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _codecbench_process(request):
    """This process's settings (torch threads, device, …), made once, before its first item (already made
    after collection, see pytest_collection_finish, unless items came another way)."""
    sweep = request.config.stash[SWEEP]
    process.configure_worker(sweep.device, sweep.needs_torch)


@pytest.fixture
def codec(request, _codecbench_process):
    """The Codec of this item; its items skip when a library it needs is missing."""
    codec = request.config.stash[SWEEP].codecs[request.param]
    missing = codec.missing_requirement()
    if missing:
        _skip(request, missing, missing)
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


def _prepare(request, benchmark, codec, quality, image, measured: bool) -> None:
    """Skip an item whose record is stored (with --resume); otherwise take over its benchmark
    fixture, whose record then takes codecbench's route to the JSON (see ``bench``)."""
    sweep = request.config.stash[SWEEP]
    if sweep.records is not None:
        key = request.node.stash[RECORD_KEY] = sweep.record_key(
            request.node.originalname, codec, quality, image, measured
        )
        entry = sweep.records.load(key) if sweep.resume else None
        if entry is not None:
            request.node.stash[RESUMED] = entry
            _skip(
                request,
                f"resumed: measured by an earlier run, record {sweep.records.path(records.digest(key))}",
                f"resumed: measured by an earlier run, records in {sweep.records.folder}",
                benchmark,
            )
    request.node.stash[BENCHMARK] = benchmark
    bench.take_over(benchmark, request.config)


@pytest.fixture
def measurement(request, benchmark, codec, quality, image, reference) -> Measurement:
    """Encode and decode, timed over pytest-benchmark's rounds, then the metrics."""
    _prepare(request, benchmark, codec, quality, image, measured=True)
    try:
        for checkpoint in codec.weights(quality):
            checkpoint.ensure()
    except WeightsUnavailable as error:
        _skip(request, f"{codec.item_id(quality)}: {error}", error.group, benchmark)
    result = measure(benchmark, codec, quality, image, reference, request.config.stash[SWEEP])
    request.node.stash[MEASURED] = result
    return result


@pytest.fixture
def macs(request, benchmark, codec, quality, image, reference) -> dict:
    """fvcore's count of a torch-based codec's encoder and decoder multiply-accumulates (MACs) and
    parameters at this quality and image size (see ``complexity.count``); needs no weights."""
    _prepare(request, benchmark, codec, quality, image, measured=False)
    height, width = reference.shape[:2]
    counted = benchmark.pedantic(codec.complexity, (quality, height, width), rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"kind": schema.COUNT, "width": width, "height": height, "machine": records.machine(), **counted}
    )
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
    """A passed item's record is stored at once, by the process that measured it, and travels
    with its report, as does a resumed item's record and a skipped item's reason group."""
    report = yield
    if SWEEP not in item.config.stash:
        return report
    if report.failed and hasattr(item, "callspec") and {"codec", "quality", "image"} <= set(item.callspec.params):
        why = str(call.excinfo.value).strip().splitlines() if call.excinfo else []
        failure = {k: item.callspec.params[k] for k in ("codec", "quality", "image")}
        failure.update(test=item.originalname, reason=why[0][:300] if why else call.excinfo.typename)
        report.user_properties.append((FAILED_PROPERTY, failure))
    if report.skipped and SKIP_GROUP in item.stash:
        codec = item.callspec.params.get("codec") if hasattr(item, "callspec") else None
        report.user_properties.append((SKIP_PROPERTY, (item.originalname, codec, item.stash[SKIP_GROUP])))
    if call.when == "setup" and RESUMED in item.stash:
        report.user_properties.append((RECORD_PROPERTY, item.stash[RESUMED]))
    benchmark = item.stash.get(BENCHMARK, None)
    if call.when != "call" or benchmark is None or not report.passed:
        return report
    measured = bench.entry(benchmark)
    if measured is None:
        return report
    entry = {"benchmark": measured}
    store = item.config.stash[SWEEP].records
    if store is not None:
        entry["key"] = item.stash[RECORD_KEY]
        store.save(entry["key"], measured)
    report.user_properties.append((RECORD_PROPERTY, entry))
    return report


class Controller:
    """On the xdist controller (or the only process): hands pytest-benchmark every item's
    record, so --benchmark-json is complete; keeps them in the record folder too (a remote
    worker wrote its own on its machine); counts skips by reason; and names codec, quality
    and image when a worker crashes."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.skips: Counter[tuple[str, str | None, str]] = Counter()  # (test, codec, reason group)
        self.failed: list[dict] = []  # items that failed: none of them is in the JSON's benchmarks

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session):
        """The dataset resolved (downloaded, checked) before any collection: a problem with it is one usage
        error, not a collection error per test file."""
        self.config.stash[SWEEP].dataset  # noqa: B018

    def pytest_runtest_logreport(self, report: pytest.TestReport):
        store = self.config.stash[SWEEP].records
        for name, value in report.user_properties:
            if name == SKIP_PROPERTY:
                self.skips[tuple(value)] += 1  # a list after travelling from an xdist worker
            if name == FAILED_PROPERTY:
                self.failed.append(value)
            if name != RECORD_PROPERTY:
                continue
            bench.add(self.config, value["benchmark"])
            if store is not None and "key" in value and not store.path(records.digest(value["key"])).exists():
                store.save(value["key"], value["benchmark"])

    def pytest_terminal_summary(self, terminalreporter):
        by_reason = Counter()
        for (_, _, group), count in self.skips.items():
            by_reason[group] += count
        for group, count in by_reason.most_common():
            terminalreporter.write_line(f"codecbench: {count} skipped: {group}")
        for codec, count in Counter(f["codec"] for f in self.failed).most_common():
            terminalreporter.write_line(f"codecbench: {count} failed items of {codec} are left out of the JSON")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched):
        sweep = self.config.stash[SWEEP]
        param = crashitem.partition("[")[2].removesuffix("]")  # the first "[": test names have none
        for codec, quality, image in sweep.items():
            if _escaped(_param_id(codec, quality, image)) == param:
                dsession = self.config.pluginmanager.getplugin("dsession")
                if "keyboard-interrupt" in str(getattr(dsession, "shouldstop", "")):
                    why = "KeyboardInterrupt (Ctrl-C, or the codec raised it)"
                    then = "xdist stopped the sweep, so items not yet run were not measured (--resume measures them)"
                else:
                    why = "a crash in native code (segfault, abort)"
                    if sweep.time_limit:
                        why += f" or the per-item time limit of {sweep.time_limit:g} s (pytest-timeout)"
                    then = "xdist started a new worker and the sweep went on"
                report.longrepr = (
                    f"codec {codec.name!r} at quality {quality!r} on image {image.path} ended its worker process: "
                    f"{why}; {then}. [{report.longrepr}]"
                )
                test = crashitem.partition("::")[2].partition("[")[0]
                failure = {"codec": codec.name, "quality": quality, "image": image.name, "test": test}
                self.failed.append({**failure, "reason": f"ended its worker process: {why}"})
                return

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # before pytest-benchmark saves (or does not save) the JSON
    def pytest_sessionfinish(self, session: pytest.Session):
        bench.save_json_without_items(self.config)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_benchmark_group_stats(self, config, benchmarks, group_by):
        groups = yield
        return bench.without_counts(groups) if bench.table_asked_for(config) else []

    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks, output_json: dict):
        output_json["benchmarks"].sort(key=lambda b: b["fullname"])
        output_json["codecbench"] = {"version": __version__, **describe(config.stash[SWEEP])}
        order = lambda f: (f["test"], f["codec"], str(f["quality"]), f["image"])  # noqa: E731
        output_json["codecbench"]["failed"] = sorted(self.failed, key=order)
        names = [name for name in ("fid", "kid") if name in config.stash[SWEEP].metric_names]
        if names:
            output_json["codecbench"]["sets"] = distribution.section(output_json["benchmarks"], names)
        output_json["codecbench"]["skipped"] = [
            {"test": test, "codec": codec, "items": count, "reason": group}
            for (test, codec, group), count in sorted(self.skips.items(), key=lambda kv: tuple(map(str, kv[0])))
        ]
