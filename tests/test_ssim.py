"""SSIM, MS-SSIM and SSIMULACRA 2 against the libraries whose definitions they follow."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import embedded_photo, photo_like
from pytest_codecbench import metrics
from pytest_codecbench.kits.torch_compat import import_torchvision
from pytest_codecbench.metrics import perceptual, ssim

import_torchvision()
import piq  # noqa: E402


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=quality)
    return np.asarray(Image.open(out))


def piq_values(reference, decoded, dtype):
    x, y = (torch.tensor(a, dtype=dtype).permute(2, 0, 1)[None] for a in (reference, decoded))
    ms = float(piq.multi_scale_ssim(x, y, data_range=255.0)) if min(reference.shape[:2]) >= 161 else None
    return float(piq.ssim(x, y, data_range=255.0)), ms


def read_only(image):
    image = np.ascontiguousarray(image)
    image.setflags(write=False)  # as the plugin's references are
    return image


CASES = [
    ("astronaut", (0, 0, 512, 512), 2),  # JPEG q2: large flat blocks, where float32 cancellation shows
    ("coffee", (0, 0, 400, 600), 30),  # 400 rows: piq pools by round(400/256) = 2
    ("chelsea", (3, 5, 300, 451), 85),  # odd sides: MS-SSIM's replicate padding
    ("motorcycle_left", (0, 0, 161, 161), 50),  # the smallest MS-SSIM input
    ("astronaut", (100, 100, 11, 40), 60),  # the smallest SSIM input
]


@pytest.mark.parametrize(("name", "box", "quality"), CASES)
def test_ssim_and_ms_ssim_equal_piq(name, box, quality):
    top, left, height, width = box
    reference = read_only(embedded_photo(name)[top : top + height, left : left + width])
    decoded = jpeg(reference, quality)
    exact = piq_values(reference, decoded, torch.float64)
    piq_float32 = piq_values(reference, decoded, torch.float32)
    ours = ssim.ssim(reference, decoded), (ssim.ms_ssim(reference, decoded) if exact[1] is not None else None)
    for value, want, single in zip(ours, exact, piq_float32, strict=True):
        if want is None:
            continue
        # piq's definition evaluated in float64. piq's own float32 path drifts from it (2e-5 on
        # astronaut at q2, 1e-4 on the 11×40 crop: E[y²] − μy² cancels in float32); ours does not.
        assert value == pytest.approx(want, abs=1e-6)
        assert abs(value - single) <= abs(want - single) + 1e-6
    # again, with the reference's statistics from the cache: the same values
    assert ssim.ssim(reference, decoded) == ours[0]


def test_the_reference_side_is_computed_once_per_image(monkeypatch):
    calls = []
    side = ssim._side
    monkeypatch.setattr(ssim, "_side", lambda x: calls.append(x.shape) or side(x))
    reference = read_only(photo_like(300, 200, 1))
    values = [ssim.ms_ssim(reference, jpeg(reference, q)) for q in (20, 50, 80)]
    assert len(calls) == 15  # five scales of each of the three planes, once
    assert values[0] < values[1] < values[2] < 1
    assert ssim.ms_ssim(reference, reference) == pytest.approx(1, abs=1e-6)


def test_a_writeable_reference_changed_in_place_is_not_served_from_the_cache():
    reference = photo_like(200, 200, 2)
    decoded = jpeg(reference, 30)
    before = ssim.ssim(reference, decoded)
    reference[:50] = 0
    assert ssim.ssim(reference, decoded) == pytest.approx(piq_values(reference, decoded, torch.float64)[0], abs=1e-6)
    assert ssim.ssim(reference, decoded) != before


def test_too_small_images_are_refused_by_name():
    tiny = photo_like(10, 40, 3)
    with pytest.raises(metrics.MetricError, match="SSIM needs at least 11 pixels per side; the image is 10×40"):
        metrics.compute([metrics.available()["ssim"]], tiny, tiny)
    small = photo_like(160, 300, 3)
    with pytest.raises(metrics.MetricError, match="MS-SSIM needs at least 161 pixels per side; the image is 160×300"):
        metrics.compute([metrics.available()["ms-ssim"]], small, small)


@pytest.mark.parametrize("quality", [5, 60])
def test_ssimulacra2_equals_the_packages_own_function(quality):
    from ssimulacra2 import compute_ssimulacra2

    reference = read_only(embedded_photo("coffee")[:200, :300])
    decoded = jpeg(reference, quality)

    def png(image):
        out = io.BytesIO()
        Image.fromarray(image).save(out, format="PNG")
        out.seek(0)
        return out

    want = compute_ssimulacra2(png(reference), png(decoded))
    assert perceptual._ssimulacra2(reference, decoded)["ssimulacra2"] == want
    assert perceptual._ssimulacra2(reference, decoded)["ssimulacra2"] == want  # reference from the cache
