"""The pluggable metric set: each metric turns a (reference, decoded) pair into named values.

Built in: PSNR (RGB and BT.601 luma), SSIM and MS-SSIM (piq's definitions, ssim.py). More metrics come
from the ``codecbench.metrics`` entry-point group: a ``Metric`` or a list of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from importlib.metadata import entry_points

import numpy as np

from ..kits import ycbcr
from ..measure import memory
from . import ssim

ENTRY_POINT_GROUP = "codecbench.metrics"


class MetricError(Exception):
    """A metric cannot be computed on this pair; the message says why."""


class WeightsMissing(MetricError):
    """A metric's weights are missing from the cache they download into (offline): its columns are left
    out of the session, with a note naming the file and folder, also when --metrics names it."""


@dataclass(frozen=True)
class Column:
    label: str  # for tables and plot axes, with its unit and convention
    higher_is_better: bool = True
    bd_rate: bool = True  # take part in BD-rate tables (False where another column is its better scale)


@dataclass(frozen=True)
class Metric:
    """``compute(reference, decoded)`` gets two H×W×3 uint8 arrays and returns one
    float per column. A value that is infinite (e.g. PSNR of an exact copy) is
    stored as null."""

    name: str  # what --metrics selects
    columns: dict[str, Column]
    compute: Callable[[np.ndarray, np.ndarray], dict[str, float]]
    default: bool = True  # on when --metrics is not given (costly metrics are opt-in)
    check: Callable[[], object] | None = None  # raises MetricError when the metric cannot run here
    bytes_per_pixel: float = 0  # peak memory it needs per image pixel (measured), so large images fail early
    tiled_above: int = 0  # pixels beyond which it works tile by tile (0: never)
    tiled_bytes: float = 0  # its peak memory then, at any size (measured) …
    tiled_bytes_per_pixel: float = 0  # … plus this per pixel, where it keeps something of the whole image
    torch: bool = False  # runs torch models: a process sets torch up (threads, device) only when one is chosen
    versions: Callable[[], dict[str, str]] | None = None  # what computes it (packages, libvmaf), for the JSON
    # a set metric (FID, KID): no per-item columns; what each item stores so that its value can be computed
    # over the items of a (codec, quality) (metrics/distribution.py)
    set_features: Callable[[np.ndarray, np.ndarray], dict] | None = None
    weights: tuple = ()  # checkpoints it downloads (kits.weights), which `codecbench weights` lists and fetches

    def memory_bytes(self, pixels: int) -> float:
        """Its peak memory on an image of ``pixels`` pixels."""
        if self.tiled_above and pixels > self.tiled_above:
            return self.tiled_bytes + self.tiled_bytes_per_pixel * pixels
        return self.bytes_per_pixel * pixels


def distributions(*names: str) -> Callable[[], dict[str, str]]:
    """``versions`` of the installed distributions ``names``."""
    return lambda: {name: metadata.version(name) for name in names}


BAND_PIXELS = 1 << 18  # per-pixel metrics read images in bands of rows this large: flat memory, data in cache


def row_bands(shape: tuple[int, ...], pixels: int | None = None) -> list[slice]:
    """Bands of whole rows of about ``pixels`` (default BAND_PIXELS) pixels covering an image of ``shape``."""
    height, width = shape[:2]
    rows = max(1, (pixels or BAND_PIXELS) // width)
    return [np.s_[top : top + rows] for top in range(0, height, rows)]


def _psnr_from(mse: float, peak: float) -> float:
    return 10 * math.log10(peak**2 / mse) if mse > 0 else math.inf


def _psnr(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    # Computed here in float64 rather than with piq.psnr, which adds 1e-8 to the
    # normalised MSE: that biases PSNR by 0.004 dB at 50 dB and caps exact copies at 80 dB.
    luma = np.array([0.299, 0.587, 0.114])  # BT.601, full range (JFIF)
    rgb, y = 0.0, 0.0  # sums of squared errors
    for band in row_bands(reference.shape):
        error = reference[band].astype(np.float64) - decoded[band]
        rgb += float(np.sum(error**2))
        y += float(np.sum((error @ luma) ** 2))
    pixels = reference.shape[0] * reference.shape[1]
    return {"psnr": _psnr_from(rgb / (3 * pixels), 255.0), "psnr_y": _psnr_from(y / pixels, 255.0)}


def _psnr_ycbcr(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """PSNR of each plane of BT.709 full-range Y'CbCr (ycbcr.from_rgb, unquantised), and the
    weighted (6·Y' + Cb + Cr) / 8 of JVET's common test conditions, in dB."""
    squares = np.zeros(3)
    for band in row_bands(reference.shape):
        squares += np.sum((ycbcr.from_rgb(reference[band]) - ycbcr.from_rgb(decoded[band])) ** 2, axis=(0, 1))
    y, cb, cr = (_psnr_from(total / (reference.shape[0] * reference.shape[1]), 1.0) for total in squares)
    return {"psnr_ycbcr_y": y, "psnr_ycbcr_cb": cb, "psnr_ycbcr_cr": cr, "psnr_ycbcr": (6 * y + cb + cr) / 8}


def _ssim(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    try:
        return {"ssim": ssim.ssim(reference, decoded)}
    except ValueError as error:
        raise MetricError(str(error)) from error


def _ms_ssim(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    try:
        value = ssim.ms_ssim(reference, decoded)
    except ValueError as error:
        raise MetricError(str(error)) from error
    return {"ms_ssim": value, "ms_ssim_db": -10 * math.log10(1 - value) if value < 1 else math.inf}


# bytes_per_pixel: peak resident memory above the start, measured on 2048² and 3000² images
# (memory.Peak), rounded up; the per-pixel metrics need that of one band at any size.
BUILTIN = (
    Metric(
        "psnr",
        {"psnr": Column("PSNR RGB (dB)"), "psnr_y": Column("PSNR-Y (dB, BT.601 full-range luma)")},
        _psnr,
        bytes_per_pixel=90,
        tiled_above=BAND_PIXELS,
        tiled_bytes=90 * BAND_PIXELS,
    ),
    Metric(
        "ssim",
        {"ssim": Column("SSIM (piq: RGB mean, 11×11 σ=1.5 Gaussian, auto-downsampled)")},
        _ssim,
        bytes_per_pixel=40,
    ),
    Metric(
        "ms-ssim",
        {
            "ms_ssim": Column("MS-SSIM (piq, RGB mean)", bd_rate=False),
            "ms_ssim_db": Column("MS-SSIM (dB, -10·log10(1-MS-SSIM))"),
        },
        _ms_ssim,
        bytes_per_pixel=110,  # 101 on 2 and 12 MP images, the reference's pyramid made a plane at a time
    ),
    Metric(
        "psnr-ycbcr",
        {
            "psnr_ycbcr_y": Column("PSNR Y' (dB, BT.709 full-range Y'CbCr of the RGB)", bd_rate=False),
            "psnr_ycbcr_cb": Column("PSNR Cb (dB, BT.709 full range)", bd_rate=False),
            "psnr_ycbcr_cr": Column("PSNR Cr (dB, BT.709 full range)", bd_rate=False),
            "psnr_ycbcr": Column("PSNR-YCbCr (dB, (6·Y' + Cb + Cr)/8, BT.709 full range)"),
        },
        _psnr_ycbcr,
        default=False,
        bytes_per_pixel=160,
        tiled_above=BAND_PIXELS,
        tiled_bytes=160 * BAND_PIXELS,
    ),
)


@cache
def available() -> dict[str, Metric]:
    metrics = {m.name: m for m in BUILTIN}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        loaded = point.load()
        for metric in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
            if metric.name in metrics:
                raise MetricError(f"metric {metric.name!r} from entry point {point.value} is already registered")
            metrics[metric.name] = metric
    return metrics


def check_memory(metrics: list[Metric], reference: np.ndarray) -> None:
    """Raise MetricError, before anything is allocated, when the metrics (run one after another)
    would need more memory than the machine has available now."""
    height, width = reference.shape[:2]
    need = max((m.memory_bytes(height * width) for m in metrics), default=0)
    free = memory.available()
    if free is not None and need > free:
        hungriest = max(metrics, key=lambda m: m.memory_bytes(height * width)).name
        raise MetricError(
            f"the image is {width}×{height} ({height * width / 1e6:.1f} MP): metric {hungriest!r} needs about "
            f"{need / 2**20:,.0f} MiB, more than the {free / 2**20:,.0f} MiB available; use --crop or other --metrics"
        )


def set_features(metrics: list[Metric], reference: np.ndarray, decoded: np.ndarray) -> dict | None:
    """What the item stores for the set metrics among ``metrics`` (computed once for all of them), or None."""
    functions = {metric.set_features for metric in metrics if metric.set_features}
    if len(functions) > 1:
        raise MetricError("set metrics with different features are not supported together")
    try:
        return functions.pop()(reference, decoded) if functions else None
    except Exception as error:
        raise MetricError(f"features for the set metrics failed: {type(error).__name__}: {error}") from error


def compute(metrics: list[Metric], reference: np.ndarray, decoded: np.ndarray) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for metric in metrics:
        try:
            computed = metric.compute(reference, decoded)
        except MetricError:
            raise
        except Exception as error:
            raise MetricError(f"metric {metric.name!r} failed: {type(error).__name__}: {error}") from error
        for key, value in computed.items():
            values[key] = value if math.isfinite(value) else None
    return values
