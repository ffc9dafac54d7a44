"""Bad adapters, records and resources: nothing wrong enters the results, and nothing stops the sweep."""

import errno
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from conftest import photo_like
from pytest_codecbench import metrics
from pytest_codecbench.measure import memory
from pytest_codecbench.measure.records import RecordStore, RecordWarning

# Lossless codecs (PNG underneath) that misbehave at quality 2, and one that is not bit-exact.
FAULTY = """
import io
import os
import sys
import time

import numpy as np
from PIL import Image

from pytest_codecbench import Codec


def png(image, quality):
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def unpng(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def at_2(fault):
    def encode(image, quality):
        if quality == 2:
            fault()
        return png(image, quality)
    return encode


def off_by_one(data):
    pixels = np.array(unpng(data))
    pixels[0, 0, 0] ^= 1
    return pixels


CODECS = [
    Codec("hangs", at_2(lambda: time.sleep(600)), unpng, (1, 2), lossless=True),
    Codec("aborts", at_2(os.abort), unpng, (1, 2), lossless=True),
    Codec("exits", at_2(lambda: sys.exit(3)), unpng, (1, 2), lossless=True),
    Codec("liar", png, off_by_one, (1,), lossless=True),
]
"""
ODD_NAMES = ("a[1] b", "été")


@pytest.fixture
def faulty(project):
    """The test project with the adapters above in mine/, and images with odd names in odd/."""
    (project.path / "mine").mkdir()
    (project.path / "mine" / "faulty.py").write_text(FAULTY)
    (project.path / "odd").mkdir()
    for i, name in enumerate(ODD_NAMES):
        Image.fromarray(photo_like(192, 176, i)).save(project.path / "odd" / f"{name}.png")
    return project


def outcome_names(path) -> tuple[list[str], list[tuple]]:
    report = json.loads(path.read_text())
    failed = [(f["codec"], f["quality"], f["image"]) for f in report["codecbench"]["failed"]]
    return sorted(b["name"] for b in report["benchmarks"]), sorted(failed)


@pytest.mark.slow
def test_hang_abort_exit_and_mismatch_under_xdist_leave_the_good_results_whole(faulty):
    from pytest_codecbench.report import build

    # the limit only has to stop a 600 s sleep: generous, so that good items pass on a loaded machine
    sweep = [
        "--codec-dir=mine",
        "--dataset=odd",
        "--codecs=hangs,aborts,exits,liar,png,jpeg",
        "--qualities=jpeg=50",
        "--metrics=psnr",
        "-o",
        "codecbench_timeout=15",
        "-n",
        "2",
        "--records=records",
        "-p",
        "no:cacheprovider",
    ]
    result = faulty.runpytest_subprocess(*sweep, "--benchmark-json=out.json")
    result.assert_outcomes(passed=10, failed=6, errors=2)
    measured, failed = outcome_names(faulty.path / "out.json")
    good = ("hangs-q1", "aborts-q1", "exits-q1", "png-z6", "jpeg-q50")
    escaped = [name.encode("unicode_escape").decode() for name in ODD_NAMES]  # as pytest writes ids
    assert measured == sorted(f"test_rd[{c}-{image}]" for c in good for image in escaped)
    bad = [(c, 2) for c in ("aborts", "exits", "hangs")] + [("liar", 1)]
    assert failed == sorted((c, q, image) for c, q in bad for image in ODD_NAMES)
    output = result.stdout.str()
    for image in ODD_NAMES:
        for codec in ("hangs", "aborts"):
            assert (
                f"codec '{codec}' at quality 2 on image odd/{image}.png ended its worker process: a crash in native "
                "code (segfault, abort) or the per-item time limit of 15 s (pytest-timeout); xdist started a new worker"
            ) in output
        assert f"codec 'exits' at quality 2 on image odd/{image}.png failed: SystemExit: 3" in output
    assert "codecbench: 2 failed items of liar are left out of the JSON" in output

    assert build([faulty.path / "out.json"], faulty.path / "report") == 0
    (folder,) = [p for p in (faulty.path / "report").iterdir() if p.is_dir()]
    readme = (folder / "README.md").read_text()
    assert "## Failed items" in readme and "| liar | 2 | lossless codec is not bit-exact" in readme
    assert "| hangs | 2 | ended its worker process" in readme
    assert "liar" not in (folder / "rd.csv").read_text() and "liar" not in (folder / "per-image.csv").read_text()

    resumed = faulty.runpytest_subprocess(*sweep, "--resume", "--benchmark-json=resumed.json")
    resumed.assert_outcomes(skipped=10, failed=6, errors=2)  # what failed (the hang too) is tried again
    assert outcome_names(faulty.path / "resumed.json") == (measured, failed)


def test_sys_exit_and_a_time_limit_fail_only_their_items_in_one_process(faulty):
    result = faulty.runpytest("--codec-dir=mine", "--codecs=exits,hangs,png", "--metrics=psnr", "--timeout=5")
    result.assert_outcomes(passed=6, errors=4)  # exits-q2 and hangs-q2 on two images; later items unharmed
    output = result.stdout.str()
    assert "codec 'exits' at quality 2 on image imgs/img0.png failed: SystemExit: 3" in output
    assert "Timeout (>5.0s) from pytest-timeout" in output


def test_records_that_cannot_be_written_are_warned_about_once_and_the_sweep_goes_on(project):
    (project.path / "blocked").write_text("a file where the record folder should be")
    result = project.runpytest(
        "--codecs=png,jpeg", "--qualities=jpeg=50", "--records=blocked", "--benchmark-json=out.json"
    )
    result.assert_outcomes(passed=4)
    assert len(json.loads((project.path / "out.json").read_text())["benchmarks"]) == 4
    assert result.stdout.str().count(f"cannot write records in {project.path / 'blocked'}") == 1


def test_a_full_disk_leaves_no_partial_record(tmp_path, monkeypatch):
    store = RecordStore(tmp_path / "records")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.warns(RecordWarning, match=rf"cannot write records in {tmp_path / 'records'} \(\[Errno 28\]"):
        store.save({"test": "a"}, {"name": "a"})
        store.save({"test": "b"}, {"name": "b"})  # warned once
    assert [p for p in (tmp_path / "records").rglob("*") if p.is_file()] == []


def test_records_are_checked_before_they_are_trusted(project):
    base = ["--codecs=png", "--records=records", "--resume", "--benchmark-json=out.json"]
    project.runpytest(*base).assert_outcomes(passed=2)
    files = {json.loads(p.read_text())["key"]["image"]: p for p in (project.path / "records").glob("*/*.json")}
    img0, img1 = files["img0"], files["img1"]
    original = img0.read_text()
    for content, why in [
        ("{}", "is not a complete codecbench record"),
        (img1.read_text(), "holds the record of another item (codec 'png', quality 6, image 'img1')"),
        (original.replace('"bpp": ', '"bpp": 0.5 + '), "cannot be read (Expecting ',' delimiter"),
        (original.replace('"bytes": ', '"bytes": 1'), "was changed after it was written"),
    ]:
        img0.write_text(content)
        result = project.runpytest(*base, "-W", "always")
        result.assert_outcomes(passed=1, skipped=1)  # measured again, the other one resumed
        assert f"record {img0} {why}" in result.stdout.str() and "the item is measured again" in result.stdout.str()
        names = [b["name"] for b in json.loads((project.path / "out.json").read_text())["benchmarks"]]
        assert names == ["test_rd[png-z6-img0]", "test_rd[png-z6-img1]"]


def test_a_broken_adapter_is_listed_and_the_others_run(project):
    (project.path / "mine").mkdir()
    (project.path / "mine" / "needs_lib.py").write_text("import not_installed_codec_library\nCODECS = []\n")
    result = project.runpytest("--codec-dir=mine", "--codecs=png", "--collect-only")
    why = "ModuleNotFoundError: No module named 'not_installed_codec_library'"
    result.stdout.fnmatch_lines(
        [f"codecbench: codecs of mine/needs_lib.py unavailable: cannot load codec adapter mine/needs_lib.py: {why}"]
    )
    assert result.ret == 0
    result = project.runpytest("--codec-dir=mine", "--codecs=needs_lib_codec", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown codec 'needs_lib_codec'" in result.stderr.str() and "unavailable: mine/needs_lib.py" in (
        result.stderr.str()
    )


def test_an_image_too_large_for_the_memory_fails_before_allocating(project, monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: 2 * 2**20)  # 2 MiB left
    result = project.runpytest("--codecs=png", "--benchmark-json=out.json")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*codec 'png' at quality 6 on image imgs/img0.png: the image is 192×176 (0.0 MP): "
            "metric 'lpips-alex' needs about 5 MiB, more than the 2 MiB available*"
        ]
    )


def test_peak_memory_is_recorded(project):
    project.runpytest("--codecs=png", "--benchmark-json=out.json").assert_outcomes(passed=2)
    for bench in json.loads((project.path / "out.json").read_text())["benchmarks"]:
        assert bench["extra_info"]["peak_memory"]["rss_above_start_mb"] >= 0
    # MS-SSIM's declared memory per pixel holds on a 6 MP image, measured in a fresh process (in this one,
    # memory that earlier tests freed can be reused without raising the high-water mark)
    script = """
import numpy as np
from pytest_codecbench import metrics
from pytest_codecbench.measure import memory
reference = np.zeros((2000, 3000, 3), np.uint8)
with memory.Peak() as peak:
    metrics.compute([metrics.available()["ms-ssim"]], reference, reference + 1)  # identical: a shortcut
print(peak.result()["rss_above_start_mb"] * 2**20 / (2000 * 3000))
"""
    per_pixel = float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout)
    assert 0 < per_pixel <= metrics.available()["ms-ssim"].bytes_per_pixel
