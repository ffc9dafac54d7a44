"""Transforms × entropy coders: two contracts, and the codec that combines one of each.

A *transform* turns an image into integer symbols and back: ``analysis(image, quality)``
gives a header (what ``synthesis`` needs besides the symbols: sizes, the quality) and a list
of integer planes (one per channel or sub-band, any shapes); ``shapes(header)`` tells a
decoder the planes' shapes; ``synthesis(header, planes)`` rebuilds the image. An *entropy
coder* turns planes into bytes and back: ``encode(planes) -> bytes`` and ``decode(bytes,
shapes) -> planes``, with nothing else shared, so every model it uses travels in its bytes.

``combine(transform, coder)`` is an ordinary ``Codec`` named ``<transform>+<coder>``:
every fixture, metric, record, ``-k`` and the report work unchanged. Its bitstream is the
header's length (uint16), the header, then the coder's bytes. Its ``estimate`` (run once
per item, outside the timed runs) decodes the symbols again and fails the item unless they
round-trip exactly, and records the coder's overhead against the ideal information content
of the symbols under per-plane static models, Σ −log2 p (what an ideal coder sending no
table would spend).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .codec import Codec, Quality, no_weights
from .timing import stage

HEADER_LENGTH = struct.Struct(">H")


@dataclass(frozen=True)
class Transform:
    name: str
    analysis: Callable[[np.ndarray, Quality], tuple[bytes, list[np.ndarray]]]
    synthesis: Callable[[bytes, list[np.ndarray]], np.ndarray]
    shapes: Callable[[bytes], list[tuple[int, ...]]]
    qualities: tuple[Quality, ...]
    default_coder: str  # the coder this transform is usually paired with (its BD-rate reference)
    quality_label: str = "q"
    quality_range: tuple[float, float] | None = None
    integer: bool = False
    description: str = ""
    requires: tuple[str, ...] = ()  # modules it imports when used; a missing one skips the items
    weights: Callable[[Quality], tuple] = no_weights  # pretrained weights a learned transform needs
    versions: Callable[[], dict[str, str]] = dict


@dataclass(frozen=True)
class EntropyCoder:
    name: str
    encode: Callable[[list[np.ndarray]], bytes]
    decode: Callable[[bytes, list[tuple[int, ...]]], list[np.ndarray]]
    description: str = ""
    versions: Callable[[], dict[str, str]] = dict
    requires: tuple[str, ...] = ()


class SymbolMismatch(Exception):
    """The coder did not give back the symbols it was given."""


def ideal_bits(planes: list[np.ndarray]) -> float:
    """Σ −log2 p of the symbols, each plane under its own empirical (static) distribution."""
    total = 0.0
    for plane in planes:
        _, counts = np.unique(plane, return_counts=True)
        total -= float(np.sum(counts * np.log2(counts / plane.size)))
    return total


def _split(data: bytes) -> tuple[bytes, bytes]:
    (length,) = HEADER_LENGTH.unpack_from(data)
    start = HEADER_LENGTH.size
    return data[start : start + length], data[start + length :]


def combine(transform: Transform, coder: EntropyCoder) -> Codec:
    def encode(image: np.ndarray, quality: Quality) -> bytes:
        with stage("analysis"):
            header, planes = transform.analysis(image, quality)
        with stage("entropy-coding"):
            payload = coder.encode(planes)
        return HEADER_LENGTH.pack(len(header)) + header + payload

    def decode(data: bytes) -> np.ndarray:
        header, payload = _split(data)
        with stage("entropy-decoding"):
            planes = coder.decode(payload, transform.shapes(header))
        with stage("synthesis"):
            return transform.synthesis(header, planes)

    def estimate(image: np.ndarray, quality: Quality) -> dict[str, float | None]:
        header, planes = transform.analysis(image, quality)
        payload = coder.encode(planes)
        decoded = coder.decode(payload, transform.shapes(header))
        same = len(decoded) == len(planes) and all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(planes, decoded, strict=False)
        )
        if not same:
            raise SymbolMismatch(f"coder {coder.name!r} did not return the symbols of transform {transform.name!r}")
        ideal = ideal_bits(planes)
        symbols = sum(p.size for p in planes)
        return {
            "symbols": symbols,
            "ideal_bpp": ideal / (image.shape[0] * image.shape[1]),
            # none for symbols that carry no information (every plane a single value)
            "coder_overhead_pct": 100 * (8 * len(payload) - ideal) / ideal if ideal > 0 else None,
        }

    return Codec(
        f"{transform.name}+{coder.name}",
        encode,
        decode,
        qualities=transform.qualities,
        quality_label=transform.quality_label,
        quality_range=transform.quality_range,
        integer=transform.integer,
        requires=transform.requires + coder.requires,
        versions=lambda: {**transform.versions(), **coder.versions()},
        weights=transform.weights,
        estimate=estimate,
        family="matrix",
        baseline=f"{transform.name}+{transform.default_coder}",
        description=f"{transform.description}; {coder.description}",
    )


# Per-plane static models that travel in the stream, shared by the coders that need a table.
# Layout per plane: the smallest symbol (int32) and the number of distinct values k (uint32),
# then k pairs of varints: the value's distance from the previous one (from the smallest for
# the first), and its count. An empty plane has k = 0.


def _varints(values) -> bytes:
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def _read_varints(data: memoryview, offset: int, count: int) -> tuple[list[int], int]:
    values = []
    for _ in range(count):
        value = shift = 0
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        values.append(value)
    return values, offset


TABLE_HEAD = struct.Struct(">iI")


def pack_table(plane: np.ndarray) -> tuple[bytes, int, np.ndarray]:
    """The plane's symbol counts as bytes, its smallest symbol, and the dense counts (index =
    symbol − smallest; zero for values that do not occur)."""
    if plane.size == 0:
        return TABLE_HEAD.pack(0, 0), 0, np.zeros(0, dtype=np.int64)
    low = int(plane.min())
    counts = np.bincount((plane.astype(np.int64) - low).ravel())
    present = np.flatnonzero(counts)
    gaps = np.diff(present, prepend=0)
    pairs = np.stack([gaps, counts[present]], axis=1).ravel().tolist()
    return TABLE_HEAD.pack(low, len(present)) + _varints(pairs), low, counts


def unpack_table(data: memoryview, offset: int) -> tuple[int, np.ndarray, int]:
    """(smallest symbol, dense counts, offset after the table)."""
    low, k = TABLE_HEAD.unpack_from(data, offset)
    pairs, offset = _read_varints(data, offset + TABLE_HEAD.size, 2 * k)
    present = np.cumsum(pairs[0::2], dtype=np.int64)
    counts = np.zeros(int(present[-1]) + 1 if k else 0, dtype=np.int64)
    counts[present] = pairs[1::2]
    return low, counts, offset
