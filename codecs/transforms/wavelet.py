"""A CDF 9/7 wavelet, weight-free: RGB → Y'CbCr (JFIF, ycbcr.py), a 2-D discrete wavelet transform with
PyWavelets' 'bior4.4' (the CDF 9/7 pair of JPEG 2000's irreversible path), periodic extension,
up to 5 levels, and a dead-zone scalar quantiser, q = sign(c)·floor(|c| / Δ), reconstructed at
sign(q)·(|q| + 0.5)·Δ, with one step Δ = 2^((100 − quality) / 12) for every sub-band.
Symbols: one plane per component and sub-band. Header: width, height (uint16 each), quality
(uint8)."""

import struct
from functools import cache

import numpy as np

from pytest_codecbench import Transform, ycbcr

HEADER = struct.Struct(">HHB")
WAVELET, MODE, MAX_LEVELS = "bior4.4", "periodization", 5
CENTRE = np.array([128, 127.5, 127.5])  # Y' shifted by 128; Cb and Cr centred on 0


def step(quality: int) -> float:
    return 2 ** ((100 - quality) / 12)


def _levels(height: int, width: int) -> int:
    import pywt

    return max(1, min(MAX_LEVELS, pywt.dwt_max_level(min(height, width), WAVELET)))


@cache
def _layout(height: int, width: int) -> tuple[int, list[tuple[int, int]]]:
    """Levels and the shape of each sub-band of one component, in wavedec2's order."""
    import pywt

    levels = _levels(height, width)
    coefficients = pywt.wavedec2(np.zeros((height, width)), WAVELET, mode=MODE, level=levels)
    return levels, [coefficients[0].shape] + [band.shape for detail in coefficients[1:] for band in detail]


def analysis(image: np.ndarray, quality: int) -> tuple[bytes, list[np.ndarray]]:
    import pywt

    height, width = image.shape[:2]
    levels, _ = _layout(height, width)
    components = 255 * ycbcr.from_rgb(image, ycbcr.BT601) - CENTRE
    delta, planes = step(quality), []
    for component in components.transpose(2, 0, 1):
        coefficients = pywt.wavedec2(component, WAVELET, mode=MODE, level=levels)
        for band in [coefficients[0]] + [band for detail in coefficients[1:] for band in detail]:
            planes.append((np.sign(band) * np.floor(np.abs(band) / delta)).astype(np.int32))
    return HEADER.pack(width, height, quality), planes


def shapes(header: bytes) -> list[tuple[int, ...]]:
    width, height, _ = HEADER.unpack(header)
    return _layout(height, width)[1] * 3


def synthesis(header: bytes, planes: list[np.ndarray]) -> np.ndarray:
    import pywt

    width, height, quality = HEADER.unpack(header)
    levels, layout = _layout(height, width)
    delta, components = step(quality), []
    for c in range(3):
        bands = [
            np.sign(q) * (np.abs(q) + 0.5) * delta * (q != 0) for q in planes[c * len(layout) : (c + 1) * len(layout)]
        ]
        coefficients = [bands[0]] + [tuple(bands[1 + 3 * i : 4 + 3 * i]) for i in range(levels)]
        components.append(pywt.waverec2(coefficients, WAVELET, mode=MODE)[:height, :width])
    return ycbcr.to_rgb((np.stack(components, axis=2) + CENTRE) / 255, ycbcr.BT601)


TRANSFORMS = [
    Transform(
        "cdf97",
        analysis,
        synthesis,
        shapes,
        qualities=(20, 35, 50, 65, 80, 95),
        default_coder="ans",
        quality_range=(1, 100),
        integer=True,
        description="CDF 9/7 wavelet (PyWavelets bior4.4), 5 levels, dead-zone quantiser, Y'CbCr",
        requires=("pywt",),
    ),
]
