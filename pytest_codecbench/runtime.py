"""The settings every process of a session runs with, in one object set once per process
(``plugin.process.configure_worker``) before its first item; models and metrics read it here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Runtime:
    device: str = "cpu"  # --device: where torch models (learned codecs and metrics) run


RUNTIME = Runtime()
