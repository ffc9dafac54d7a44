"""Stage timing: nested names, wall and CPU time, statistics over runs."""

import json
import time

import torch

from pytest_codecbench.timing import StageTimer, stage
from pytest_codecbench.torch_codec import split_stage


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
    run = timer.runs[0]
    assert 0.03 <= run["encode/analysis"][0] < 0.045
    assert 0.02 <= run["encode/entropy-encoding"][0] < 0.035
    assert len(syncs) == 4  # before and after the block, before and after g_a
    assert len(model.g_a._forward_hooks) == 1 and not model.g_a._forward_pre_hooks  # hooks removed


WARMS_UP = """
import time
import zlib

import numpy as np

from pytest_codecbench import Codec

loaded = []


def encode(image, level):
    if not loaded:  # a first-call cost, like loading a model's weights
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
    encode = record["extra_info"]["timing"]["encode"]
    assert encode["runs"] == record["stats"]["rounds"] == 2
    assert encode["wall_median_s"] < 0.1 and record["stats"]["max"] < 0.1
