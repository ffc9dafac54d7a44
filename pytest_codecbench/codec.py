"""The codec contract, and how codecs are found: adapter files and entry points."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points, packages_distributions, version
from pathlib import Path
from types import ModuleType

import numpy as np

from .kits.torch_compat import import_quietly
from .kits.weights import Checkpoint

Quality = int | float | str
ENTRY_POINT_GROUP = "codecbench.codecs"


class CodecError(Exception):
    """A codec cannot be registered or selected as asked; the message says why."""


def no_weights(quality: Quality) -> tuple[Checkpoint, ...]:
    return ()


@dataclass(frozen=True)
class Codec:
    """One codec configuration: what a test id names, e.g. ``jpeg-q75``.

    ``encode(image, quality) -> bytes`` takes an H×W×3 uint8 RGB array and returns
    the complete bitstream; ``decode(bytes) -> array`` must reconstruct the image
    from those bytes alone. Either may time named sub-stages with
    ``pytest_codecbench.stage("name")``. The image is read-only and must stay as it is (an
    item whose codec wrote into it fails), and every run must give the same bitstream and image
    (unless ``deterministic=False``).

    Learned codecs may also declare the pretrained ``weights`` a quality needs (fetched
    and checked before its items run; its items skip, naming the file, when unavailable),
    a ``complexity(quality, height, width)`` count (see ``complexity.count``; it must not
    need the weights), and an ``estimate(image, quality)`` of labelled side values such as
    the bpp predicted by the entropy model, computed once per item outside the timed runs.
    """

    name: str
    encode: Callable[[np.ndarray, Quality], bytes]
    decode: Callable[[bytes], np.ndarray]
    qualities: tuple[Quality, ...]  # the default grid of the codec's native rate knob
    quality_label: str = "q"  # prefix of the quality in test ids: q75, r20, near2
    quality_range: tuple[float, float] | None = None  # valid numeric knob values, inclusive
    integer: bool = False  # the knob takes integers only (a JPEG quality), not any number in the range
    lossless: bool = False  # decode(encode(x)) must equal x bit for bit
    # every run gives the same bitstream and image; False for codecs that vary by design (their
    # items then record the spread of bpp over the runs instead of failing)
    deterministic: bool = True
    # one untimed run first, for first-call costs (loading a model); False where every run starts
    # afresh (a command-line program) and a run takes minutes (VTM)
    warm_up: bool = True
    requires: tuple[str, ...] = ()  # modules imported before use; a missing one skips the items
    unavailable: Callable[[], str | None] | None = None  # why it cannot run here (a missing tool), or None
    versions: Callable[[], dict[str, str]] = dict  # library versions, called after the imports
    weights: Callable[[Quality], tuple[Checkpoint, ...]] = no_weights
    complexity: Callable[[Quality, int, int], dict] | None = None
    estimate: Callable[[np.ndarray, Quality], dict[str, float]] | None = None
    family: str = ""  # a pytest mark, e.g. "pillow"
    baseline: str = ""  # a transform × coder codec's reference: its transform with the default coder
    description: str = ""
    source: str = field(default="", compare=False)  # where it was registered

    def item_id(self, quality: Quality) -> str:
        return f"{self.name}-{self.quality_label}{quality}"

    def parse_quality(self, text: str) -> Quality:
        """Turn an option value into a quality this codec accepts, or raise CodecError."""
        value: Quality = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        numeric = not isinstance(value, str) and (isinstance(value, int) or not self.integer)
        in_range = (
            numeric and self.quality_range is not None and self.quality_range[0] <= value <= self.quality_range[1]
        )
        if value in self.qualities or in_range:
            return value
        valid = ", ".join(str(q) for q in self.qualities)
        if self.quality_range is not None:
            kind = "integer" if self.integer else "number"
            valid += f" (or any {kind} from {self.quality_range[0]} to {self.quality_range[1]})"
        raise CodecError(f"codec {self.name!r} has no quality {text!r}; valid: {valid}")

    def missing_requirement(self) -> str | None:
        """Import the modules the codec needs; say which one is missing, if any."""
        for module in self.requires:
            try:
                import_quietly(module)  # torchvision: see torch_compat
            except (ImportError, RuntimeError) as error:
                return f"codec {self.name!r} needs the module {module!r}, which does not import: {error}"
        why = self.unavailable() if self.unavailable else None
        return f"codec {self.name!r} cannot run here: {why}" if why else None


@cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


def module_versions(modules: Iterable[str]) -> dict[str, str]:
    """The version of the installed distribution of each module's top-level package (pywt -> PyWavelets)."""
    return {dist: version(dist) for module in modules for dist in _distributions().get(module.split(".")[0], [])}


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")  # what test ids, -k, globs and file names take


def _load_entry_point(point):
    try:
        return point.load()
    except Exception as error:
        raise CodecError(
            f"cannot load codec entry point {point.name} ({point.value}): {type(error).__name__}: {error}"
        ) from error


def _codecs_of(obj, source: str) -> list[Codec]:
    if isinstance(obj, ModuleType):
        if not hasattr(obj, "CODECS"):
            raise CodecError(f"codec adapter {source} defines no CODECS list")
        obj = obj.CODECS
    elif callable(obj):
        try:
            obj = obj()
        except Exception as error:
            why = f"{type(error).__name__}: {error}"
            raise CodecError(f"codec adapter {source} failed to list its codecs: {why}") from error
    codecs = list(obj)
    for codec in codecs:
        if not isinstance(codec, Codec):
            raise CodecError(f"codec adapter {source} registered {codec!r}, which is not a pytest_codecbench.Codec")
    return codecs


def import_adapter(path: Path) -> ModuleType:
    """A Python file loaded by path (adapters, and the transform and coder files of codecs/matrix.py),
    executed once per process and version of the file, as ``import`` does, so that the matrix and an
    adapter that share a file share its state (a loaded model)."""
    # codecs/ cannot be a package named "codecs" (a stdlib module), so its files are
    # loaded by path, as pytest loads conftest.py, under a name unique to the path.
    name = f"codecbench_adapters.{path.stem}_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"
    stat = path.stat()
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__codecbench_file__", None) == (stat.st_size, stat.st_mtime_ns):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__codecbench_file__ = (stat.st_size, stat.st_mtime_ns)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise CodecError(f"cannot load codec adapter {path}: {type(error).__name__}: {error}") from error
    return module


def load_codecs(adapter_dirs: Iterable[Path], unavailable: dict[str, str] | None = None) -> dict[str, Codec]:
    """All codecs: from ``*.py`` files in the adapter folders, then from entry points.

    An adapter that cannot be loaded (e.g. it imports a library that is not installed) raises
    CodecError, or, given an ``unavailable`` dict, is put there (adapter -> why) and the
    others are loaded. Duplicate and malformed codec names always raise.
    """
    found: list[tuple[Codec, str]] = []

    def add(source: str, load: Callable[[], object]) -> None:
        try:
            found.extend((c, source) for c in _codecs_of(load(), source))
        except CodecError as error:
            if unavailable is None:
                raise
            unavailable[source] = str(error)

    for folder in adapter_dirs:
        if not folder.is_dir():
            raise CodecError(f"codec adapter folder {folder} does not exist")
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                add(str(path), lambda path=path: import_adapter(path))
    for point in entry_points(group=ENTRY_POINT_GROUP):
        add(f"entry point {point.name} ({point.value})", lambda point=point: _load_entry_point(point))

    codecs: dict[str, Codec] = {}
    for codec, source in found:
        if not isinstance(codec.name, str) or not NAME.fullmatch(codec.name):
            raise CodecError(
                f"codec adapter {source} names a codec {codec.name!r}: a name is letters, digits and . _ + - "
                "(not starting with a symbol), as test ids, -k and file names need"
            )
        if codec.name in codecs:
            raise CodecError(
                f"codec {codec.name!r} is registered twice: by {codecs[codec.name].source} and by {source}"
            )
        codecs[codec.name] = Codec(**{**codec.__dict__, "source": source})
    return codecs
