"""Every transform × every entropy coder (pytest_codecbench/transform_coding.py), as codecs named
``<transform>+<coder>``: ``dct8+ans``, ``cdf97+jpegls``, … A file in ``codecs/transforms/``
(defining TRANSFORMS) adds a row of the matrix, a file in ``codecs/entropy_coders/`` (CODERS) a
column."""

from pathlib import Path

from pytest_codecbench import combine, import_adapter

HERE = Path(__file__).parent


def _load(folder: str, attribute: str) -> list:
    return [item for path in sorted((HERE / folder).glob("*.py")) for item in getattr(import_adapter(path), attribute)]


TRANSFORMS = _load("transforms", "TRANSFORMS")
CODERS = _load("entropy_coders", "CODERS")
CODECS = [combine(transform, coder) for transform in TRANSFORMS for coder in CODERS]
