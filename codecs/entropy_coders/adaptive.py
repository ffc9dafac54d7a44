"""An adaptive categorical model per plane with constriction's range coder (pytest_codecbench/adaptive.py):
no table in the stream, the model learnt from the symbols as both sides code them. Per plane, as
varints: the smallest symbol (zigzag), the alphabet's size up to the largest, the code's length;
then the code."""

from importlib.metadata import version

import numpy as np

from pytest_codecbench import EntropyCoder, adaptive, read_varints, unzigzag, varints, zigzag


def encode(planes: list[np.ndarray]) -> bytes:
    out = bytearray()
    for plane in planes:
        low = int(plane.min()) if plane.size else 0
        alphabet = int(plane.max()) - low + 1 if plane.size else 0
        code = adaptive.encode(plane.astype(np.int64) - low, alphabet) if plane.size else b""
        out += varints([zigzag(low), alphabet, len(code)]) + code
    return bytes(out)


def decode(data: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    view, offset, planes = memoryview(data), 0, []
    for shape in shapes:
        (low, alphabet, length), offset = read_varints(view, offset, 3)
        low = unzigzag(low)
        count = int(np.prod(shape))
        symbols = adaptive.decode(bytes(view[offset : offset + length]), count, alphabet) if count else np.zeros(0)
        offset += length
        planes.append((symbols.astype(np.int64) + low).astype(np.int32).reshape(shape))
    return planes


CODERS = [
    EntropyCoder(
        "adaptive",
        encode,
        decode,
        "constriction range coder, an adaptive categorical model per plane (rebuilt every 64 symbols, no table)",
        lambda: {"constriction": version("constriction")},
        ("constriction",),
    )
]
