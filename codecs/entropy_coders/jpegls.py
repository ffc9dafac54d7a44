"""JPEG-LS (CharLS through pillow-jpls), lossless, on each 2-D integer plane as a 16-bit image
less its minimum, as FRAPPE, WaLLoC and LiVeAction code their latents: its context modelling
sees the plane's 2-D neighbourhoods, which table-based coders do not."""

import io
from importlib.metadata import version

import numpy as np
from PIL import Image

from pytest_codecbench import EntropyCoder, read_varints, unzigzag, varints, zigzag


def encode(planes: list[np.ndarray]) -> bytes:
    import pillow_jpls  # noqa: F401  (registers the JPEG-LS format with Pillow)

    out = bytearray()
    for plane in planes:
        if plane.ndim != 2:
            raise ValueError(f"JPEG-LS codes 2-D planes; got shape {plane.shape}")
        if plane.size == 0:
            out += varints([0, 0])
            continue
        low = int(plane.min())
        shifted = plane.astype(np.int64) - low
        if shifted.max() > 0xFFFF:
            raise ValueError(f"JPEG-LS takes at most 16 bits; the plane spans {int(shifted.max()) + 1} values")
        stream = io.BytesIO()
        Image.fromarray(shifted.astype(np.uint16)).save(stream, "JPEG-LS")
        out += varints([zigzag(low), len(stream.getvalue())]) + stream.getvalue()
    return bytes(out)


def decode(data: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    import pillow_jpls  # noqa: F401

    view, offset, planes = memoryview(data), 0, []
    for shape in shapes:
        (low, length), offset = read_varints(view, offset, 2)
        low = unzigzag(low)
        if length == 0:
            planes.append(np.zeros(shape, dtype=np.int32))
            continue
        pixels = np.asarray(Image.open(io.BytesIO(data[offset : offset + length])))
        offset += length
        planes.append((pixels.astype(np.int64) + low).astype(np.int32).reshape(shape))
    return planes


CODERS = [
    EntropyCoder(
        "jpegls",
        encode,
        decode,
        "JPEG-LS (CharLS) lossless on each plane",
        lambda: {"pillow-jpls": version("pillow-jpls")},
        ("pillow_jpls",),
    ),
]
