"""Encoder and decoder complexity of torch models, counted by fvcore: MACs, parameters, and what was not counted.

fvcore counts one multiply-add as one "flop", so its totals are MACs (multiply-accumulates);
they are reported as such. Only operators fvcore has a handle for are counted (convolutions,
matrix products, norms, …) and the two added here, which fvcore skips by default: attention
(``aten::scaled_dot_product_attention``: Q·Kᵀ and the weights times V) and the distances of a
VQ quantiser's codebook search (``aten::cdist``). Element-wise operators such as GDN's square,
square root and product, activations, rounding, softmax and the entropy models' arithmetic are
not counted; they are listed per part with how often they ran, so nothing is silently left out.
"""

from __future__ import annotations

from fractions import Fraction
from importlib.metadata import version
from math import prod

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


HANDLES = {"aten::scaled_dot_product_attention": attention_macs, "aten::cdist": cdist_macs}


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


def count_at_size(
    model, make_input, parts: dict[str, tuple[str, ...]], height: int, width: int, unit: int, pixels: int
) -> dict:
    """``count(model, make_input(height, width), parts, pixels)`` without running the model at that size.

    ``height`` and ``width`` are multiples of ``unit``, the model's downsampling factor, so every
    feature map is the input divided by a fixed power of two in each direction and each counted
    operator's MACs are a·P (convolutions, linear layers, norms, the codebook search: per position)
    plus b·P² (attention: per pair of positions), P the input's pixel count. fvcore's counts at two
    small sizes give a and b exactly (fractions), hence the count at this one: what fvcore says
    there, without its minute per 768×512 image (about 1 TMAC for a VQ autoencoder on the CPU).
    Operators run as often at every size, so the uncounted ones are those of the small runs.
    """
    if height % unit or width % unit:
        raise ValueError(f"{width}x{height} is not a multiple of the model's unit {unit}")
    small = [(2 * unit, 2 * unit), (2 * unit, 4 * unit)]
    runs = [count(model, make_input(h, w), parts, pixels) for h, w in small]
    p1, p2 = (Fraction(h * w) for h, w in small)
    target = Fraction(height * width)

    def scaled(v1: int, v2: int) -> int:
        b = (v2 / p2 - v1 / p1) / (p2 - p1)
        a = v1 / p1 - b * p1
        value = a * target + b * target**2
        if value.denominator != 1:
            raise ValueError(f"MACs {v1}, {v2} at {small} are not a·P + b·P²")
        return int(value)

    first, second = runs
    counts = dict(first["complexity"])
    for part in parts:
        counts[f"{part}_macs"] = scaled(first["complexity"][f"{part}_macs"], second["complexity"][f"{part}_macs"])
        counts[f"{part}_kmacs_per_pixel"] = counts[f"{part}_macs"] / pixels / 1e3
    modules = {name: scaled(macs, second["macs_by_module"][name]) for name, macs in first["macs_by_module"].items()}
    return {**first, "complexity": counts, "macs_by_module": modules}
