"""Transforms × entropy coders: two contracts, and the codec that combines one of each.

A *transform* turns an image into integer symbols and back: ``analysis(image, quality)``
gives a header (what ``synthesis`` needs besides the symbols: sizes, the quality) and a list
of integer planes (one per channel or sub-band, any shapes); ``shapes(header)`` tells a
decoder the planes' shapes; ``synthesis(header, planes)`` rebuilds the image. A learned
transform may also give the probability model of its symbols that a decoder can rebuild:
``models(header, decoded)`` returns the models of the next planes (one or more: a *group*)
given the planes before them, e.g. a hyperprior's z planes first, each with its factorised
``Categorical``, then, from the decoded z, a ``Gaussian`` per symbol of every y plane.

An *entropy coder* turns planes into bytes and back: ``encode(planes) -> bytes`` and
``decode(bytes, shapes) -> planes``, with nothing else shared, so every model it uses travels
in its bytes. A coder with ``uses_models`` also takes the transform's models (``encode(planes,
models)``, ``decode(bytes, shapes, models)``, ``models(decoded) -> group``; see
``model_groups``) and codes each plane under its model where there is one; the others build
their own from the symbols.

``combine(transform, coder)`` is an ordinary ``Codec`` named ``<transform>+<coder>``:
every fixture, metric, record, ``-k`` and the report work unchanged. Its bitstream is the
header's length (uint16), the header, then the coder's bytes. Computing models is timed as
the stage ``model`` inside the coder's. Its ``estimate`` (run once per item, outside the timed
runs) decodes the symbols again and fails the item unless they round-trip exactly, and records
the coder's overhead against the symbols' ideal information content, Σ −log2 p: under the
transform's model where it gives one, else under a static model per plane (what an ideal
coder sending no table would spend).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..codec import Codec, Quality, module_versions, no_weights
from ..measure.timing import stage

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
    models: Callable[[bytes, list[np.ndarray]], list[Model]] | None = None  # see the module's docstring
    complexity: Callable[[Quality, int, int], dict] | None = None  # counted once: with the default coder


@dataclass(frozen=True)
class Categorical:
    """One distribution for every symbol of a plane: ``pmf(low, high)`` gives the probabilities of the
    symbols low … high (a coder sends a range that holds the symbols), e.g. a channel of a factorised prior."""

    pmf: Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class Gaussian:
    """A zero-mean Gaussian per symbol, its density integrated over [s − ½, s + ½], as CompressAI's
    Gaussian conditional codes round(y − mean): ``scales`` has the plane's shape."""

    scales: np.ndarray


Model = Categorical | Gaussian | None


def model_groups(models, known: list[np.ndarray], count: int) -> Iterator[tuple[int, list[Model]]]:
    """(first plane, models) of each group of ``count`` planes in turn. ``models(known[:first])`` is
    asked when a group is reached, so a decoder appends the planes it decodes to ``known`` as it goes.
    Without ``models`` all planes are one group with no model."""
    first = 0
    while first < count:
        group = list(models(known[:first])) if models else [None] * (count - first)
        if not group or first + len(group) > count:
            raise ValueError(f"the transform gave {len(group)} models for planes {first}… of {count}")
        yield first, group
        first += len(group)


@dataclass(frozen=True)
class EntropyCoder:
    name: str
    encode: Callable[..., bytes]  # (planes) or, with uses_models, (planes, models)
    decode: Callable[..., list[np.ndarray]]  # (data, shapes) or, with uses_models, (data, shapes, models)
    description: str = ""
    versions: Callable[[], dict[str, str]] = dict
    requires: tuple[str, ...] = ()
    uses_models: bool = False  # codes with the transform's models where it gives them


class SymbolMismatch(Exception):
    """The coder did not give back the symbols it was given."""


def ideal_bits(planes: list[np.ndarray], models=None) -> float:
    """Σ −log2 p of the symbols: under the transform's model of a plane where ``models`` gives one (a
    ``Categorical`` normalised on the range of its group's categorical planes, as the coders send and
    use it), else under the plane's own empirical (static) distribution."""
    from scipy.special import ndtr

    total = 0.0
    for first, group in model_groups(models, planes, len(planes)):
        pairs = [(p, m) for p, m in zip(planes[first:], group, strict=False) if p.size]
        categorical = [p for p, m in pairs if isinstance(m, Categorical)]
        if categorical:
            low, high = min(int(p.min()) for p in categorical), max(int(p.max()) for p in categorical)
        for plane, model in pairs:
            if isinstance(model, Gaussian):
                upper, lower = (ndtr((plane + half) / model.scales) for half in (0.5, -0.5))
                total -= float(np.sum(np.log2(np.maximum(upper - lower, 1e-9))))  # CompressAI's likelihood bound
            elif isinstance(model, Categorical):
                pmf = model.pmf(low, high)
                total -= float(np.sum(np.log2(np.maximum(pmf[plane - low] / pmf.sum(), 1e-9))))
            else:
                _, counts = np.unique(plane, return_counts=True)
                total -= float(np.sum(counts * np.log2(counts / plane.size)))
    return total


def _split(data: bytes) -> tuple[bytes, bytes]:
    (length,) = HEADER_LENGTH.unpack_from(data)
    start = HEADER_LENGTH.size
    return data[start : start + length], data[start + length :]


def combine(transform: Transform, coder: EntropyCoder) -> Codec:
    def models_of(header: bytes):
        if transform.models is None:
            return None

        def models(decoded: list[np.ndarray]) -> list[Model]:
            with stage("model"):
                return transform.models(header, decoded)

        return models

    def code(header: bytes, planes: list[np.ndarray]) -> bytes:
        return coder.encode(planes, models_of(header)) if coder.uses_models else coder.encode(planes)

    def decode_symbols(header: bytes, payload: bytes) -> list[np.ndarray]:
        shapes = transform.shapes(header)
        return coder.decode(payload, shapes, models_of(header)) if coder.uses_models else coder.decode(payload, shapes)

    def encode(image: np.ndarray, quality: Quality) -> bytes:
        with stage("analysis"):
            header, planes = transform.analysis(image, quality)
        with stage("entropy-coding"):
            payload = code(header, planes)
        return HEADER_LENGTH.pack(len(header)) + header + payload

    def decode(data: bytes) -> np.ndarray:
        header, payload = _split(data)
        with stage("entropy-decoding"):
            planes = decode_symbols(header, payload)
        with stage("synthesis"):
            return transform.synthesis(header, planes)

    def estimate(image: np.ndarray, quality: Quality) -> dict[str, float | None]:
        header, planes = transform.analysis(image, quality)
        payload = code(header, planes)
        decoded = decode_symbols(header, payload)
        same = len(decoded) == len(planes) and all(
            a.shape == b.shape and np.array_equal(a, b) for a, b in zip(planes, decoded, strict=False)
        )
        if not same:
            raise SymbolMismatch(f"coder {coder.name!r} did not return the symbols of transform {transform.name!r}")
        ideal = ideal_bits(planes, models_of(header))
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
        # the libraries the pair imports (a transform's numpy and PyWavelets too), and what each adds
        versions=lambda: {
            **module_versions(("numpy", *transform.requires, *coder.requires)),
            **transform.versions(),
            **coder.versions(),
        },
        weights=transform.weights,
        complexity=transform.complexity if coder.name == transform.default_coder else None,
        estimate=estimate,
        family="matrix",
        baseline=f"{transform.name}+{transform.default_coder}",
        description=f"{transform.description}; {coder.description}",
    )


# Numbers in the stream (lengths, ranges, tables) are varints: 7 bits a byte, low bits first;
# signed ones zigzag-mapped first (0, −1, 1, −2 … → 0, 1, 2, 3 …), so small values take one byte.


def varints(values) -> bytes:
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def read_varints(data: memoryview, offset: int, count: int) -> tuple[list[int], int]:
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


def zigzag(value: int) -> int:
    return 2 * value if value >= 0 else -2 * value - 1


def unzigzag(value: int) -> int:
    return value // 2 if value % 2 == 0 else -(value + 1) // 2


# Per-plane static models that travel in the stream, shared by the coders that need a table.
# Layout per plane, all varints: the smallest symbol (zigzag), the number of distinct values k,
# then k pairs: the value's distance from the previous one (from the smallest for the first),
# and its count. An empty plane has k = 0.


def pack_table(plane: np.ndarray) -> tuple[bytes, int, np.ndarray]:
    """The plane's symbol counts as bytes, its smallest symbol, and the dense counts (index =
    symbol − smallest; zero for values that do not occur)."""
    if plane.size == 0:
        return varints([0, 0]), 0, np.zeros(0, dtype=np.int64)
    low = int(plane.min())
    counts = np.bincount((plane.astype(np.int64) - low).ravel())
    present = np.flatnonzero(counts)
    gaps = np.diff(present, prepend=0)
    pairs = np.stack([gaps, counts[present]], axis=1).ravel().tolist()
    return varints([zigzag(low), len(present), *pairs]), low, counts


def unpack_table(data: memoryview, offset: int) -> tuple[int, np.ndarray, int]:
    """(smallest symbol, dense counts, offset after the table)."""
    (low, k), offset = read_varints(data, offset, 2)
    pairs, offset = read_varints(data, offset, 2 * k)
    present = np.cumsum(pairs[0::2], dtype=np.int64)
    counts = np.zeros(int(present[-1]) + 1 if k else 0, dtype=np.int64)
    counts[present] = pairs[1::2]
    return unzigzag(low), counts, offset
