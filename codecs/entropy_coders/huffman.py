"""Huffman coding with dahuffman: a static code per plane built from the plane's counts, which
travel in the stream (as for ANS), so the decoder rebuilds the same code. JPEG's own entropy
coder is Huffman: the DCT transform's default coder."""

from importlib.metadata import version

import numpy as np

from pytest_codecbench import EntropyCoder, pack_table, read_varints, unpack_table, varints


def _codec(low: int, counts: np.ndarray):
    from dahuffman import HuffmanCodec

    present = np.flatnonzero(counts)
    return HuffmanCodec.from_frequencies(dict(zip((present + low).tolist(), counts[present].tolist(), strict=True)))


def encode(planes: list[np.ndarray]) -> bytes:
    out = bytearray()
    for plane in planes:
        table, low, counts = pack_table(plane)
        out += table
        if np.count_nonzero(counts) > 1:
            bits = _codec(low, counts).encode(plane.ravel().tolist())
            out += varints([len(bits)]) + bits
    return bytes(out)


def decode(data: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    view, offset, planes = memoryview(data), 0, []
    for shape in shapes:
        low, counts, offset = unpack_table(view, offset)
        if np.count_nonzero(counts) <= 1:
            planes.append(np.full(shape, low + (int(np.argmax(counts)) if counts.size else 0), dtype=np.int32))
            continue
        (length,), offset = read_varints(view, offset, 1)
        symbols = _codec(low, counts).decode(bytes(view[offset : offset + length]))
        offset += length
        planes.append(np.array(symbols, dtype=np.int32).reshape(shape))
    return planes


CODERS = [
    EntropyCoder(
        "huffman",
        encode,
        decode,
        "Huffman (dahuffman), a static code per plane from counts in the stream",
        lambda: {"dahuffman": version("dahuffman")},
        ("dahuffman",),
    ),
]
