"""RGB ↔ Y'CbCr: ITU-R BT.709 coefficients, full range, as CompressAI's VTM/HM anchors convert.

Full range (Y' and Cb, Cr over the whole code range, no studio headroom) because the
images are full-range 8-bit RGB photographs and learned-compression papers compare against
anchors converted this way; BT.709 because CompressAI's ``rgb2ycbcr`` uses it. Written in
numpy (not FFmpeg's swscale) so that the matrix, rounding and chroma filters are the ones
stated here:

- Y' = Kr·R + Kg·G + Kb·B, Cb = (B − Y')/(2(1 − Kb)) + ½, Cr = (R − Y')/(2(1 − Kr)) + ½,
  with R, G, B in [0, 1] and Kr = 0.2126, Kb = 0.0722;
- N-bit samples: round(v · (2^N − 1)), clipped;
- 4:2:0: each chroma sample is the mean of its 2×2 block (sited at the block's centre; an
  odd last row or column is repeated), and is brought back with the bilinear [¼, ¾]
  filter of that siting.
"""

from __future__ import annotations

import numpy as np

KR, KB = 0.2126, 0.0722
KG = 1 - KR - KB
BT601 = (0.299, 0.114)  # Kr, Kb of BT.601, which JFIF (JPEG) uses at full range


def from_rgb(rgb: np.ndarray, k: tuple[float, float] = (KR, KB)) -> np.ndarray:
    """H×W×3 uint8 RGB -> H×W×3 float64 Y'CbCr in [0, 1] (Cb, Cr centred on ½); ``k``: Kr, Kb."""
    kr, kb = k
    r, g, b = np.moveaxis(rgb.astype(np.float64) / 255.0, 2, 0)
    y = kr * r + (1 - kr - kb) * g + kb * b
    return np.stack([y, (b - y) / (2 * (1 - kb)) + 0.5, (r - y) / (2 * (1 - kr)) + 0.5], axis=2)


def to_rgb(ycbcr: np.ndarray, k: tuple[float, float] = (KR, KB)) -> np.ndarray:
    """H×W×3 float Y'CbCr in [0, 1] -> H×W×3 uint8 RGB, rounded and clipped; ``k``: Kr, Kb."""
    kr, kb = k
    y, cb, cr = np.moveaxis(ycbcr, 2, 0)
    r = y + 2 * (1 - kr) * (cr - 0.5)
    b = y + 2 * (1 - kb) * (cb - 0.5)
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.round(np.stack([r, g, b], axis=2) * 255.0), 0, 255).astype(np.uint8)


def _halve(plane: np.ndarray) -> np.ndarray:
    """2×2 block means; an odd last row or column is repeated first."""
    h, w = plane.shape
    plane = np.pad(plane, ((0, h % 2), (0, w % 2)), mode="edge")
    return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4


def _double(plane: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Centre-sited 2× bilinear upsampling along ``axis``: neighbours weighted ¾ and ¼."""
    before = np.concatenate([np.take(plane, [0], axis), np.take(plane, range(plane.shape[axis] - 1), axis)], axis)
    after = np.concatenate([np.take(plane, range(1, plane.shape[axis]), axis), np.take(plane, [-1], axis)], axis)
    even, odd = 0.75 * plane + 0.25 * before, 0.75 * plane + 0.25 * after
    out = np.stack([even, odd], axis=axis + 1).reshape(*plane.shape[:axis], -1, *plane.shape[axis + 1 :])
    return np.take(out, range(size), axis)


def planes(rgb: np.ndarray, bits: int, chroma: str) -> list[np.ndarray]:
    """Y', Cb, Cr sample planes (uint16) of ``rgb`` at ``bits`` bits, chroma "444" or "420"."""
    ycbcr = from_rgb(rgb)
    top = 2**bits - 1
    quantise = lambda plane: np.clip(np.round(plane * top), 0, top).astype(np.uint16)  # noqa: E731
    chroma_planes = [ycbcr[:, :, c] for c in (1, 2)]
    if chroma == "420":
        chroma_planes = [_halve(p) for p in chroma_planes]
    return [quantise(ycbcr[:, :, 0]), *map(quantise, chroma_planes)]


def from_planes(samples: list[np.ndarray], bits: int, height: int, width: int) -> np.ndarray:
    """The inverse of ``planes``: H×W×3 uint8 RGB (chroma upsampled when it is smaller)."""
    top = 2**bits - 1
    y, cb, cr = (plane.astype(np.float64) / top for plane in samples)
    if cb.shape != y.shape:
        cb, cr = (_double(_double(p, 0, height), 1, width) for p in (cb, cr))
    return to_rgb(np.stack([y, cb, cr], axis=2))


def plane_shapes(height: int, width: int, chroma: str) -> list[tuple[int, int]]:
    small = ((height + 1) // 2, (width + 1) // 2) if chroma == "420" else (height, width)
    return [(height, width), small, small]


def to_raw(rgb: np.ndarray, bits: int, chroma: str) -> bytes:
    """``planes`` as a raw planar frame: Y', Cb, Cr one after another in 16-bit little-endian samples
    (FFmpeg's yuv444p10le / yuv420p10le, VTM's input at more than 8 bits)."""
    return b"".join(plane.astype("<u2").tobytes() for plane in planes(rgb, bits, chroma))


def from_raw(raw: bytes, bits: int, height: int, width: int, chroma: str) -> np.ndarray:
    """The inverse of ``to_raw``: H×W×3 uint8 RGB."""
    samples, start = [], 0
    for shape in plane_shapes(height, width, chroma):
        count = shape[0] * shape[1]
        samples.append(np.frombuffer(raw, "<u2", count, start).reshape(shape))
        start += 2 * count
    return from_planes(samples, bits, height, width)
