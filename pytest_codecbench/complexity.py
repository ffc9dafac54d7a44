"""Encoder and decoder complexity of torch models, counted by fvcore: MACs, parameters, and what was not counted.

fvcore counts one multiply-add as one "flop", so its totals are MACs (multiply-accumulates);
they are reported as such. Only operators fvcore has a handle for are counted (convolutions,
matrix products, …); element-wise operators such as GDN's square, square root and product,
rounding, and the entropy models' arithmetic are not. Those are listed per part with how
often they ran, so nothing is silently left out.
"""

from __future__ import annotations

from importlib.metadata import version

from .torch_compat import import_quietly


def count(model, inputs: tuple, parts: dict[str, tuple[str, ...]], pixels: int) -> dict:
    """One traced forward pass of ``model(*inputs)``; per part (named submodules of ``model``):
    MACs, kMACs per pixel of the original image, parameters, and the operators not counted."""
    fvcore = import_quietly("fvcore.nn")
    FlopCountAnalysis, parameter_count = fvcore.FlopCountAnalysis, fvcore.parameter_count  # noqa: N806
    analysis = FlopCountAnalysis(model, inputs)
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
