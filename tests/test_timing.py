"""Stage timing: nested names, wall and CPU time, statistics over runs."""

import time

from pytest_codecbench.timing import StageTimer, stage


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
