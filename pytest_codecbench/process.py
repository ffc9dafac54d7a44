"""Process-wide settings, all made here, and only in sessions that sweep codecbench items."""

from __future__ import annotations

import gc
import os

import pytest

from . import metrics


def configure_session(config: pytest.Config, timeout: float) -> None:
    """In every process of the session, in ``pytest_configure`` before xdist's and pytest-timeout's.

    ``timeout``: the per-item limit (seconds, 0 for none) unless ``--timeout``, $PYTEST_TIMEOUT
    or the ``timeout`` ini of pytest-timeout says otherwise. Under xdist an item past it ends
    its worker (pytest-timeout's thread method: native code that never returns to Python
    cannot be interrupted otherwise), xdist starts a new one and the sweep goes on; with -n 0
    it fails the item (signal method) once the codec is back in Python.
    """
    worker = hasattr(config, "workerinput")
    user_timeout = config.getoption("timeout", None) is not None or os.environ.get("PYTEST_TIMEOUT")
    if not user_timeout and not config.getini("timeout"):
        config.option.timeout = timeout
    under_xdist = worker or config.getoption("dist", "no") != "no"
    if under_xdist and config.getoption("timeout_method", None) is None and not config.getini("timeout_method"):
        config.option.timeout_method = "thread"
    if not worker and getattr(config.option, "maxworkerrestart", "") is None and under_xdist:
        # A codec that crashes natively (or hangs) takes its worker with it, once per item;
        # xdist's default (4 restarts per worker) would end the sweep after a few such items.
        workers = config.getoption("numprocesses", None) or 1
        config.option.maxworkerrestart = str(max(100, 4 * workers))


def configure_worker(device: str) -> None:
    """In every process that measures items, before its first one."""
    os.environ.setdefault("SVT_LOG", "1")  # the SVT-AV1 encoder prints a banner per encode otherwise
    # One torch thread in every process: float32 reductions then add up in the same order
    # whatever -n is, so -n 0 and -n N give bit-identical metrics; xdist's workers use the cores.
    prepare_torch(threads=1, on=device)
    if device.startswith("cuda"):
        import torch

        # The same entropy parameters on the encoder's and the decoder's side of learned codecs.
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def prepare_torch(threads: int, on: str = "cpu") -> None:
    """Make piq importable on CPU-only torch, give torch its share of the cores, pick the device."""
    import torch

    from .torch_compat import import_torchvision

    metrics.device = on
    import_torchvision()
    import piq  # noqa: F401

    torch.set_num_threads(threads)
    # torch and piq leave ~300k long-lived objects; a full garbage collection then takes
    # ~0.15 s and runs every few items. Freezing them keeps it off the sweep's hot path.
    gc.freeze()
