"""Results nobody can corrupt: what a codec does cannot change what later items are measured against,
every run's output is checked, and every way a sweep ends leaves a JSON that says what happened."""

import copy
import hashlib
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from conftest import photo_like
from pytest_codecbench import images
from pytest_codecbench.codec import load_codecs
from pytest_codecbench.metrics.ssim import ms_ssim, ssim
from pytest_codecbench.report import build

# Codecs (JPEG at quality 50 underneath) that break the contract in one way each.
HOSTILE = """
import io

import numpy as np
import torch
from PIL import Image

from pytest_codecbench import Codec


def jpeg(image):
    out = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(out, format="JPEG", quality=50)
    return out.getvalue()


def unjpeg(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def blackens_through_torch(image, quality):
    torch.from_numpy(image).zero_()  # torch ignores the read-only flag (it only warns)
    return jpeg(image)


def blackens_through_flags(image, quality):
    image.setflags(write=True)
    image[:] = 0
    return jpeg(image)


def returns_text(image, quality):
    return "not bytes"


rng = np.random.default_rng(0)


def varies(image, quality):  # another stream every run, like an encoder with a random seed
    return jpeg(image) + bytes(int(rng.integers(1, 64)))


def interrupts(image, quality):
    raise KeyboardInterrupt


CODECS = [
    Codec("blackens-torch", blackens_through_torch, unjpeg, (50,)),
    Codec("blackens-flags", blackens_through_flags, unjpeg, (50,)),
    Codec("returns-text", returns_text, unjpeg, (50,)),
    Codec("varies", varies, unjpeg, (50,)),
    Codec("varies-declared", varies, unjpeg, (50,), deterministic=False),
    Codec("interrupts", interrupts, unjpeg, (50,)),
    Codec("never-here", jpeg, unjpeg, (50,), unavailable=lambda: "a tool it needs is not installed"),
]
"""


@pytest.fixture
def hostile(project):
    (project.path / "mine").mkdir()
    (project.path / "mine" / "hostile.py").write_text(HOSTILE)
    return project


def _report(project, name="out.json") -> dict:
    return json.loads((project.path / name).read_text())


def _jpeg_bpp(path) -> float:
    """An independent JPEG q50 of the image file: what the corrupting codec's neighbours must measure."""
    pixels = np.asarray(Image.open(path).convert("RGB"))
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=50)
    return 8 * len(out.getvalue()) / (pixels.shape[0] * pixels.shape[1])


@pytest.mark.parametrize("crop", ["none", "160x120"])  # a crop was a view of a writable array
def test_a_codec_writing_into_the_reference_fails_and_later_items_see_the_real_image(hostile, crop):
    result = hostile.runpytest(
        "--codec-dir=mine",
        "--codecs=blackens-torch,blackens-flags,varies-declared",
        "--metrics=psnr",
        f"--crop={crop}",
        "-p",
        "no:randomly",
        "--benchmark-json=out.json",
    )
    result.assert_outcomes(passed=2, errors=4)
    output = result.stdout.str()
    for image in ("img0", "img1"):
        assert (
            f"codec 'blackens-torch' at quality 50 on image imgs/{image}.png: the codec wrote into the reference"
            in (output)
        )
        assert f"codec 'blackens-flags' at quality 50 on image imgs/{image}.png failed: ValueError: cannot set " in (
            output
        )
    report = _report(hostile)
    assert {b["params"]["codec"] for b in report["benchmarks"]} == {"varies-declared"}
    if crop == "none":  # the items after the corrupting ones measured the real image
        for bench in report["benchmarks"]:
            spread = bench["extra_info"]["bpp_spread"]
            real = _jpeg_bpp(hostile.path / "imgs" / f"{bench['params']['image']}.png")
            assert real < spread["bpp_min"] <= spread["bpp_max"] < real + 8 * 64 / (192 * 176)


def test_every_runs_output_is_compared_and_a_declared_nondeterministic_codec_records_its_spread(hostile):
    result = hostile.runpytest(
        "--codec-dir=mine",
        "--codecs=varies,varies-declared,returns-text",
        "--metrics=psnr",
        "--benchmark-min-rounds=5",
        "--benchmark-json=out.json",
    )
    result.assert_outcomes(passed=2, errors=4)
    failed = {(f["codec"], f["image"]): f["reason"] for f in _report(hostile)["codecbench"]["failed"]}
    assert failed[("varies", "img0")].startswith(
        "codec 'varies' at quality 50 on image imgs/img0.png: its bitstream differed between runs of the same round "
        "trip ("
    )
    assert failed[("returns-text", "img1")] == (
        "codec 'returns-text' at quality 50 on image imgs/img1.png: encode returned str, not bytes"
    )
    for bench in _report(hostile)["benchmarks"]:
        spread, info = bench["extra_info"]["bpp_spread"], bench["extra_info"]
        assert spread["runs"] == 6 == bench["stats"]["rounds"] + 1  # the warm-up run is compared too
        assert spread["distinct_bitstreams"] > 1 and spread["distinct_images"] == 1
        assert spread["bpp_min"] <= info["bpp"] <= spread["bpp_max"]


def test_when_nothing_is_measured_the_json_still_says_why_and_replaces_an_old_one(hostile):
    (hostile.path / "out.json").write_text('{"left": "by an earlier run"}')
    for workers in ("0", "2"):
        result = hostile.runpytest_subprocess(
            "--codec-dir=mine",
            "--codecs=returns-text,never-here",
            "--metrics=psnr",
            "-n",
            workers,
            "--benchmark-json=out.json",
        )
        result.assert_outcomes(errors=2, skipped=2)
        assert "Not saving anything" not in result.stdout.str() + result.stderr.str()
        report = _report(hostile)
        assert report["benchmarks"] == [] and "machine_info" in report
        assert [(f["codec"], f["image"]) for f in report["codecbench"]["failed"]] == [
            ("returns-text", "img0"),
            ("returns-text", "img1"),
        ]
        (skipped,) = report["codecbench"]["skipped"]
        assert skipped["codec"] == "never-here" and skipped["items"] == 2
        assert "a tool it needs is not installed" in skipped["reason"]


@pytest.mark.slow
def test_a_keyboard_interrupt_in_a_worker_is_said_as_it_is(hostile):
    result = hostile.runpytest_subprocess(
        "--codec-dir=mine", "--codecs=interrupts,png", "--metrics=psnr", "-n", "2", "--benchmark-json=out.json"
    )
    output = result.stdout.str()
    assert (
        "ended its worker process: KeyboardInterrupt (Ctrl-C, or the codec raised it); xdist stopped the sweep, so "
        "items not yet run were not measured (--resume measures them)"
    ) in output
    assert "crash in native code" not in output and "the sweep went on" not in output
    assert {f["codec"] for f in _report(hostile)["codecbench"]["failed"]} == {"interrupts"}


def test_an_unwritable_kodak_cache_is_a_usage_error_naming_the_folder(project, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path / "a-file" / "cache"))
    monkeypatch.delenv("CODECBENCH_KODAK_DIR", raising=False)
    result = project.runpytest("--collect-only", "--dataset=kodak")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        f"ERROR: cannot create the Kodak cache folder {tmp_path / 'a-file' / 'cache' / 'kodak'} (Not a directory): "
        "point --kodak-dir (or $CODECBENCH_KODAK_DIR) at an existing copy, or $CODECBENCH_CACHE at a folder that "
        "can be written"
    )


def test_identical_images_give_exactly_one():
    image = photo_like(200, 184, 3)
    assert ssim(image, image) == 1.0 and ms_ssim(image, image) == 1.0
    near = image.copy()
    near[0, 0, 0] ^= 1  # one LSB: the float32 sums gave 1.000000005 before they were capped at 1
    assert ssim(image, near) <= 1 and ms_ssim(image, near) <= 1
    other = image.copy()
    other[50:60, 50:60] ^= 8
    assert ssim(image, other) < 1 and ms_ssim(image, other) < 1


def test_the_hashes_of_bitstream_and_decoded_image_are_recorded_and_compared_across_machines(project, tmp_path):
    project.runpytest("--codecs=png,jpeg", "--qualities=jpeg=50", "--benchmark-json=out.json").assert_outcomes(passed=4)
    report = _report(project)
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        if bench["params"]["codec"] == "png":  # lossless: the decoded image is the image file's pixels
            pixels = images.load_rgb(project.path / "imgs" / f"{bench['params']['image']}.png")
            assert info["decoded_sha256"] == hashlib.sha256(pixels.tobytes()).hexdigest()
            assert info["metrics"]["ssim"] == 1.0 and info["metrics"]["ms_ssim"] == 1.0
        assert len(info["bitstream_sha256"]) == len(info["decoded_sha256"]) == 64
    other = copy.deepcopy(report)
    other["machine_info"]["cpu"]["brand_raw"] = "Another CPU"
    for bench in other["benchmarks"]:
        bench["extra_info"]["machine"] = "Another CPU, 8 cores"
    (tmp_path / "same.json").write_text(json.dumps(other))
    assert build([project.path / "out.json", tmp_path / "same.json"], tmp_path / "same") == 0
    assert (
        "All 4 items measured on more than one machine gave the same bitstream and decoded image"
        in (tmp_path / "same" / "index.md").read_text()
    )
    jpeg = next(b for b in other["benchmarks"] if b["params"]["codec"] == "jpeg")
    jpeg["extra_info"]["decoded_sha256"] = "0" * 64  # the same bytes decoded otherwise there
    (tmp_path / "differs.json").write_text(json.dumps(other))
    assert build([project.path / "out.json", tmp_path / "differs.json"], tmp_path / "differs") == 0
    lines = (tmp_path / "differs" / "cross-machine.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"imgs,full,jpeg,50,{jpeg['params']['image']},decoded image,")
    assert "1 of the 4 items measured on more than one machine" in (tmp_path / "differs" / "index.md").read_text()


def test_a_report_on_image_names_that_are_not_utf8(project, tmp_path):
    folder = project.path / "odd"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: not UTF-8, held as a surrogate escape
    Image.fromarray(photo_like(192, 176, 0)).save(folder / name, format="PNG")
    project.runpytest("--dataset=odd", "--codecs=png", "--metrics=psnr", "--benchmark-json=out.json")
    assert build([project.path / "out.json"], tmp_path / "report") == 0
    (per_image,) = (tmp_path / "report").glob("*/per-image.csv")
    assert per_image.read_text(encoding="utf-8").splitlines()[1].startswith("png,6,caf\\xe9,")


def test_the_versions_of_a_matrix_codec_name_its_transforms_library():
    from conftest import REPO

    codecs = load_codecs([REPO / "codecs"])
    versions = codecs["cdf97+ans"].versions()
    assert {"numpy", "PyWavelets", "constriction"} <= set(versions)
    assert {"numpy", "scipy", "dahuffman"} <= set(codecs["dct8+huffman"].versions())
