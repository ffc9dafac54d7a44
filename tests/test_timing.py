"""Stage timing: nested names, wall and CPU time, statistics over runs."""

import csv
import json
import time

import numpy as np
import pytest
import torch

from pytest_codecbench.kits.torch_models import split_stage
from pytest_codecbench.measure import item as measure
from pytest_codecbench.measure.timing import StageTimer, median_interval, precise_enough, stage
from pytest_codecbench.report import build


def test_nested_stages_are_timed_per_run():
    timer = StageTimer()
    for _ in range(3):
        with timer.run(), stage("encode"):
            with stage("analysis"):
                time.sleep(0.01)
            with stage("entropy"):
                sum(range(200_000))  # CPU work
    summary = timer.summary()
    assert set(summary) == {"encode", "encode/analysis", "encode/entropy"}
    assert all(s["runs"] == 3 for s in summary.values())
    assert summary["encode/analysis"]["wall_min_s"] >= 0.01
    assert summary["encode/analysis"]["cpu_median_s"] < 0.005  # sleeping uses no CPU
    assert summary["encode/entropy"]["cpu_median_s"] > 0
    assert summary["encode"]["wall_median_s"] >= summary["encode/analysis"]["wall_median_s"]


def test_stages_outside_a_measurement_do_nothing():
    with stage("anything"):
        pass


class _Sleepy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.g_a, self.g_s = torch.nn.Identity(), torch.nn.Identity()

    def forward(self, x):
        time.sleep(0.02)  # the model's own code, outside the hooked submodules
        return self.g_s(self.g_a(x))


def test_split_stage_times_hooked_modules_and_the_rest_with_sync():
    model, syncs, timer = _Sleepy(), [], StageTimer()
    model.g_a.register_forward_hook(lambda *args: time.sleep(0.03))  # inside g_a's call
    split = split_stage(model, ("g_a",), "analysis", "entropy-encoding", sync=lambda: syncs.append(1))
    with timer.run(), stage("encode"), split:
        model(torch.zeros(1))
    run = timer.runs[0]  # sleeps give lower bounds; a loaded machine only adds to them
    assert run["encode/analysis"][0] >= 0.03 and run["encode/entropy-encoding"][0] >= 0.02
    assert run["encode/analysis"][0] + run["encode/entropy-encoding"][0] <= run["encode"][0]
    assert len(syncs) == 4  # before and after the block, before and after g_a
    assert len(model.g_a._forward_hooks) == 1 and not model.g_a._forward_pre_hooks  # hooks removed


WARMS_UP = """
import time
import zlib

import numpy as np

from pytest_codecbench import Codec, stage

loaded = []


def encode(image, level):
    if not loaded:  # a first-call cost, like loading a model's weights
        with stage("load"):
            time.sleep(0.3)
        loaded.append(True)
    return image.shape[0].to_bytes(4, "big") + image.shape[1].to_bytes(4, "big") + zlib.compress(image.tobytes())


def decode(data):
    height, width = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
    return np.frombuffer(zlib.decompress(data[8:]), np.uint8).reshape(height, width, 3)


CODECS = [Codec("warmsup", encode, decode, qualities=(1,), lossless=True)]
"""


def test_the_warm_up_run_is_not_in_the_stage_times(project):
    (project.path / "mine").mkdir()
    (project.path / "mine" / "warmsup.py").write_text(WARMS_UP)
    result = project.runpytest(
        "--codec-dir=mine", "--codecs=warmsup", "--max-images=1", "--benchmark-min-rounds=2", "--benchmark-json=o.json"
    )
    result.assert_outcomes(passed=1)
    (record,) = json.loads((project.path / "o.json").read_text())["benchmarks"]
    timing = record["extra_info"]["timing"]
    assert timing["encode"]["runs"] == record["stats"]["rounds"] == len(record["stats"]["data"]) == 2
    assert "encode/load" not in timing  # the only run that loaded was the warm-up


def test_the_median_interval_is_scipys_order_statistic_interval():
    from scipy.stats import quantile_test

    rng = np.random.default_rng(0)
    assert median_interval([1.0] * 5) is None  # fewer than 6 samples: no 95 % interval exists
    for n in (6, 7, 10, 25, 60, 161):
        values = list(rng.lognormal(0, 0.3, n))
        ci = quantile_test(values, q=float(np.median(values)), p=0.5).confidence_interval(0.95)
        assert median_interval(values) == (ci.low, ci.high)
    assert not precise_enough([1.0, 1.1, 0.9, 1.0, 1.2], 0.5)  # 5 rounds: no interval yet
    assert precise_enough([1.0, 1.01, 0.99, 1.0, 1.02, 0.995], 0.025)
    assert not precise_enough([1.0, 1.01, 0.99, 1.0, 1.2, 0.8], 0.025)


class Clock:
    """A perf_counter that moves only when a codec says so: round durations become exact."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


STEADY_AND_NOISY = """
import numpy as np

from pytest_codecbench.measure import item as measure
from pytest_codecbench.codec import Codec

noise = np.random.default_rng(0)


def steady(image, quality):
    measure.perf_counter.advance(0.004)
    return image.tobytes()


def noisy(image, quality):
    measure.perf_counter.advance(noise.choice([0.001, 0.008]))
    return image.tobytes()


def decode(data):
    return np.frombuffer(data, np.uint8).reshape(176, 192, 3)


CODECS = [Codec("steady", steady, decode, qualities=(1,), lossless=True),
          Codec("noisy", noisy, decode, qualities=(1,), lossless=True)]
"""


def test_rounds_stop_once_the_median_is_precise_enough(project, monkeypatch):
    monkeypatch.setattr(measure, "perf_counter", Clock())  # the rounds' clock, moved by the codecs alone
    (project.path / "mine").mkdir()
    (project.path / "mine" / "timed.py").write_text(STEADY_AND_NOISY)
    result = project.runpytest(
        "--codec-dir=mine",
        "--codecs=steady,noisy",
        "--max-images=1",
        "--benchmark-max-time=1",
        "--time-precision=0.05",
        "--benchmark-json=o.json",
    )
    result.assert_outcomes(passed=2)
    report = json.loads((project.path / "o.json").read_text())
    records = {b["params"]["codec"]: b for b in report["benchmarks"]}
    steady, noisy = records["steady"], records["noisy"]
    # 4 ms every round: precise as soon as an interval exists (6 rounds), not the 250 that 1 s holds
    assert steady["extra_info"]["rounds_stopped"] == "precise"
    assert steady["stats"]["data"] == pytest.approx([0.004] * 6)
    # rounds of 1 or 8 ms at random: the median never settles, the time limit ends the rounds
    assert noisy["extra_info"]["rounds_stopped"] == "max-time"
    assert sum(noisy["stats"]["data"]) == pytest.approx(1, abs=0.008)
    assert report["codecbench"]["timing"] == {
        "median_ci_half_width": 0.05,
        "confidence": 0.95,
        "min_rounds": 1,
        "max_time_s": 1.0,
    }
    assert build([project.path / "o.json"], project.path / "report") == 0
    rows = csv.DictReader(next((project.path / "report").glob("*/rd.csv")).read_text().splitlines())
    (rd,) = [row for row in rows if row["codec"] == "steady"]
    encode = steady["extra_info"]["timing"]["encode"]  # the stage times are real: the report states their spread
    low, high = encode["wall_median_ci_s"]
    assert low <= encode["wall_median_s"] <= high
    spread = 100 * max(high - encode["wall_median_s"], encode["wall_median_s"] - low) / encode["wall_median_s"]
    assert float(rd["encode_ms_ci_pct"]) == pytest.approx(spread, rel=1e-5)
    bad = project.runpytest("--codec-dir=mine", "--time-precision=2")
    assert "--time-precision '2': expected a fraction between 0 and 1" in bad.stderr.str()
