"""Items, ids, selection options and usage errors."""

import json
import re

import pytest

from conftest import REPO
from pytest_codecbench.codec import CodecError, load_codecs


def collected(result):
    return [line for line in result.outlines if "::test_rd[" in line]


def test_ids_are_codec_quality_image(project):
    result = project.runpytest("--collect-only", "-q", "--codecs", "jpeg,png", "--qualities", "jpeg=50,90")
    assert collected(result) == [
        "test_rd.py::test_rd[jpeg-q50-img0]",
        "test_rd.py::test_rd[jpeg-q50-img1]",
        "test_rd.py::test_rd[jpeg-q90-img0]",
        "test_rd.py::test_rd[jpeg-q90-img1]",
        "test_rd.py::test_rd[png-z6-img0]",
        "test_rd.py::test_rd[png-z6-img1]",
    ]


def test_default_grid_covers_every_codec(project):
    codecs = load_codecs([REPO / "codecs"])
    result = project.runpytest("--collect-only", "-q")
    expected = sum(len(c.qualities) for c in codecs.values()) * 2
    assert len(collected(result)) == expected
    assert {
        "jpeg",
        "jpeg444",
        "webp",
        "webp-lossless",
        "avif",
        "avif-s0",
        "avif-s10",
        "jxl",
        "jxl-lossless",
        "jpeg2000",
        "jpeg2000-lossless",
        "jpegls",
        "jpegls-nl",
        "png",
        "tiff",
    } <= set(codecs)


def test_k_and_m_select_as_pytest_users_expect(project):
    ids = collected(project.runpytest("--collect-only", "-q", "-k", "jxl and q90"))
    assert ids == ["test_rd.py::test_rd[jxl-q90-img0]", "test_rd.py::test_rd[jxl-q90-img1]"]
    lossless = collected(project.runpytest("--collect-only", "-q", "-m", "lossless", "--max-images", "1"))
    assert {i.split("[")[1].rsplit("-", 2)[0] for i in lossless} == {
        "png",
        "tiff",
        "webp-lossless",
        "jxl-lossless",
        "jpeg2000-lossless",
        "jpegls",
        "jpegls-hp1",
    }


def test_ini_settings_and_globs(project):
    project.makefile(".cfg", setup="[tool:pytest]\n")  # ignored: pytest.ini wins
    result = project.runpytest(
        "--collect-only",
        "-q",
        "-o",
        "codecbench_codecs=avif-s*",
        "-o",
        "codecbench_max_images=1",
        "-o",
        "codecbench_qualities=30",
    )
    assert collected(result) == ["test_rd.py::test_rd[avif-s0-q30-img0]", "test_rd.py::test_rd[avif-s10-q30-img0]"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--codecs", "jpg"], "unknown codec 'jpg'; did you mean 'jpeg', "),
        (["--codecs", "jpeg", "--qualities", "jpeg=101"], "codec 'jpeg' has no quality '101'; valid: 5, 10"),
        (["--codecs", "tiff", "--qualities", "lzw"], "codec 'tiff' has no quality 'lzw'; valid: deflate"),
        (["--qualities", "heic=50"], "no selected codec matches 'heic'"),
        (["--metrics", "psnr,butteraugli"], "unknown metric 'butteraugli'; valid: psnr, ssim, ms-ssim"),
        (["--crop", "big"], "--crop 'big': expected N, WxH or none"),
        (["--max-images", "0"], "--max-images '0': expected a positive integer"),
        (["--qualities=jpeg="], "--qualities 'jpeg=': no quality given for 'jpeg'"),
        (["--qualities=", "--codecs=jpeg"], "--qualities '': no quality given"),
        (
            ["--codecs=jpeg", "--qualities=50.5"],
            "no quality '50.5'; valid: 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95 (or any integer from 0 to 100)",
        ),
        (["--metrics=,"], "--metrics ',': no metric named; valid: psnr"),
        (["--codecs=,"], "--codecs ',': no codec named"),
        (
            ["-o", "codecbench_timeout=soon"],
            "codecbench_timeout (ini) 'soon': expected a time limit in seconds, 0 for no limit",
        ),
        (["-o", "codecbench_timeout=-1"], "codecbench_timeout (ini) '-1': expected a time limit in seconds"),
        (["--timeout=-1"], "--timeout -1: expected a time limit in seconds, 0 for no limit"),
    ],
)
def test_bad_options_are_usage_errors_listing_valid_names(project, args, message):
    result = project.runpytest("--collect-only", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert len(result.stderr.str()) < 400  # the nearest names, not a list of every codec


def test_missing_dataset_folder_is_one_usage_error_naming_it(project):
    for workers in ("0", "2"):
        result = project.runpytest("--collect-only", "--dataset=nowhere", "-n", workers)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        error = (
            "ERROR: dataset folder nowhere does not exist (expected 'default', 'kodak', a name `codecbench datasets` "
            "lists, or a folder)"
        )
        assert result.stderr.lines[0] == error
        assert "collect" not in result.stdout.str().lower()  # no collection error per test file


def test_a_test_with_no_item_in_the_sweep_is_deselected_not_skipped(project):
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    result = project.runpytest("--codecs=jxl", "--qualities=90", "--metrics=psnr")
    result.assert_outcomes(passed=2, deselected=1)  # test_macs: no selected codec has a count
    assert "empty parameter set" not in result.stdout.str()


def test_embedded_default_is_announced(project):
    result = project.runpytest("--collect-only", "-q", "-o", "codecbench_dataset=", "--codecs", "png")
    assert len(collected(result)) == 4
    result = project.runpytest("--collect-only", "-o", "codecbench_dataset=", "--codecs", "png")
    result.stdout.fnmatch_lines(["codecbench *: dataset 'default', 4 images from 4 scikit-image*embedded default*"])


@pytest.mark.parametrize("name", ["a b", "x[1]", "", "../x", "-k"])
def test_codec_names_are_checked(tmp_path, name):
    adapter = f"from pytest_codecbench import Codec\nCODECS = [Codec({name!r}, bytes, bytes, (1,))]\n"
    (tmp_path / "a.py").write_text(adapter)
    with pytest.raises(CodecError, match=rf"a.py names a codec {re.escape(repr(name))}: a name is letters, digits and"):
        load_codecs([tmp_path], unavailable={})


def test_adapter_errors_and_duplicates(tmp_path):
    (tmp_path / "a.py").write_text("from pytest_codecbench import Codec\nCODECS = [Codec('x', bytes, bytes, (1,))]\n")
    (tmp_path / "b.py").write_text("from pytest_codecbench import Codec\nCODECS = [Codec('x', bytes, bytes, (1,))]\n")
    with pytest.raises(CodecError, match=r"codec 'x' is registered twice: by .*a.py and by .*b.py"):
        load_codecs([tmp_path])
    (tmp_path / "b.py").write_text("CODECS = [1/0]\n")
    with pytest.raises(CodecError, match=r"cannot load codec adapter .*b.py: ZeroDivisionError"):
        load_codecs([tmp_path])


@pytest.mark.slow
def test_codecs_from_an_installed_package_entry_point(project, tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "mycodecs-1.0.dist-info").mkdir(parents=True)
    (site / "mycodecs-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: mycodecs\nVersion: 1.0\n")
    (site / "mycodecs-1.0.dist-info" / "entry_points.txt").write_text("[codecbench.codecs]\nraw = mycodecs:CODECS\n")
    (site / "mycodecs.py").write_text(
        "import numpy as np\nfrom pytest_codecbench import Codec\n"
        "CODECS = [Codec('raw', lambda im, q: im.tobytes(), lambda b: np.frombuffer(b, np.uint8).reshape(176, 192, 3),"
        " (0,), lossless=True)]\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    result = project.runpytest_subprocess("--codecs", "raw", "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_readme_adapter_example_works(project):
    readme = (REPO / "README.md").read_text()
    blocks = readme.split("```python\n")[1:]
    example = next(b for b in blocks if b.startswith("# codecs/lzma_raw.py")).split("```")[0]
    (project.path / "mine").mkdir()
    (project.path / "mine" / "lzma_raw.py").write_text(example)
    result = project.runpytest(
        "--codec-dir", "mine", "--codecs", "lzma", "--benchmark-json", "out.json", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=6)
    record = json.loads((project.path / "out.json").read_text())["benchmarks"][0]["extra_info"]
    assert record["bit_exact"] is True and "encode/entropy" in record["timing"]


def test_codecs_command_lists_grids_and_versions(capsys):
    from pytest_codecbench.cli import main

    assert main(["codecs", "--codec-dir", str(REPO / "codecs")]) == 0
    out = capsys.readouterr().out
    assert "jpeg-q5 jpeg-q10" in out and "libjpeg-turbo" in out and "jpegls-near0" in out


@pytest.mark.slow
def test_an_unrelated_project_gets_only_the_options(pytester):
    """codecbench is installed, but this project configures no codecs: no torch, no changed xdist settings."""
    pytester.makeconftest(
        """
        import sys

        def pytest_unconfigure(config):
            if not hasattr(config, "workerinput"):
                print(f"controller: torch {'torch' in sys.modules}, restarts {config.option.maxworkerrestart}")
        """
    )
    pytester.makepyfile("import sys\n\ndef test_plain():\n    assert 'torch' not in sys.modules\n")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["controller: torch False, restarts None"])
    assert "codecbench:" not in result.stdout.str() and "codecbench 0" not in result.stdout.str()  # no header
    assert "--codecs" in pytester.runpytest_subprocess("--help").stdout.str()


def test_the_codecs_command_finds_the_projects_adapters_from_any_folder_in_it(tmp_path, monkeypatch, capsys):
    from pytest_codecbench.cli import main

    monkeypatch.chdir(REPO / "tests")  # below the project's pyproject.toml, whose ini names codecs/
    assert main(["codecs"]) == 0 and "jpeg-q5 jpeg-q10" in capsys.readouterr().out
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "raw.py").write_text(
        "from pytest_codecbench import Codec\nCODECS = [Codec('raw', lambda i, q: i.tobytes(), bytes, (0,))]\n"
    )
    assert main(["codecs", "--codec-dir", str(tmp_path / "mine")]) == 0  # added to codecs/, as pytest's option
    out = capsys.readouterr().out
    assert "\nraw " in out and "jpeg-q5" in out
    monkeypatch.chdir(tmp_path)  # outside any project: says so, instead of printing nothing
    assert main(["codecs"]) == 2
    assert "no codecs: no ini file from here upward sets codecbench_codec_dirs" in capsys.readouterr().err
