"""Byte-level baselines: zstandard (level 19) and LZMA (preset 9, the standard library's) on the
planes' raw little-endian integers, the narrowest type that holds them (int8, int16 or int32)."""

import lzma
import platform
from importlib.metadata import version

import numpy as np

from pytest_codecbench import EntropyCoder

WIDTHS = (np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"))


def _narrowest(planes: list[np.ndarray]) -> np.dtype:
    low = min((int(p.min()) for p in planes if p.size), default=0)
    high = max((int(p.max()) for p in planes if p.size), default=0)
    return next(t for t in WIDTHS if np.iinfo(t).min <= low and high <= np.iinfo(t).max)


def _pack(planes: list[np.ndarray]) -> bytes:
    width = _narrowest(planes)
    return bytes([width.itemsize]) + b"".join(p.astype(width).tobytes() for p in planes)


def _unpack(raw: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    width = next(t for t in WIDTHS if t.itemsize == raw[0])
    flat, planes, offset = np.frombuffer(raw, dtype=width, offset=1), [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        planes.append(flat[offset : offset + size].astype(np.int32).reshape(shape))
        offset += size
    return planes


def _zstd_encode(planes):
    import zstandard

    return zstandard.ZstdCompressor(level=19).compress(_pack(planes))


def _zstd_decode(data, shapes):
    import zstandard

    return _unpack(zstandard.ZstdDecompressor().decompress(data), shapes)


CODERS = [
    EntropyCoder(
        "zstd",
        _zstd_encode,
        _zstd_decode,
        "zstandard level 19 on the raw integers",
        lambda: {"zstandard": version("zstandard")},
        ("zstandard",),
    ),
    EntropyCoder(
        "lzma",
        lambda p: lzma.compress(_pack(p), preset=9),
        lambda d, s: _unpack(lzma.decompress(d), s),
        "LZMA preset 9 on the raw integers",
        lambda: {"lzma": f"Python {platform.python_version()}"},
    ),
]
