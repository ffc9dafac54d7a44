"""What codecbench relies on in pytest-benchmark's internals (pytest_codecbench/bench.py):
these fail when an upgrade of pytest-benchmark changes any of it."""

import pytest

pytest_plugins = ["pytester"]

USES_THE_INTERNALS = """
import pytest

from pytest_codecbench.measure import bench


def test_a_record_round_trips_through_codecbench_route(benchmark, request):
    config = request.config
    bench.take_over(benchmark, config)
    assert not benchmark.disabled
    assert bench.limits(benchmark) == (1, 0.5)
    benchmark.extra_info["bpp"] = 1.5
    bench.record_rounds(benchmark, [0.3, 0.1, 0.2])
    assert config._benchmarksession.benchmarks == []  # kept out by take_over
    entry = bench.entry(benchmark)
    assert entry["stats"]["data"] == [0.3, 0.1, 0.2] and entry["stats"]["median"] == 0.2
    bench.add(config, entry)
    (rebuilt,) = config._benchmarksession.benchmarks
    assert bench.entry(type("Fixture", (), {"has_error": False, "stats": rebuilt})()) == entry
    with pytest.raises(Exception, match="can only be used once"):  # the fixture counts as used
        benchmark.pedantic(sum, ([1, 2],))


@pytest.fixture
def skips(benchmark):
    bench.mark_unused(benchmark)
    pytest.skip("as codecbench's fixtures skip, with the benchmark fixture taken through a fixture")


def test_a_skip_in_a_fixture_does_not_warn(skips):
    pass


def test_a_failed_record_is_none(benchmark):
    benchmark.pedantic(sum, ([1],), rounds=1, iterations=1)
    bench.mark_failed(benchmark)
    assert bench.entry(benchmark) is None
"""


def test_the_internals_codecbench_uses(pytester):
    pytester.makepyfile(USES_THE_INTERNALS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--benchmark-max-time=0.5", "--benchmark-min-rounds=1")
    result.assert_outcomes(passed=2, skipped=1)
    assert "PytestBenchmarkWarning" not in result.stdout.str()


@pytest.mark.slow
def test_pytest_benchmarks_xdist_warning_never_reaches_a_sweep(project):
    args = ("--codecs=png", "-n", "2", "-p", "no:cacheprovider", "--benchmark-json=j", "--benchmark-columns=median")
    result = project.runpytest_subprocess(*args)
    result.assert_outcomes(passed=2)
    output = result.stdout.str() + result.stderr.str()
    assert "automatically disabled" not in output
    assert "test_rd[png-z6-img0]" in output  # the table of timings is there, asked for
