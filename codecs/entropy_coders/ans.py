"""constriction's ANS (a stack) and range coder (a queue), l3ic-style: every plane coded on its
own with its own static categorical model, sent in the stream before the plane's symbols, so
planes (channels, sub-bands) decode independently. A maintained FSE/tANS binding for Python
was not found (python-fse 0.3.3 dates from 2019 and is unverified), so l3ic's FSE is stood in
for by constriction's ANS with the same channel-wise models.
"""

from functools import partial
from importlib.metadata import version

import numpy as np

from pytest_codecbench.transform_coding import EntropyCoder, pack_table, unpack_table

LENGTH = np.dtype(">u4")


def _model(counts: np.ndarray):
    import constriction

    # perfect=False: constriction's fast, deterministic quantisation of the table, the same on both sides
    return constriction.stream.model.Categorical(counts.astype(np.float64), perfect=False)


def _encoder(kind: str):
    import constriction

    return constriction.stream.stack.AnsCoder() if kind == "ans" else constriction.stream.queue.RangeEncoder()


def encode(kind: str, planes: list[np.ndarray]) -> bytes:
    out = bytearray()
    for plane in planes:
        table, low, counts = pack_table(plane)
        out += table
        if np.count_nonzero(counts) <= 1:  # empty or a single value: the table says it all
            continue
        coder = _encoder(kind)
        symbols = (plane.astype(np.int64) - low).ravel().astype(np.int32)
        if kind == "ans":
            coder.encode_reverse(symbols, _model(counts))
        else:
            coder.encode(symbols, _model(counts))
        words = coder.get_compressed()
        out += np.array([words.size], dtype=LENGTH).tobytes() + words.astype("<u4").tobytes()
    return bytes(out)


def decode(kind: str, data: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    import constriction

    view, offset, planes = memoryview(data), 0, []
    for shape in shapes:
        low, counts, offset = unpack_table(view, offset)
        size = int(np.prod(shape))
        if np.count_nonzero(counts) <= 1:
            value = low + (int(np.argmax(counts)) if counts.size else 0)
            planes.append(np.full(shape, value, dtype=np.int32))
            continue
        (words,) = np.frombuffer(view[offset : offset + 4], dtype=LENGTH)
        offset += 4
        compressed = np.frombuffer(view[offset : offset + 4 * int(words)], dtype="<u4").astype(np.uint32)
        offset += 4 * int(words)
        if kind == "ans":
            coder = constriction.stream.stack.AnsCoder(compressed)
        else:
            coder = constriction.stream.queue.RangeDecoder(compressed)
        symbols = coder.decode(_model(counts), size)
        planes.append((symbols.astype(np.int64) + low).astype(np.int32).reshape(shape))
    return planes


def versions() -> dict[str, str]:
    return {"constriction": version("constriction")}


def _coder(kind: str, description: str) -> EntropyCoder:
    return EntropyCoder(kind, partial(encode, kind), partial(decode, kind), description, versions, ("constriction",))


CODERS = [
    _coder("ans", "constriction ANS, a static categorical model per plane in the stream (l3ic-style)"),
    _coder("range", "constriction range coder, a static categorical model per plane in the stream"),
]
