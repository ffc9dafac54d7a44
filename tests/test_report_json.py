"""The benchmark JSON: complete under xdist, and its numbers checked independently."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from conftest import photo_like

pytestmark = pytest.mark.slow  # real sweeps in subprocesses

SWEEP = ["--codecs", "jpeg,png,webp", "--qualities", "jpeg=30,90 webp=50"]


def run_json(project, name, *args):
    result = project.runpytest_subprocess(*SWEEP, "-p", "no:cacheprovider", "--benchmark-json", name, *args)
    result.assert_outcomes(passed=8)
    return json.loads((project.path / name).read_text())


def by_name(report):
    return {b["name"]: b for b in report["benchmarks"]}


def test_parallel_json_is_complete_and_agrees(project):
    serial, parallel = by_name(run_json(project, "n0.json")), by_name(run_json(project, "n2.json", "-n", "2"))
    assert (
        sorted(serial)
        == sorted(parallel)
        == sorted(f"test_rd[{i}-img{n}]" for i in ("jpeg-q30", "jpeg-q90", "png-z6", "webp-q50") for n in (0, 1))
    )
    for name, one in serial.items():
        other = parallel[name]
        assert one["params"] == other["params"]
        for key in ("bytes", "bpp", "bitstream_sha256", "metrics", "width", "height"):
            assert one["extra_info"][key] == other["extra_info"][key], (name, key)
        assert one["extra_info"]["workers"] == 1 and other["extra_info"]["workers"] == 2
        for record in (one, other):
            assert record["stats"]["rounds"] >= 1
            timing = record["extra_info"]["timing"]
            assert {"encode", "decode", "encode/compress", "decode/decompress"} <= set(timing)
            assert timing["encode"]["wall_median_s"] > 0 and timing["encode"]["cpu_median_s"] > 0
    assert serial["test_rd[jpeg-q30-img0]"]["params"] == {"codec": "jpeg", "quality": 30, "image": "img0"}
    assert serial["test_rd[png-z6-img1]"]["extra_info"]["bit_exact"] is True


def test_bpp_and_psnr_match_an_independent_computation(project):
    record = by_name(run_json(project, "n0.json"))["test_rd[jpeg-q30-img1]"]["extra_info"]
    reference = photo_like(192, 176, 1)
    out = io.BytesIO()
    Image.fromarray(reference).save(out, format="JPEG", quality=30, subsampling=2)
    decoded = np.asarray(Image.open(out))
    assert record["bytes"] == len(out.getvalue())
    assert record["bpp"] == pytest.approx(8 * len(out.getvalue()) / (192 * 176), rel=1e-12)
    assert record["metrics"]["psnr"] == pytest.approx(
        peak_signal_noise_ratio(reference, decoded, data_range=255), abs=1e-9
    )
    luma = lambda im: im.astype(np.float64) @ [0.299, 0.587, 0.114]  # noqa: E731
    assert record["metrics"]["psnr_y"] == pytest.approx(
        peak_signal_noise_ratio(luma(reference), luma(decoded), data_range=255), abs=1e-9
    )
    assert record["metrics"]["ms_ssim_db"] == pytest.approx(-10 * np.log10(1 - record["metrics"]["ms_ssim"]))


def test_report_header_records_versions_dataset_and_metrics(project):
    report = run_json(project, "n0.json", "--crop", "180x170")
    meta = report["codecbench"]
    assert meta["crop"] == [180, 170] and meta["dataset"]["name"] == "imgs"
    assert set(meta["metrics"]) == {"psnr", "psnr_y", "ssim", "ms_ssim", "ms_ssim_db", "lpips_alex"}
    assert meta["codecs"]["jpeg"]["versions"]["libjpeg-turbo"]
    assert all(b["extra_info"]["width"] == 180 and b["extra_info"]["height"] == 170 for b in report["benchmarks"])


def test_benchmark_only_and_skip_apply_to_sweep_items(project):
    project.runpytest("--codecs", "png", "--benchmark-only").assert_outcomes(passed=2)
    project.runpytest("--codecs", "png", "--benchmark-skip").assert_outcomes(skipped=2)


def test_pytest_benchmarks_table_is_shown_only_when_asked_for(project):
    quiet = project.runpytest("--codecs=png", "--benchmark-json=o.json")
    quiet.assert_outcomes(passed=2)
    assert (
        "Name (time in" not in quiet.stdout.str()
        and len(json.loads((project.path / "o.json").read_text())["benchmarks"]) == 2
    )
    asked = project.runpytest("--codecs=png", "--benchmark-columns=median,rounds")
    asked.assert_outcomes(passed=2)
    assert "Name (time in" in asked.stdout.str()
