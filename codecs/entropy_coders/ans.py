"""constriction's ANS (a stack) and range coder (a queue).

Planes without a transform's model are coded l3ic-style: each on its own with its own static
categorical model, sent in the stream before the plane's symbols, so planes (channels,
sub-bands) decode independently. A maintained FSE/tANS binding for Python was not found
(python-fse 0.3.3 dates from 2019 and is unverified), so l3ic's FSE is stood in for by
constriction's ANS with the same channel-wise models.

Planes with a transform's model (a learned transform's factorised ``Categorical`` or
``Gaussian`` per symbol) are coded under it, a group of planes in one stream (a stream per
plane would cost a flushed state each): the group's smallest and largest symbol (varints;
every model is evaluated on that range: constriction's ``QuantizedGaussian`` for a Gaussian),
then the group's words.
"""

from functools import partial
from importlib.metadata import version

import numpy as np

from pytest_codecbench import (
    Categorical,
    EntropyCoder,
    model_groups,
    pack_table,
    read_varints,
    unpack_table,
    unzigzag,
    varints,
    zigzag,
)


def _model(counts: np.ndarray):
    import constriction

    # perfect=False: constriction's fast, deterministic quantisation of the table, the same on both sides
    return constriction.stream.model.Categorical(counts.astype(np.float64), perfect=False)


def _encoder(kind: str):
    import constriction

    return constriction.stream.stack.AnsCoder() if kind == "ans" else constriction.stream.queue.RangeEncoder()


def _decoder(kind: str, compressed: np.ndarray):
    import constriction

    if kind == "ans":
        return constriction.stream.stack.AnsCoder(compressed)
    return constriction.stream.queue.RangeDecoder(compressed)


def _words(coder) -> bytes:
    words = coder.get_compressed()
    return varints([words.size]) + words.astype("<u4").tobytes()


def _read_words(view: memoryview, offset: int) -> tuple[np.ndarray, int]:
    (count,), offset = read_varints(view, offset, 1)
    end = offset + 4 * count
    return np.frombuffer(view[offset:end], dtype="<u4").astype(np.uint32), end


def _static(kind: str, plane: np.ndarray) -> bytes:
    table, low, counts = pack_table(plane)
    if np.count_nonzero(counts) <= 1:  # empty or a single value: the table says it all
        return table
    coder = _encoder(kind)
    symbols = (plane.astype(np.int64) - low).ravel().astype(np.int32)
    if kind == "ans":
        coder.encode_reverse(symbols, _model(counts))
    else:
        coder.encode(symbols, _model(counts))
    return table + _words(coder)


def _static_decode(kind: str, view: memoryview, offset: int, shape) -> tuple[np.ndarray, int]:
    low, counts, offset = unpack_table(view, offset)
    if np.count_nonzero(counts) <= 1:
        return np.full(shape, low + (int(np.argmax(counts)) if counts.size else 0), dtype=np.int32), offset
    compressed, offset = _read_words(view, offset)
    symbols = _decoder(kind, compressed).decode(_model(counts), int(np.prod(shape)))
    return (symbols.astype(np.int64) + low).astype(np.int32).reshape(shape), offset


def _code(coder, kind: str, plane: np.ndarray, model, low: int, high: int, decode: bool):
    """Encode ``plane`` (or decode a plane of its shape) under a transform's model on [low, high]."""
    import constriction

    if isinstance(model, Categorical):
        arguments = (constriction.stream.model.Categorical(model.pmf(low, high).astype(np.float64), perfect=False),)
        offset = low
    else:
        stds = model.scales.astype(np.float64).ravel()
        arguments = (constriction.stream.model.QuantizedGaussian(low, high), np.zeros_like(stds), stds)
        offset = 0
    if decode:
        count = (plane.size,) if isinstance(model, Categorical) else ()  # a Gaussian's parameters give it
        return coder.decode(*arguments, *count) + offset
    symbols = (plane.ravel() - offset).astype(np.int32)
    return (coder.encode_reverse if kind == "ans" else coder.encode)(symbols, *arguments)


def encode(kind: str, planes: list[np.ndarray], models=None) -> bytes:
    out = bytearray()
    for first, group in model_groups(models, planes, len(planes)):
        pairs = list(zip(planes[first : first + len(group)], group, strict=True))
        for plane, model in pairs:
            if model is None:
                out += _static(kind, plane)
        modeled = [(plane, model) for plane, model in pairs if model is not None and plane.size]
        if not modeled:
            continue
        low, high = min(int(p.min()) for p, _ in modeled), max(int(p.max()) for p, _ in modeled)
        out += varints([zigzag(low), zigzag(high)])
        if low < high:
            coder = _encoder(kind)
            for plane, model in reversed(modeled) if kind == "ans" else modeled:  # ANS: last in, first out
                _code(coder, kind, plane, model, low, high, decode=False)
            out += _words(coder)
    return bytes(out)


def decode(kind: str, data: bytes, shapes: list[tuple[int, ...]], models=None) -> list[np.ndarray]:
    view, offset, planes = memoryview(data), 0, []
    for first, group in model_groups(models, planes, len(shapes)):
        pairs = list(zip(shapes[first : first + len(group)], group, strict=True))
        decoded = []
        for shape, model in pairs:
            plane = None
            if model is None:
                plane, offset = _static_decode(kind, view, offset, shape)
            decoded.append(plane)
        modeled = [i for i, (shape, model) in enumerate(pairs) if model is not None and int(np.prod(shape))]
        if modeled:
            (low, high), offset = read_varints(view, offset, 2)
            low, high = unzigzag(low), unzigzag(high)
            coder = None
            if low < high:
                compressed, offset = _read_words(view, offset)
                coder = _decoder(kind, compressed)
            for i in modeled:
                shape, model = pairs[i]
                if coder is None:  # every symbol of the group is the same
                    decoded[i] = np.full(shape, low, dtype=np.int32)
                else:
                    values = _code(coder, kind, np.empty(shape), model, low, high, decode=True)
                    decoded[i] = np.asarray(values, dtype=np.int32).reshape(shape)
        empty = (np.zeros(shape, dtype=np.int32) for shape, _ in pairs)  # modelled planes with no symbol
        planes.extend(p if p is not None else e for p, e in zip(decoded, empty, strict=True))
    return planes


def versions() -> dict[str, str]:
    return {"constriction": version("constriction")}


def _coder(kind: str, description: str) -> EntropyCoder:
    return EntropyCoder(
        kind, partial(encode, kind), partial(decode, kind), description, versions, ("constriction",), uses_models=True
    )


CODERS = [
    _coder(
        "ans",
        "constriction ANS: the transform's model where it gives one, else a static categorical model "
        "per plane in the stream (l3ic-style)",
    ),
    _coder(
        "range",
        "constriction range coder: the transform's model where it gives one, else a static "
        "categorical model per plane in the stream",
    ),
]
