"""Metrics on the luma plane Y' (BT.709, full range, unquantised: ``ycbcr.from_rgb``), as JPEG AI's
common test conditions compute MS-SSIM, VIF, FSIM, IW-SSIM and PSNR-HVS, and AOM's SSIM/MS-SSIM on Y.

- ``ssim-y``, ``ms-ssim-y``: this package's SSIM and MS-SSIM (piq's definitions, ssim.py) on Y'.
- ``vif`` (VIF-p, pixel domain), ``fsim`` (without its chroma term, FSIM rather than FSIMc),
  ``iw-ssim``, ``gmsd``: piq's functions, which compute both sides per call; the reference's
  Y' plane is kept per image.
- ``psnr-hvs``, ``psnr-hvs-m``: the psnr_hvsm package (Ponomarenko's 8×8 DCT metrics, its C++
  backend), on Y' in [0, 1] as it expects.

tests/test_metric_references.py checks each against the values its source publishes (MATLAB or
Octave runs of the authors' code on the same images).
"""

from __future__ import annotations

import contextlib
import io
import math
from functools import cache

import numpy as np

from ..kits import ycbcr
from ..runtime import RUNTIME
from . import Column, Metric, MetricError, distributions, ssim
from .references import ReferenceCache

_planes = ReferenceCache()


def luma(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 RGB -> H×W×1 float64 Y' in [0, 255] (BT.709, full range, unquantised): the Y'
    of ``ycbcr.from_rgb``, without its chroma planes."""
    y = ycbcr.KR * image[..., 0] + ycbcr.KG * image[..., 1]
    y += ycbcr.KB * image[..., 2]
    return y[..., None]


def _reference_luma(reference: np.ndarray) -> np.ndarray:
    def make(image):
        plane = luma(image)
        plane.setflags(write=False)  # so that ssim.py's caches hash it once
        return plane

    return _planes.get(reference, make)


def _ssim_y(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    try:
        value = ssim.ssim(_reference_luma(reference), luma(decoded))
    except ValueError as error:
        raise MetricError(str(error)) from error
    return {"ssim_y": value}


def _ms_ssim_y(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    try:
        value = ssim.ms_ssim(_reference_luma(reference), luma(decoded))
    except ValueError as error:
        raise MetricError(str(error)) from error
    return {"ms_ssim_y": value, "ms_ssim_y_db": -10 * math.log10(1 - value) if value < 1 else math.inf}


@cache
def _piq():
    from ..kits.torch_compat import import_torchvision

    import_torchvision()  # piq imports torchvision
    import piq

    return piq


def _tensor(plane: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(plane[..., 0], dtype=np.float32))[None, None].to(RUNTIME.device)


def _piq_entry(
    name: str, column: str, label: str, function: str, bytes_per_pixel: int, higher_is_better=True, **options
):
    """The opt-in metric ``name``: piq.<function>(decoded, reference, **options) on Y' in [0, 255],
    both 1×1×H×W float32."""

    def compute(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
        import torch

        with torch.inference_mode():
            x, y = _tensor(luma(decoded)), _tensor(_reference_luma(reference))
            try:
                value = getattr(_piq(), function)(x, y, data_range=255.0, **options)
            except ValueError as error:  # piq's size checks
                raise MetricError(f"{column}: {error}") from error
        return {column: float(value)}

    return Metric(
        name,
        {column: Column(label, higher_is_better)},
        compute,
        default=False,
        bytes_per_pixel=bytes_per_pixel,
        torch=True,
        versions=distributions("piq"),
    )


@cache
def _psnr_hvs_hvsm():
    with contextlib.redirect_stdout(io.StringIO()):  # it prints which of its backends it could not import
        from psnr_hvsm import BACKENDS
    return BACKENDS.get("cpp", BACKENDS["numpy"])["psnr_hvs_hvsm"]


def _psnr_hvs(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    height, width = reference.shape[:2]
    if height < 8 or width < 8:
        raise MetricError(f"PSNR-HVS needs at least 8×8 pixels; the image is {width}×{height}")
    hvs, hvs_m = _psnr_hvs_hvsm()(_reference_luma(reference)[..., 0] / 255, luma(decoded)[..., 0] / 255)
    # psnr_hvsm writes 100 dB for a zero error; stored as null (infinite) like PSNR
    return {"psnr_hvs": hvs if hvs < 100 else math.inf, "psnr_hvs_m": hvs_m if hvs_m < 100 else math.inf}


def _check_psnr_hvsm():
    try:
        _psnr_hvs_hvsm()
    except ImportError as error:
        raise MetricError("psnr-hvs needs the psnr_hvsm package: pip install psnr_hvsm") from error


Y = "on Y', BT.709 full range"
# bytes_per_pixel: peak resident memory above the start (memory.Peak) on 512², 1024² and 2048² images, the
# largest, rounded up (piq's FSIM works on an image it first downsamples: small images cost most per pixel)
METRICS = [
    Metric("ssim-y", {"ssim_y": Column(f"SSIM-Y (piq's SSIM {Y})")}, _ssim_y, default=False, bytes_per_pixel=40),
    Metric(
        "ms-ssim-y",
        {
            "ms_ssim_y": Column(f"MS-SSIM-Y (piq's MS-SSIM {Y})", bd_rate=False),
            "ms_ssim_y_db": Column("MS-SSIM-Y (dB, -10·log10(1-MS-SSIM-Y))"),
        },
        _ms_ssim_y,
        default=False,
        bytes_per_pixel=80,
    ),
    _piq_entry("vif", "vif", f"VIF-p (piq vif_p {Y})", "vif_p", 200),
    _piq_entry("fsim", "fsim", f"FSIM (piq fsim, no chroma term, {Y})", "fsim", 220, chromatic=False),
    _piq_entry("iw-ssim", "iw_ssim", f"IW-SSIM (piq information_weighted_ssim {Y})", "information_weighted_ssim", 280),
    _piq_entry("gmsd", "gmsd", f"GMSD (piq gmsd {Y}; lower is better)", "gmsd", 50, higher_is_better=False),
    Metric(
        "psnr-hvs",
        {
            "psnr_hvs": Column(f"PSNR-HVS (dB, psnr_hvsm {Y})"),
            "psnr_hvs_m": Column(f"PSNR-HVS-M (dB, psnr_hvsm {Y})"),
        },
        _psnr_hvs,
        default=False,
        check=_check_psnr_hvsm,
        bytes_per_pixel=50,
        versions=distributions("psnr_hvsm"),
    ),
]
