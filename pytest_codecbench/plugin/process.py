"""Process-wide settings, all made here, and only in sessions that sweep codecbench items."""

from __future__ import annotations

import gc
import os

import pytest

from ..kits import command_line
from ..runtime import RUNTIME
from . import options


def under_xdist(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput") or config.getoption("dist", "no") != "no"


def time_limit(config: pytest.Config, limit: float, by_pytest_timeout: bool) -> pytest.MarkDecorator | None:
    """The pytest-timeout mark that sets the per-item limit (``options.parse_timeout``) on codecbench items.

    Under xdist an item past the limit ends its worker (pytest-timeout's thread method: native
    code that never returns to Python cannot be interrupted otherwise), xdist starts a new one
    and the sweep goes on; with -n 0 the item fails (signal method) once the codec is back in
    Python. A limit set through pytest-timeout is applied by it; the mark then only chooses the method.
    """
    method_given = config.getoption("timeout_method", None) or config.getini("timeout_method")
    method = "thread" if under_xdist(config) and not method_given else None
    if by_pytest_timeout:
        return pytest.mark.timeout(method=method) if method else None
    return pytest.mark.timeout(limit, method=method) if limit else None


def configure_session(config: pytest.Config) -> None:
    """In every process of the session, in ``pytest_configure`` before xdist's.

    ``--tool`` (and ``--ffmpeg``): command-line codecs' programs, through the environment, which
    xdist's workers inherit (see ``command_line``).
    """
    worker = hasattr(config, "workerinput")
    for tool, path in options.tools(config).items():
        os.environ[command_line.variable(tool)] = str(path)
    if not worker and getattr(config.option, "maxworkerrestart", "") is None and under_xdist(config):
        # A codec that crashes natively (or hangs) takes its worker with it, once per item;
        # xdist's default (4 restarts per worker) would end the sweep after a few such items.
        workers = config.getoption("numprocesses", None) or 1
        config.option.maxworkerrestart = str(max(100, 4 * workers))


def configure_worker(device: str, uses_torch: bool) -> None:
    """In every process that measures items, before its first one; torch only where a chosen codec or
    metric runs it (importing and setting it up takes seconds a Pillow sweep need not spend)."""
    RUNTIME.device = device
    import scipy.stats  # noqa: F401  (the timing's confidence intervals: imported now, not in the first item)

    if not uses_torch:
        return
    # One torch thread in every process: float32 reductions then add up in the same order
    # whatever -n is, so -n 0 and -n N give bit-identical metrics; xdist's workers use the cores.
    prepare_torch(threads=1, on=device)
    if device.startswith("cuda"):
        import torch

        # The same entropy parameters on the encoder's and the decoder's side of learned codecs.
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def prepare_torch(threads: int, on: str = "cpu") -> None:
    """Make torchvision importable on CPU-only torch, give torch its share of the cores, pick the device."""
    import torch

    from ..kits.torch_compat import import_torchvision

    RUNTIME.device = on
    import_torchvision()

    torch.set_num_threads(threads)
    # torch and torchvision leave ~300k long-lived objects; a full garbage collection then takes
    # ~0.15 s and runs every few items. Freezing them keeps it off the sweep's hot path.
    gc.freeze()
