"""An 8×8 DCT with JPEG's quantisation, weight-free: RGB → Y'CbCr (JFIF: BT.601, full range,
ycbcr.py), 4:4:4, the image edge-padded to multiples of 8, Y' level-shifted by 128 and Cb, Cr
centred on 0, an orthonormal 2-D DCT-II
per block (scipy.fft; for 8×8 this is JPEG's DCT), divided by JPEG's Annex K tables (luma for
Y', chroma for Cb and Cr) scaled by libjpeg's quality rule, rounded. Symbols: one plane per
component and frequency (3 × 64 planes of blocks-high × blocks-wide), so channel-wise coders
model each frequency apart. Header: width, height (uint16 each), quality (uint8)."""

import struct

import numpy as np

from pytest_codecbench import Transform, ycbcr

HEADER = struct.Struct(">HHB")
# ITU-T T.81 Annex K, tables K.1 (luminance) and K.2 (chrominance), row-major
LUMA = [
    16,
    11,
    10,
    16,
    24,
    40,
    51,
    61,
    12,
    12,
    14,
    19,
    26,
    58,
    60,
    55,
    14,
    13,
    16,
    24,
    40,
    57,
    69,
    56,
    14,
    17,
    22,
    29,
    51,
    87,
    80,
    62,
    18,
    22,
    37,
    56,
    68,
    109,
    103,
    77,
    24,
    35,
    55,
    64,
    81,
    104,
    113,
    92,
    49,
    64,
    78,
    87,
    103,
    121,
    120,
    101,
    72,
    92,
    95,
    98,
    112,
    100,
    103,
    99,
]
CHROMA = [
    17,
    18,
    24,
    47,
    99,
    99,
    99,
    99,
    18,
    21,
    26,
    66,
    99,
    99,
    99,
    99,
    24,
    26,
    56,
    99,
    99,
    99,
    99,
    99,
    47,
    66,
    99,
    99,
    99,
    99,
    99,
    99,
] + [99] * 32
CENTRE = np.array([128, 127.5, 127.5])  # JPEG's level shift of Y'; Cb and Cr centred on 0


def tables(quality: int) -> np.ndarray:
    """The three components' 8×8 divisors at a quality, as libjpeg's jpeg_quality_scaling scales them."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    base = np.array([LUMA, CHROMA, CHROMA], dtype=np.int64).reshape(3, 8, 8)
    return np.clip((base * scale + 50) // 100, 1, 255).astype(np.float64)


def _blocks(height: int, width: int) -> tuple[int, int]:
    return -(-height // 8), -(-width // 8)


def analysis(image: np.ndarray, quality: int) -> tuple[bytes, list[np.ndarray]]:
    from scipy.fft import dctn

    height, width = image.shape[:2]
    rows, cols = _blocks(height, width)
    padded = np.pad(image, ((0, 8 * rows - height), (0, 8 * cols - width), (0, 0)), mode="edge")
    components = 255 * ycbcr.from_rgb(padded, ycbcr.BT601) - CENTRE
    blocks = components.transpose(2, 0, 1).reshape(3, rows, 8, cols, 8).transpose(0, 1, 3, 2, 4)
    coefficients = dctn(blocks, axes=(3, 4), norm="ortho") / tables(quality)[:, None, None]
    symbols = np.rint(coefficients).astype(np.int32).transpose(0, 3, 4, 1, 2).reshape(3 * 64, rows, cols)
    return HEADER.pack(width, height, quality), list(symbols)


def shapes(header: bytes) -> list[tuple[int, ...]]:
    width, height, _ = HEADER.unpack(header)
    return [_blocks(height, width)] * (3 * 64)


def synthesis(header: bytes, planes: list[np.ndarray]) -> np.ndarray:
    from scipy.fft import idctn

    width, height, quality = HEADER.unpack(header)
    rows, cols = _blocks(height, width)
    symbols = np.stack(planes).reshape(3, 8, 8, rows, cols).transpose(0, 3, 4, 1, 2)
    blocks = idctn(symbols * tables(quality)[:, None, None], axes=(3, 4), norm="ortho")
    components = blocks.transpose(0, 1, 3, 2, 4).reshape(3, 8 * rows, 8 * cols).transpose(1, 2, 0)
    return ycbcr.to_rgb((components[:height, :width] + CENTRE) / 255, ycbcr.BT601)


TRANSFORMS = [
    Transform(
        "dct8",
        analysis,
        synthesis,
        shapes,
        qualities=(10, 30, 50, 75, 90),
        default_coder="huffman",
        quality_range=(1, 100),
        integer=True,
        description="8×8 DCT, JPEG's Annex K tables at libjpeg's quality scaling, Y'CbCr 4:4:4",
        requires=("scipy",),
    ),
]
