"""CompressAI's rANS coder (compressai.ans, what its zoo codes with), on the planes of any transform.

A group of planes (pytest_codecbench/transform_coding.py) is coded in at most two rANS strings,
each preceded by its length (a varint, as every number in the stream):
- planes with a transform's ``Gaussian``: CompressAI's own ``GaussianConditional`` with the zoo's
  scale table (64 scales from 0.11 to 256), so the indexes and tables are the zoo's own and
  symbols beyond a table's tails are escaped as CompressAI does;
- the others, each with one quantised CDF table (compressai's ``pmf_to_quantized_cdf``, 16 bits):
  from the transform's ``Categorical`` on the range of the group's categorical planes (smallest
  and largest symbol, in the stream), or, without a model, from the plane's counts,
  sent as for ANS (a plane holding one value costs its table alone).
"""

from functools import cache
from importlib.metadata import version

import numpy as np

from pytest_codecbench import (
    Categorical,
    EntropyCoder,
    Gaussian,
    import_torchvision,
    model_groups,
    pack_table,
    read_varints,
    unpack_table,
    unzigzag,
    varints,
    zigzag,
)

MAX_TABLE = (1 << 16) - 2


@cache
def _gaussian():
    import_torchvision()  # compressai imports torchvision; see pytest_codecbench.kits.torch_compat
    from compressai.entropy_models import GaussianConditional
    from compressai.models.google import get_scale_table

    conditional = GaussianConditional(None)
    conditional.update_scale_table(get_scale_table())
    return conditional


def _cdf(pmf: np.ndarray) -> list[int]:
    import torch
    from compressai.entropy_models.entropy_models import pmf_to_quantized_cdf

    if pmf.size > MAX_TABLE:
        raise ValueError(
            f"CompressAI's rANS tables hold at most {MAX_TABLE} symbols (16-bit frequencies, and its "
            f"escape); a plane spans {pmf.size} values"
        )

    probabilities = torch.from_numpy(np.append(pmf / pmf.sum(), 1e-9))  # the last entry: CompressAI's escape
    return pmf_to_quantized_cdf(probabilities, 16).tolist()


def _string(data: bytes) -> bytes:
    return varints([len(data)]) + data


def _read_string(view: memoryview, offset: int) -> tuple[bytes, int]:
    (length,), start = read_varints(view, offset, 1)
    return bytes(view[start : start + length]), start + length


def encode(planes: list[np.ndarray], models=None) -> bytes:
    import torch
    from compressai.ans import RansEncoder

    out = bytearray()
    for first, group in model_groups(models, planes, len(planes)):
        pairs = list(zip(planes[first : first + len(group)], group, strict=True))
        categorical = [p for p, m in pairs if isinstance(m, Categorical) and p.size]
        if categorical:
            low, high = min(int(p.min()) for p in categorical), max(int(p.max()) for p in categorical)
            out += varints([zigzag(low), zigzag(high)])
        symbols, indexes, cdfs, offsets = [], [], [], []
        for plane, model in pairs:
            if model is None:
                table, start, counts = pack_table(plane)
                out += table
                pmf = counts if np.count_nonzero(counts) > 1 else None
            elif isinstance(model, Categorical) and plane.size and low < high:
                start, pmf = low, model.pmf(low, high)
            else:
                continue
            if pmf is not None:
                indexes += [len(cdfs)] * plane.size
                symbols += plane.ravel().tolist()
                cdfs.append(_cdf(pmf.astype(np.float64)))
                offsets.append(start)
        if symbols:
            lengths = [len(cdf) for cdf in cdfs]
            out += _string(RansEncoder().encode_with_indexes(symbols, indexes, cdfs, lengths, offsets))
        gaussian = [(p, m) for p, m in pairs if isinstance(m, Gaussian) and p.size]
        if gaussian:
            conditional = _gaussian()
            values = torch.from_numpy(np.concatenate([p.ravel() for p, _ in gaussian]).astype(np.float32))[None]
            scales = torch.from_numpy(np.concatenate([m.scales.ravel() for _, m in gaussian]).astype(np.float32))
            (string,) = conditional.compress(values, conditional.build_indexes(scales[None]))
            out += _string(string)
    return bytes(out)


def decode(data: bytes, shapes: list[tuple[int, ...]], models=None) -> list[np.ndarray]:
    import torch
    from compressai.ans import RansDecoder

    view, offset, planes = memoryview(data), 0, []
    for first, group in model_groups(models, planes, len(shapes)):
        pairs = list(zip(shapes[first : first + len(group)], group, strict=True))
        decoded = [np.zeros(shape, dtype=np.int32) for shape, _ in pairs]  # stays so for empty planes
        if any(isinstance(m, Categorical) and int(np.prod(shape)) for shape, m in pairs):
            (low, high), offset = read_varints(view, offset, 2)
            low, high = unzigzag(low), unzigzag(high)
        indexes, cdfs, offsets, tabled = [], [], [], []
        for i, (shape, model) in enumerate(pairs):
            size = int(np.prod(shape))
            if model is None:
                start, counts, offset = unpack_table(view, offset)
                if np.count_nonzero(counts) <= 1:
                    decoded[i] = np.full(shape, start + (int(np.argmax(counts)) if counts.size else 0), np.int32)
                    continue
                pmf = counts
            elif isinstance(model, Categorical) and size:
                if low == high:
                    decoded[i] = np.full(shape, low, dtype=np.int32)
                    continue
                start, pmf = low, model.pmf(low, high)
            else:
                continue
            indexes += [len(cdfs)] * size
            cdfs.append(_cdf(pmf.astype(np.float64)))
            offsets.append(start)
            tabled.append(i)
        if tabled:
            string, offset = _read_string(view, offset)
            lengths = [len(cdf) for cdf in cdfs]
            values = np.array(RansDecoder().decode_with_indexes(string, indexes, cdfs, lengths, offsets), np.int32)
            for i in tabled:
                size = int(np.prod(pairs[i][0]))
                decoded[i], values = values[:size].reshape(pairs[i][0]), values[size:]
        gaussian = [i for i, (shape, m) in enumerate(pairs) if isinstance(m, Gaussian) and int(np.prod(shape))]
        if gaussian:
            string, offset = _read_string(view, offset)
            conditional = _gaussian()
            scales = torch.from_numpy(np.concatenate([pairs[i][1].scales.ravel() for i in gaussian]).astype(np.float32))
            values = conditional.decompress([string], conditional.build_indexes(scales[None]))[0]
            values = values.round().int().numpy()
            for i in gaussian:
                size = int(np.prod(pairs[i][0]))
                decoded[i], values = values[:size].reshape(pairs[i][0]), values[size:]
        planes.extend(decoded)
    return planes


CODERS = [
    EntropyCoder(
        "compressai-rans",
        encode,
        decode,
        "CompressAI's rANS: the zoo's Gaussian conditional tables, a CDF per plane from the transform's categorical "
        "model or from counts in the stream",
        lambda: {"compressai": version("compressai")},
        ("torchvision", "compressai"),
        uses_models=True,
    )
]
