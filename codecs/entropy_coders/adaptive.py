"""An adaptive categorical model per plane with constriction's range coder (pytest_codecbench/adaptive.py):
no table in the stream, the model learnt from the symbols as both sides code them. Per plane: the
smallest symbol (int32), the alphabet's size up to the largest (uint32), the code's length (uint32)
and the code."""

import struct
from importlib.metadata import version

import numpy as np

from pytest_codecbench import adaptive
from pytest_codecbench.transform_coding import EntropyCoder

PLANE = struct.Struct(">iII")


def encode(planes: list[np.ndarray]) -> bytes:
    out = bytearray()
    for plane in planes:
        low = int(plane.min()) if plane.size else 0
        alphabet = int(plane.max()) - low + 1 if plane.size else 0
        code = adaptive.encode(plane.astype(np.int64) - low, alphabet) if plane.size else b""
        out += PLANE.pack(low, alphabet, len(code)) + code
    return bytes(out)


def decode(data: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    offset, planes = 0, []
    for shape in shapes:
        low, alphabet, length = PLANE.unpack_from(data, offset)
        offset += PLANE.size
        count = int(np.prod(shape))
        symbols = adaptive.decode(data[offset : offset + length], count, alphabet) if count else np.zeros(0)
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
