"""Kodak: fetched once from a server and verified, or read from an existing copy."""

import numpy as np
import pytest
from PIL import Image

from conftest import photo_like
from pytest_codecbench import images


@pytest.fixture
def fake_kodak(monkeypatch, server, tmp_path):
    """Two generated 'Kodak' images on the server, with their checksums as the table."""
    root, url = server
    table = {}
    for i in (1, 2):
        pixels = photo_like(64, 48, i)
        Image.fromarray(pixels).save(root / f"kodim0{i}.png")
        table[f"kodim0{i}.png"] = images.pixels_sha256(pixels)
    monkeypatch.setattr(images, "kodak_table", lambda: table)
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CODECBENCH_KODAK_DIR", raising=False)
    return root, url


def test_download_once_into_the_cache_and_verify(fake_kodak, tmp_path):
    root, url = fake_kodak
    dataset = images.kodak(None, base_url=url)
    assert [i.name for i in dataset.images] == ["kodim01", "kodim02"]
    assert dataset.source == str(tmp_path / "cache" / "kodak")
    assert np.array_equal(images.load_rgb(dataset.images[0].path), photo_like(64, 48, 1))
    for path in root.iterdir():
        path.unlink()  # a second run must not need the server
    assert images.kodak(None, base_url=url) == dataset


def test_a_corrupt_download_is_rejected_and_not_kept(fake_kodak, tmp_path):
    root, url = fake_kodak
    Image.fromarray(photo_like(64, 48, 9)).save(root / "kodim02.png")
    with pytest.raises(
        images.DatasetError, match=r"downloaded http://127.0.0.1:\d+/kodim02.png but its pixels do not match"
    ):
        images.kodak(None, base_url=url)
    assert sorted(p.name for p in (tmp_path / "cache" / "kodak").iterdir()) == ["kodim01.png"]


def test_an_unreachable_server_names_the_file(fake_kodak):
    with pytest.raises(images.DatasetError, match=r"cannot download http://127.0.0.1:9/kodim01.png to .*kodim01.png"):
        images.kodak(None, base_url="http://127.0.0.1:9/")


def test_an_incomplete_copy_is_named(tmp_path):
    with pytest.raises(images.DatasetError, match=rf"Kodak folder {tmp_path} lacks 24 images, e.g. kodim01.png"):
        images.kodak(str(tmp_path))


@pytest.fixture
def kodak_copy(monkeypatch, tmp_path):
    """A complete 'Kodak' folder of 24 generated 64×48 images, with their checksums as the table."""
    folder = tmp_path / "kodak"
    folder.mkdir()
    table = {}
    for i in range(1, 25):
        pixels = photo_like(64, 48, i)
        Image.fromarray(pixels).save(folder / f"kodim{i:02d}.png")
        table[f"kodim{i:02d}.png"] = images.pixels_sha256(pixels)
    monkeypatch.setattr(images, "kodak_table", lambda: table)
    return folder


def test_kodak_sweep_from_an_existing_copy(project, kodak_copy):
    result = project.runpytest(
        "--dataset",
        "kodak",
        f"--kodak-dir={kodak_copy}",
        "--max-images",
        "2",
        "--crop",
        "32",
        "--metrics=psnr,ssim",
        "--codecs",
        "jxl",
        "--qualities",
        "90",
        "-v",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_rd?jxl-q90-kodim01? PASSED*", "*test_rd?jxl-q90-kodim02? PASSED*"])


def test_a_path_option_value_that_hides_the_ini_is_explained(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # an existing folder outside the project
    result = project.runpytest("--collect-only", "--codecs", "png", "--kodak-dir", str(elsewhere))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"write --kodak-dir={elsewhere} (with '=')" in result.stderr.str()


def test_kodak_pixels_are_verified(kodak_copy):
    image = Image.open(kodak_copy / "kodim03.png")
    image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(kodak_copy / "kodim03.png")
    store = images.ImageStore(crop=None)
    dataset = images.kodak(str(kodak_copy))
    assert store.get(dataset.images[0]).shape == (48, 64, 3)
    with pytest.raises(images.ImageError, match="kodim03.png: decoded pixels do not match the dataset's checksum"):
        store.get(dataset.images[2])
