"""Every contact with pytest-benchmark's internals, in one module.

codecbench times items with pytest-benchmark's own fixture, so that its options
(``--benchmark-min-rounds``, ``--benchmark-max-time``, ``--benchmark-skip``/``-only``, …)
apply, and writes ``--benchmark-json`` through it. Two things it does not do by itself:
under xdist it switches off and writes no JSON, and it keeps a record only in the process
that measured it. So every item's record takes one route, whatever ``-n`` is: the process
that measured it serialises it (``entry``), the record travels with the item's report, and
the controller (or the only process) rebuilds it into pytest-benchmark's list (``add``).

The names used here are private to pytest-benchmark; pyproject.toml caps the dependency to
the versions this was checked with, and tests/test_bench.py fails when an upgrade changes
any of them.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from .. import schema

_FIXTURE_FIELDS = ("name", "fullname", "group", "param", "params", "extra_info")


def _session(config: pytest.Config):
    return config._benchmarksession


def silence_xdist_warning(config: pytest.Config) -> None:
    """pytest-benchmark would warn that benchmarks are off under xdist; codecbench measures there."""
    _session(config).xdist_warning = False


def take_over(benchmark, config: pytest.Config) -> None:
    """Switch the fixture on as the options say (in an xdist worker pytest-benchmark has switched
    it off) and keep its stats out of pytest-benchmark's list: they reach it through ``add``."""
    benchmark.disabled = config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")
    benchmark._add_stats = lambda stats: None


def limits(benchmark) -> tuple[int, float]:
    """``--benchmark-min-rounds`` and ``--benchmark-max-time`` (seconds)."""
    return benchmark._min_rounds, benchmark._max_time


def record_rounds(benchmark, durations: list[float]) -> None:
    """Give the fixture one-iteration rounds that codecbench timed itself: it stops when the
    median is precise enough, where ``pedantic`` runs a count fixed in advance."""
    benchmark._mode = "codecbench"  # the fixture counts as used, and cannot be used again
    stats = benchmark._make_stats(1)
    for duration in durations:
        stats.update(duration)


def mark_unused(benchmark) -> None:
    """An item that skips: pytest-benchmark would warn that its fixture went unused (it sees
    skips only of tests that take ``benchmark`` as their own argument; ours get it through a fixture)."""
    benchmark.skipped = True


def mark_failed(benchmark) -> None:
    benchmark.has_error = True


def entry(benchmark) -> dict | None:
    """The measured record as plain JSON types (it travels to the xdist controller), or None."""
    if benchmark.has_error or benchmark.stats is None:
        return None
    from pytest_benchmark.utils import safe_dumps

    return json.loads(safe_dumps(benchmark.stats.as_dict(include_data=True)))


def add(config: pytest.Config, record: dict) -> None:
    """Rebuild pytest-benchmark's record of one item from ``entry``'s output and add it to the session."""
    from pytest_benchmark.stats import Metadata

    fixture = SimpleNamespace(cprofile_stats=None, has_error=False, **{k: record[k] for k in _FIXTURE_FIELDS})
    metadata = Metadata(fixture, record["stats"]["iterations"], record["options"])
    for duration in record["stats"]["data"]:
        metadata.stats.update(duration)
    _session(config).benchmarks.append(metadata)


def save_json_without_items(config: pytest.Config) -> None:
    """Write ``--benchmark-json`` when no item was measured, which pytest-benchmark does not do
    ("Not saving anything"): the failed and skipped items belong in it, and a JSON an earlier run
    left at that path must not pass for this run's. Called before pytest-benchmark's own saving,
    which it then leaves nothing to do."""
    session = _session(config)
    if not session.json or session.benchmarks:
        return
    commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    machine_info = session.get_machine_info()
    output = config.hook.pytest_benchmark_generate_json(
        config=config, benchmarks=[], include_data=True, machine_info=machine_info, commit_info=commit_info
    )
    config.hook.pytest_benchmark_update_json(config=config, benchmarks=[], output_json=output)
    session.save_json(output)
    session.json = None


# pytest-benchmark's options about its own timing table: given on the command line, the table is shown
TABLE_OPTIONS = {
    "--benchmark-columns",
    "--benchmark-sort",
    "--benchmark-group-by",
    "--benchmark-histogram",
    "--benchmark-name",
    "--benchmark-compare",
    "--benchmark-verbose",
}


def table_asked_for(config: pytest.Config) -> bool:
    """Whether the command line asks about pytest-benchmark's table (a sweep's is hundreds of rows that
    the JSON and ``codecbench report`` say better, so it is left out otherwise)."""
    return any(arg.split("=")[0] in TABLE_OPTIONS for arg in config.invocation_params.args)


def without_counts(groups: list) -> list:
    """pytest-benchmark's table groups without the complexity-count items, whose "times" are
    those of a cached count and mean nothing; they stay in the JSON."""
    kept = [
        (name, [b for b in benches if schema.kind(b.get("extra_info") or {}) == schema.RD]) for name, benches in groups
    ]
    return [(name, benches) for name, benches in kept if benches]
