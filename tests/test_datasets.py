"""Datasets: Kodak and the named archives, fetched once from a server and verified, or read from an existing copy."""

import hashlib
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import photo_like
from pytest_codecbench import cli, datasets, images


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


def _zip_of_images(path, members):
    """A zip archive at ``path`` holding generated PNGs under the given member names."""
    with zipfile.ZipFile(path, "w") as zf:
        for i, member in enumerate(members):
            buffer = io.BytesIO()
            Image.fromarray(photo_like(40, 32, i)).save(buffer, "PNG")
            zf.writestr(member, buffer.getvalue())


@pytest.fixture
def published_archive(monkeypatch, server, tmp_path):
    """A named dataset whose archive (three images in valid/, macOS's copies, another folder) is served
    from 127.0.0.1, its SHA-256 and size as the published ones."""
    root, url = server
    members = ["valid/b.png", "valid/a.png", "__MACOSX/valid/._a.png", "valid/c.png", "other/d.png", "valid/notes.txt"]
    _zip_of_images(root / "set.zip", members)
    data = (root / "set.zip").read_bytes()
    archive = datasets.Archive(
        "stand-in", url + "set.zip", hashlib.sha256(data).hexdigest(), len(data), "valid", 3, "CC0", url
    )
    monkeypatch.setitem(datasets.ARCHIVES, archive.name, archive)
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path / "cache"))
    return archive, root


def test_a_named_dataset_is_fetched_once_verified_and_its_pixels_recorded(published_archive, tmp_path):
    archive, root = published_archive
    dataset = images.resolve("stand-in")
    folder = tmp_path / "cache" / "stand-in"
    assert [i.name for i in dataset.images] == ["a", "b", "c"]
    assert dataset.source == f"{folder} (verified against checksums recorded in {folder / 'PIXELS.sha256'})"
    assert sorted(p.name for p in folder.iterdir()) == ["PIXELS.sha256", "a.png", "b.png", "c.png"]
    # the table holds each image's own pixels (photo_like(…, i) is member i of the archive)
    assert dataset.images[0].pixels_sha256 == images.pixels_sha256(photo_like(40, 32, 1))
    assert f"# archive sha256 {archive.sha256} (published)" in (folder / "PIXELS.sha256").read_text()
    (root / "set.zip").unlink()  # a second use needs no server
    assert images.resolve("stand-in") == dataset
    Image.fromarray(photo_like(40, 32, 7)).save(folder / "b.png")
    with pytest.raises(images.ImageError, match="b.png: decoded pixels do not match the dataset's checksum"):
        images.ImageStore(crop=None).get(dataset.images[1])


def test_an_archive_that_does_not_match_its_checksum_is_not_kept(published_archive, monkeypatch, tmp_path):
    archive, _ = published_archive
    wrong = datasets.Archive(**{**archive.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(datasets.ARCHIVES, archive.name, wrong)
    with pytest.raises(images.DatasetError, match=f"its SHA-256 is {archive.sha256}, not the published 0000"):
        images.resolve("stand-in")
    assert list((tmp_path / "cache").iterdir()) == []  # no folder, no partial download


def test_an_archive_without_a_published_checksum_records_one_and_says_so(published_archive, monkeypatch, tmp_path):
    archive, _ = published_archive
    unknown = datasets.Archive(**{**archive.__dict__, "sha256": None, "size": None})
    monkeypatch.setitem(datasets.ARCHIVES, archive.name, unknown)
    with pytest.warns(UserWarning, match=f"no published checksum of .*set.zip is known; .*SHA-256 {archive.sha256}"):
        images.resolve("stand-in")
    recorded = (tmp_path / "cache" / "stand-in" / "PIXELS.sha256").read_text()
    assert f"# archive sha256 {archive.sha256} (recorded by this first download" in recorded


def test_a_wrong_image_count_names_the_archive(published_archive, monkeypatch):
    archive, _ = published_archive
    monkeypatch.setitem(datasets.ARCHIVES, archive.name, datasets.Archive(**{**archive.__dict__, "images": 4}))
    with pytest.raises(images.DatasetError, match=r"set.zip holds 3 images in valid, not 4"):
        images.resolve("stand-in")


def test_a_named_datasets_existing_copy_is_swept_and_said_unverified(project, monkeypatch, tmp_path):
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path / "cache"))  # no checksums recorded by a download
    copy = tmp_path / "copy"
    copy.mkdir()
    for i in range(2):
        Image.fromarray(photo_like(48, 40, i)).save(copy / f"08{i}1.png")
    result = project.runpytest(
        "--dataset=div2k-valid-hr", f"--div2k-valid-hr-dir={copy}", "--codecs=png", "--metrics=psnr", "-v"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            f"*dataset 'div2k-valid-hr', 2 images from {copy} (not verified: no pixel checksums of div2k-valid-hr*",
            "*test_rd?png-z6-0801? PASSED*",
        ]
    )


def test_an_existing_copy_is_verified_against_the_recorded_checksums(published_archive, monkeypatch, tmp_path):
    images.resolve("stand-in")  # downloads and records
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "a.png").write_bytes((tmp_path / "cache" / "stand-in" / "a.png").read_bytes())
    monkeypatch.setenv("CODECBENCH_STAND_IN_DIR", str(copy))
    with pytest.raises(images.DatasetError, match=f"stand-in folder {copy} lacks 2 images, e.g. b.png"):
        images.resolve("stand-in")


def test_codecbench_datasets_lists_sources_licences_and_checksums(capsys):
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    for archive in datasets.ARCHIVES.values():
        assert f"{archive.name}: " in out and archive.url in out and f"licence: {archive.licence}" in out
    div2k = datasets.ARCHIVES["div2k-valid-hr"]
    assert f"archive sha256 {div2k.sha256} (published)" in out  # TensorFlow Datasets' div2k.txt
    assert "tecnick-sampling-1200: 100 images" in out and "none published; the first download records it" in out
