"""CIEDE2000 colour difference, as AOM's still-image test conditions report it.

scikit-image's ``rgb2lab`` (sRGB, D65, 2° observer) and ``deltaE_ciede2000`` (Sharma, Wu and
Dalal's formulation, kL = kC = kH = 1), averaged over the pixels; the reference's L*a*b* is kept
per image. Images above BANDED_ABOVE pixels are compared in bands of rows (the difference is per
pixel: the bands' sums add up to the whole image's), so memory stays bounded. Lower is better.
"""

from __future__ import annotations

import numpy as np

from . import Column, Metric, distributions, row_bands
from .references import ReferenceCache

_labs = ReferenceCache()
BANDED_ABOVE, BAND_PIXELS = 1 << 21, 1 << 20


def _lab(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(image)


def _ciede2000(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    from skimage.color import deltaE_ciede2000

    height, width = reference.shape[:2]
    if height * width <= BANDED_ABOVE:
        return {"ciede2000": float(np.mean(deltaE_ciede2000(_labs.get(reference, _lab), _lab(decoded))))}
    bands = row_bands(reference.shape, BAND_PIXELS)
    total = sum(float(np.sum(deltaE_ciede2000(_lab(reference[b]), _lab(decoded[b])))) for b in bands)
    return {"ciede2000": total / (height * width)}


# bytes_per_pixel: peak resident memory above the start (memory.Peak) on 512², 1024² and 2048² images;
# tiled_bytes: in bands, on 4 and 12 MP images
METRICS = [
    Metric(
        "ciede2000",
        {"ciede2000": Column("CIEDE2000 ΔE00 (mean over pixels; lower is better)", higher_is_better=False)},
        _ciede2000,
        default=False,
        bytes_per_pixel=300,
        tiled_above=BANDED_ABOVE,
        tiled_bytes=300 * 2**20,  # 282 MiB on both
        versions=distributions("scikit-image"),
    ),
]
