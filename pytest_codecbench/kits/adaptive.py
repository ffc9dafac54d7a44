"""Symbols coded with an adaptive categorical model: nothing but the symbols' own code in the stream.

A static model needs its table in the stream, which costs more than it saves when there are
fewer symbols than the alphabet has letters (a VQ codebook of 16,384 entries, a few thousand
tokens). Here both sides start from a Dirichlet prior (α per letter, Laplace's rule for α = 1)
and count the symbols they have coded: the model is rebuilt from the counts every BLOCK symbols
and codes the next block (constriction's range coder, the model as one categorical table), so
the rate approaches the symbols' empirical entropy without any table. The encoder tries α = 2^e
for e in EXPONENTS on the exact code length and writes the best e in the stream's first byte; a
large α is the uniform model, so the stream is never much longer than log2(alphabet) bits per
symbol. constriction has no adaptive model of its own; this block-wise rebuild is written here.
"""

from __future__ import annotations

import numpy as np

BLOCK = 64
EXPONENTS = range(-8, 9)
MAX_ALPHABET = 1 << 24  # a count per letter is kept: 128 MiB of them


def _counts_before(symbols: np.ndarray, alphabet: int) -> np.ndarray:
    """For each symbol, how often its value occurred in the blocks before its own."""
    counts, before = np.zeros(alphabet, dtype=np.int64), np.empty(symbols.size, dtype=np.int64)
    for start in range(0, symbols.size, BLOCK):
        block = symbols[start : start + BLOCK]
        before[start : start + BLOCK] = counts[block]
        counts += np.bincount(block, minlength=alphabet)
    return before


def best_exponent(symbols: np.ndarray, alphabet: int) -> int:
    """The e in EXPONENTS for which the model with α = 2^e spends the fewest bits on ``symbols``
    (before the coder's own rounding)."""
    before = _counts_before(symbols, alphabet)
    seen = np.arange(symbols.size) // BLOCK * BLOCK  # symbols counted when the symbol's block is coded
    bits = [-np.sum(np.log2((before + 2.0**e) / (seen + 2.0**e * alphabet))) for e in EXPONENTS]
    return EXPONENTS[int(np.argmin(bits))]


def _models(alphabet: int, alpha: float):
    """The model for each block in turn; send() the block's symbols to get the next one."""
    import constriction

    counts = np.full(alphabet, alpha)
    while True:
        block = yield constriction.stream.model.Categorical(counts, perfect=False)
        counts += np.bincount(block, minlength=alphabet)


def encode(symbols: np.ndarray, alphabet: int) -> bytes:
    """``symbols``: integers in [0, alphabet), any shape (coded in C order)."""
    import constriction

    if alphabet > MAX_ALPHABET:
        raise ValueError(f"an alphabet of {alphabet} letters is over the adaptive model's {MAX_ALPHABET}")
    symbols = np.ascontiguousarray(symbols, dtype=np.int32).ravel()
    if symbols.size and not 0 <= symbols.min() <= symbols.max() < alphabet:
        raise ValueError(f"symbols span {symbols.min()}..{symbols.max()}, outside the alphabet 0..{alphabet - 1}")
    if alphabet == 1:  # nothing to code: every symbol is 0
        return b""
    exponent = best_exponent(symbols, alphabet)
    coder, models = constriction.stream.queue.RangeEncoder(), _models(alphabet, 2.0**exponent)
    model = next(models)
    for start in range(0, symbols.size, BLOCK):
        block = symbols[start : start + BLOCK]
        coder.encode(block, model)
        model = models.send(block)
    return np.int8(exponent).tobytes() + coder.get_compressed().astype("<u4").tobytes()


def decode(data: bytes, count: int, alphabet: int) -> np.ndarray:
    """The ``count`` symbols of ``encode``'s bytes, as a flat int32 array."""
    import constriction

    if alphabet == 1:
        return np.zeros(count, dtype=np.int32)
    exponent = int(np.frombuffer(data[:1], dtype=np.int8)[0])
    coder = constriction.stream.queue.RangeDecoder(np.frombuffer(data[1:], dtype="<u4").astype(np.uint32))
    models, out = _models(alphabet, 2.0**exponent), np.empty(count, dtype=np.int32)
    model = next(models)
    for start in range(0, count, BLOCK):
        block = coder.decode(model, min(BLOCK, count - start))
        out[start : start + block.size] = block
        model = models.send(block)
    return out
