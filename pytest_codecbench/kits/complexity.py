"""Encoder and decoder complexity of torch models, counted by fvcore: MACs, parameters, and what was not counted.

fvcore counts one multiply-add as one "flop", so its totals are MACs (multiply-accumulates);
they are reported as such. Only operators fvcore has a handle for are counted (convolutions,
matrix products, norms, …) and those added here, which fvcore skips or estimates: attention
(``aten::scaled_dot_product_attention``: Q·Kᵀ and the weights times V), the distances of a VQ
quantiser's codebook search (``aten::cdist``) and two-operand einsums (``aten::einsum``, exactly);
autograd Functions are opaque to it, so adapters run theirs inlined while counting (``functions_inlined``).
Element-wise operators such as GDN's square, square root and product, activations, rounding, softmax
and the entropy models' arithmetic are not counted; they are listed per part with how often they ran,
so nothing is silently left out.
"""

from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction
from functools import partial
from importlib.metadata import version
from math import prod
from types import SimpleNamespace

from .torch_compat import import_quietly


def attention_macs(inputs, outputs) -> int:
    """scaled_dot_product_attention(q, k, v): q (…, L, E), k (…, S, E), v (…, S, Ev): L·S·E
    multiply-adds for Q·Kᵀ and L·S·Ev for the weights times V, per batch and head (the softmax
    and the scaling are element-wise, not counted)."""
    from fvcore.nn.jit_handles import get_shape

    q, k, v = (get_shape(value) for value in inputs[:3])
    return prod(q[:-1]) * k[-2] * (q[-1] + v[-1])


def cdist_macs(inputs, outputs) -> int:
    """cdist(x1 (…, P, M), x2 (…, R, M)): one multiply-add per coordinate of each of the P·R
    pairs (the difference and its square; the square root is not counted)."""
    from fvcore.nn.jit_handles import get_shape

    x1, x2 = get_shape(inputs[0]), get_shape(inputs[1])
    return prod(x1[:-1]) * x2[-2] * x1[-1]


def einsum_macs(inputs, outputs) -> int:
    """A two-operand einsum: one multiply-add per combination of all its indices. fvcore counts only two
    equations exactly and estimates the others from numpy's einsum_path, whose FLOP count it parses from a
    text with four significant digits (LiVeAction's linear attention, ``bnc,bcv->bnv``)."""
    from fvcore.nn.jit_handles import einsum_flop_jit, get_shape

    equation = inputs[0].toIValue().replace(" ", "")
    operands = [get_shape(v) for v in inputs[1].node().inputs()]
    terms = equation.split("->")[0].split(",")
    if len(operands) != 2 or "." in equation:
        return einsum_flop_jit(inputs, outputs)
    sizes = {}
    for term, shape in zip(terms, operands, strict=True):
        sizes.update(zip(term, shape, strict=True))
    return prod(sizes.values())


HANDLES = {
    "aten::scaled_dot_product_attention": attention_macs,
    "aten::cdist": cdist_macs,
    "aten::einsum": einsum_macs,
}


@contextmanager
def functions_inlined(*functions):
    """Run these autograd Functions as their forward's plain operators, which fvcore counts: it sees a
    Function as one opaque ``prim::PythonOp`` (the wavelet filter banks of pytorch_wavelets and tft)."""
    context = SimpleNamespace(save_for_backward=lambda *tensors: None)  # what their forward writes is not read
    try:
        for function in functions:
            function.apply = partial(function.forward, context)  # shadows the inherited Function.apply
        yield
    finally:
        for function in functions:
            del function.apply


def count(model, inputs: tuple, parts: dict[str, tuple[str, ...]], pixels: int) -> dict:
    """One traced forward pass of ``model(*inputs)``; per part (named submodules of ``model``):
    MACs, kMACs per pixel of the original image, parameters, and the operators not counted."""
    fvcore = import_quietly("fvcore.nn")
    FlopCountAnalysis, parameter_count = fvcore.FlopCountAnalysis, fvcore.parameter_count  # noqa: N806
    analysis = FlopCountAnalysis(model, inputs).set_op_handle(**HANDLES)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    macs = analysis.by_module()
    params = parameter_count(model)
    counts, modules, not_counted = {}, {}, {}
    for part, names in parts.items():
        counts[f"{part}_macs"] = sum(macs[name] for name in names)
        counts[f"{part}_kmacs_per_pixel"] = counts[f"{part}_macs"] / pixels / 1e3
        counts[f"{part}_params"] = sum(params[name] for name in names)
        skipped: dict[str, int] = {}
        for name in names:
            modules[name] = macs[name]
            for op, times in analysis.unsupported_ops(name).items():
                skipped[op] = skipped.get(op, 0) + times
        not_counted[part] = dict(sorted(skipped.items()))
    return {
        "complexity": counts,
        "macs_by_module": modules,
        "not_counted": not_counted,
        "counter": f"fvcore {version('fvcore')} (1 multiply-add = 1 MAC)",
    }


def _solve(rows: list[list[Fraction]], values: list[Fraction]) -> list[Fraction]:
    """The exact solution of a square linear system (Gauss–Jordan in fractions)."""
    matrix = [[*row, value] for row, value in zip(rows, values, strict=True)]
    size = len(matrix)
    for column in range(size):
        pivot = next(r for r in range(column, size) if matrix[r][column] != 0)
        matrix[column], matrix[pivot] = matrix[pivot], matrix[column]
        matrix[column] = [v / matrix[column][column] for v in matrix[column]]
        for r in range(size):
            if r != column and matrix[r][column] != 0:
                factor = matrix[r][column]
                matrix[r] = [v - factor * p for v, p in zip(matrix[r], matrix[column], strict=True)]
    return [row[-1] for row in matrix]


def _terms(height: int, width: int) -> list[Fraction]:
    pixels = Fraction(height * width)
    return [pixels, pixels**2, Fraction(1), Fraction(height), Fraction(width)]


def count_at_size(
    model, make_input, parts: dict[str, tuple[str, ...]], height: int, width: int, unit: int, pixels: int
) -> dict:
    """``count(model, make_input(height, width), parts, pixels)`` without running the model at that size.

    ``height`` and ``width`` are multiples of ``unit``, the model's downsampling factor, so every
    feature map is the input divided by a fixed power of two in each direction and each counted
    operator's MACs are a·P (convolutions, linear layers, norms, the codebook search: per position)
    plus b·P² (attention: per pair of positions) plus c (layers on pooled vectors, as squeeze-and-
    excitation: per image) plus d·H + e·W (what padding adds along the borders, as the periodic
    extension of a wavelet filter bank), P = H·W the input's pixel count. fvcore's counts at five
    small sizes give a … e exactly (fractions), a sixth checks them, hence the count at this one:
    what fvcore says there, without its minute per 768×512 image (about 1 TMAC for a VQ autoencoder
    on the CPU). Operators run as often at every size, so the uncounted ones are those of the small runs.
    """
    if height % unit or width % unit:
        raise ValueError(f"{width}x{height} is not a multiple of the model's unit {unit}")
    small = [(2, 2), (2, 4), (4, 2), (4, 4), (2, 6), (6, 4)]  # in units; the last one checks the fit
    small = [(unit * h, unit * w) for h, w in small]
    runs = [count(model, make_input(h, w), parts, pixels) for h, w in small]
    rows = [_terms(h, w) for h, w in small]

    def scaled(*values: float) -> int:
        values = [Fraction(v) for v in values]  # some of fvcore's handles count in floats (whole numbers)
        coefficients = _solve(rows[:5], values[:5])
        check = sum(c * t for c, t in zip(coefficients, rows[5], strict=True))
        value = sum(c * t for c, t in zip(coefficients, _terms(height, width), strict=True))
        if check != values[5] or value.denominator != 1:
            raise ValueError(f"MACs {[int(v) for v in values]} at {small} are not a·P + b·P² + c + d·H + e·W")
        return int(value)

    first = runs[0]
    counts = dict(first["complexity"])
    for part in parts:
        counts[f"{part}_macs"] = scaled(*(run["complexity"][f"{part}_macs"] for run in runs))
        counts[f"{part}_kmacs_per_pixel"] = counts[f"{part}_macs"] / pixels / 1e3
    modules = {name: scaled(*(run["macs_by_module"][name] for run in runs)) for name in first["macs_by_module"]}
    return {**first, "complexity": counts, "macs_by_module": modules}
