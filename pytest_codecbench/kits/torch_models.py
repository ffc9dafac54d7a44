"""Helpers for codecs built on torch models: the session's device, tensors, and stage timing by module."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from time import perf_counter, process_time

import numpy as np

from ..measure.timing import record
from ..runtime import RUNTIME


def device() -> str:
    """Where torch models run in this session: ``--device`` (cpu by default)."""
    return RUNTIME.device


def synchronizer(on: str) -> Callable[[], None] | None:
    """What to call before reading a clock so that queued CUDA work is finished; None on CPU."""
    if not on.startswith("cuda"):
        return None
    import torch

    return torch.cuda.synchronize


def to_tensor(image: np.ndarray, on: str):
    """H×W×3 uint8 -> 1×3×H×W float32 in [0, 1] on ``on``."""
    import torch

    pixels = torch.from_numpy(np.array(image))  # a writable copy: sweep images are read-only
    return pixels.permute(2, 0, 1).unsqueeze(0).float().div(255).to(on)


def to_image(tensor) -> np.ndarray:
    """1×3×H×W in [0, 1] -> H×W×3 uint8, rounded to nearest."""
    return tensor.squeeze(0).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


@contextmanager
def split_stage(model, modules: tuple[str, ...], inside: str, rest: str, sync: Callable[[], None] | None = None):
    """Time a block as two stages: ``inside``, the time spent in the named submodules of
    ``model`` (measured with forward hooks), and ``rest``, everything else in the block.

    This splits e.g. ``model.compress()`` into the analysis transform and entropy coding
    without copying the model's own compress code.
    """
    spent = [0.0, 0.0]
    started = {}

    def before(module, args):
        if sync:
            sync()
        started[id(module)] = (perf_counter(), process_time())

    def after(module, args, output):
        if sync:
            sync()
        wall, cpu = started.pop(id(module))
        spent[0] += perf_counter() - wall
        spent[1] += process_time() - cpu

    hooked = [getattr(model, name) for name in modules]
    handles = [m.register_forward_pre_hook(before) for m in hooked] + [m.register_forward_hook(after) for m in hooked]
    if sync:
        sync()
    wall, cpu = perf_counter(), process_time()
    try:
        yield
    finally:
        if sync:
            sync()
        wall, cpu = perf_counter() - wall, process_time() - cpu
        for handle in handles:
            handle.remove()
        record(inside, spent[0], spent[1])
        record(rest, wall - spent[0], cpu - spent[1])
