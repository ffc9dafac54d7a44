"""The opt-in metrics of JPEG AI's and AOM's test conditions against values from independent sources:
the authors' MATLAB or Octave code (as piq's and psnr_hvsm's tests publish them, on the image pairs in
tests/data/; pyiqa's for NLPD), Sharma, Wu and Dalal's CIEDE2000 table, and a second implementation (pytorch_msssim).

The pairs are grey, so Y' (BT.709) of their three equal channels is the grey level itself: the
metrics' own colour conversion adds nothing to the comparison but float rounding (1e-13).
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pytest_codecbench import metrics
from pytest_codecbench.kits import ycbcr

DATA = Path(__file__).parent / "data"


def grey_rgb(name: str) -> np.ndarray:
    grey = np.asarray(Image.open(DATA / name))
    assert grey.ndim == 2
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgb.setflags(write=False)  # as the sweep's references are
    return rgb


def compute(name: str, reference: np.ndarray, decoded: np.ndarray) -> dict:
    return metrics.compute([metrics.available()[name]], reference, decoded)


@pytest.fixture(scope="module")
def goldhill():
    return grey_rgb("goldhill.png"), grey_rgb("goldhill-jpeg.png")


# piq 0.8.0's tests (test_vif.py, test_fsim.py, test_iw_ssim.py, test_gmsd.py): the MATLAB code of
# each metric's authors on goldhill and its JPEG; the tolerance is the digits piq quotes (VIF, FSIM)
# or the one its test asserts (IW-SSIM atol 1e-5, GMSD torch.isclose: rtol 1e-5).
MATLAB = {
    "vif": (0.2665, 5e-5),
    "fsim": (0.89691, 5e-6),
    "iw_ssim": (0.886297251092821, 1e-5),
    "gmsd": (0.138012587141798, 1e-5 * 0.138012587141798),
}


@pytest.mark.parametrize("column", MATLAB)
def test_piq_metrics_on_y_match_the_authors_matlab_code(goldhill, column):
    value = compute(column.replace("_", "-"), *goldhill)[column]
    expected, tolerance = MATLAB[column]
    assert value == pytest.approx(expected, abs=tolerance)


# pyiqa's ResultsCalibra/calibration_summary.csv: the authors' MATLAB NLP_dist on rgb2gray of each pair
# (what tid-*.png hold), to 4 decimals; pyiqa's own port gives 0.5616 and 0.0139 on them.
NLPD_MATLAB = {"i03": 0.5616, "i04": 0.0195}


@pytest.mark.parametrize("pair", NLPD_MATLAB)
def test_nlpd_matches_the_authors_matlab_code(pair):
    value = compute("nlpd", grey_rgb(f"tid-{pair}.png"), grey_rgb(f"tid-{pair}-distorted.png"))["nlpd"]
    # within 1e-3: the MATLAB figure's rounding (5e-5) and our pyramid's borders, which follow
    # pyiqa's transcription rather than the MATLAB code itself (on pyiqa's five pairs: 0.3 % at most)
    assert value == pytest.approx(NLPD_MATLAB[pair], abs=1e-3)


def test_psnr_hvs_matches_ponomarenkos_code_run_in_octave():
    # psnr_hvsm's tests/test_psnr_hvsm.py: Octave on baboon.png against baboon_msk.png (12 decimals)
    values = compute("psnr-hvs", grey_rgb("baboon.png"), grey_rgb("baboon-msk.png"))
    assert values["psnr_hvs"] == pytest.approx(34.42705450576435, abs=1e-9)
    assert values["psnr_hvs_m"] == pytest.approx(51.64722121999962, abs=1e-9)


def test_ssim_y_and_ms_ssim_y_match_a_second_implementation(goldhill):
    import torch
    import torch.nn.functional as F

    pytorch_msssim = pytest.importorskip("pytorch_msssim")  # CompressAI's dependency
    reference, decoded = goldhill
    values = compute("ms-ssim-y", reference, decoded) | compute("ssim-y", reference, decoded)

    def tensor(image):
        return torch.from_numpy(image[..., 0].astype(np.float64))[None, None]

    x, y = tensor(decoded), tensor(reference)
    assert values["ms_ssim_y"] == pytest.approx(float(pytorch_msssim.ms_ssim(x, y, data_range=255)), abs=2e-6)
    # piq's SSIM (ours) first averages 2×2 blocks of a 512-pixel side: pytorch_msssim does not
    halved = float(pytorch_msssim.ssim(F.avg_pool2d(x, 2), F.avg_pool2d(y, 2), data_range=255))
    assert values["ssim_y"] == pytest.approx(halved, abs=2e-6)


def test_the_y_metrics_see_luma_only():
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 256, (192, 192, 3), dtype=np.uint8)
    shifted = ycbcr.from_rgb(reference)
    shifted[..., 1] = np.clip(shifted[..., 1] + 0.02, 0, 1)  # chroma changed, Y' kept
    decoded = ycbcr.to_rgb(shifted)
    y_error = np.abs(ycbcr.from_rgb(decoded)[..., 0] - ycbcr.from_rgb(reference)[..., 0]).max() * 255
    assert y_error < 1.5  # only RGB rounding moves Y'
    assert compute("ms-ssim-y", reference, decoded)["ms_ssim_y"] > 0.99
    assert compute("ciede2000", reference, decoded)["ciede2000"] > 1  # the colour difference sees it


# Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula: implementation notes, supplementary
# test data, and mathematical observations" (2005), table 1, pairs 1, 2, 3, 7, 17 and 25 (4 decimals).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
]


def test_ciede2000_follows_sharmas_table_and_srgb_d65():
    from pytest_codecbench.metrics import colour

    lab_1, lab_2, expected = (np.array(column, dtype=np.float64) for column in zip(*SHARMA, strict=True))
    from skimage.color import deltaE_ciede2000

    assert deltaE_ciede2000(lab_1, lab_2) == pytest.approx(expected, abs=5e-5)
    # sRGB red and white under D65: the CIELAB values of the sRGB standard (IEC 61966-2-1)
    lab = colour._lab(np.array([[[255, 0, 0], [255, 255, 255]]], dtype=np.uint8))
    assert lab[0, 0] == pytest.approx([53.2408, 80.0925, 67.2032], abs=1e-3)
    assert lab[0, 1] == pytest.approx([100, 0, 0], abs=1e-2)
    image = np.full((16, 16, 3), 255, np.uint8)
    image.setflags(write=False)
    redder = image.copy()
    redder[..., 1:] = 0
    # the image's value is the pixels' mean: a red square on white covers a quarter
    quarter = image.copy()
    quarter[:8, :8] = redder[:8, :8]
    full = compute("ciede2000", image, redder)["ciede2000"]
    assert compute("ciede2000", image, quarter)["ciede2000"] == pytest.approx(full / 4)
    assert compute("ciede2000", image, image.copy())["ciede2000"] == 0


def test_psnr_of_a_large_image_sums_its_bands_errors(goldhill, monkeypatch):
    from skimage.metrics import peak_signal_noise_ratio

    reference, decoded = goldhill
    monkeypatch.setattr(metrics, "BAND_PIXELS", 1000)  # 1000 // 512 = one row per band
    assert compute("psnr", reference, decoded)["psnr"] == pytest.approx(peak_signal_noise_ratio(reference, decoded))
    assert compute("psnr", reference, reference.copy())["psnr"] is None  # infinite: stored as null


def test_ciede2000_of_a_large_image_is_the_mean_over_bands_of_rows(goldhill, monkeypatch):
    """Bands of rows of about 1 000 pixels: the pixels' mean that skimage gives for the whole image."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    from pytest_codecbench.metrics import colour

    reference, decoded = goldhill
    whole = float(np.mean(deltaE_ciede2000(rgb2lab(reference), rgb2lab(decoded))))
    monkeypatch.setattr(colour, "BANDED_ABOVE", 0)
    monkeypatch.setattr(colour, "BAND_PIXELS", 1000)
    monkeypatch.setattr(colour, "_labs", None)  # the whole reference's L*a*b* is not kept: never read
    assert colour._ciede2000(reference, decoded)["ciede2000"] == pytest.approx(whole, rel=1e-12)


def test_identical_images_score_as_identical(goldhill):
    reference, _ = goldhill
    copy = reference.copy()
    values = {}
    for name in ("ssim-y", "ms-ssim-y", "vif", "fsim", "iw-ssim", "gmsd", "psnr-hvs", "nlpd"):
        values |= compute(name, reference, copy)
    assert values["ssim_y"] == values["ms_ssim_y"] == 1
    assert values["ms_ssim_y_db"] is None and values["psnr_hvs"] is None and values["psnr_hvs_m"] is None
    assert values["vif"] == pytest.approx(1, abs=1e-5)
    assert values["fsim"] == pytest.approx(1, abs=1e-5)
    assert values["iw_ssim"] == pytest.approx(1, abs=1e-5)
    assert values["gmsd"] == pytest.approx(0, abs=1e-6)
    assert values["nlpd"] == 0


def test_small_images_fail_with_the_metrics_reason():
    tiny = np.zeros((6, 6, 3), np.uint8)
    with pytest.raises(metrics.MetricError, match="8×8"):
        compute("psnr-hvs", tiny, tiny.copy())
    with pytest.raises(metrics.MetricError, match="MS-SSIM needs at least 161 pixels"):
        compute("ms-ssim-y", tiny, tiny.copy())


def test_vmaf_runs_libvmaf_on_the_decoded_image_against_the_reference(goldhill):
    # No independent VMAF value could be had offline (Netflix's test sequences are downloads): this
    # checks what codecbench decides: which input is which, both models, and the version recorded.
    metric = metrics.available()["vmaf"]
    try:
        metric.check()
    except metrics.MetricError as error:
        pytest.skip(str(error))
    reference, decoded = goldhill
    values = compute("vmaf", reference, decoded)
    swapped = compute("vmaf", decoded, reference)
    assert 0 < values["vmaf_neg"] <= values["vmaf"] < 97
    assert swapped["vmaf"] != pytest.approx(values["vmaf"], abs=0.1)  # VMAF is not symmetric
    # one frame of an exact copy: VIF and ADM features 1, motion 0: vmaf_v0.6.1's fixed 97.43
    assert compute("vmaf", reference, reference.copy())["vmaf"] == pytest.approx(97.4285, abs=1e-3)
    versions = metric.versions()
    assert versions["ffmpeg"].startswith("ffmpeg version") and versions["libvmaf"] not in ("", "unknown")
