"""Build a Codec from a Pillow format and its save options: most adapters are a few lines."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

from ..codec import Codec, Quality
from ..measure.timing import stage


def pillow_codec(name: str, format: str, save_options: Callable[[Quality], dict], **contract) -> Codec:
    """A codec that saves with ``Image.save(format=format, **save_options(quality))``
    and decodes with ``Image.open``. ``contract`` holds the other Codec fields."""

    def encode(image: np.ndarray, quality: Quality) -> bytes:
        with stage("pack"):
            picture = Image.fromarray(image, "RGB")
        with stage("compress"):
            out = io.BytesIO()
            picture.save(out, format=format, **save_options(quality))
        return out.getvalue()

    def decode(data: bytes) -> np.ndarray:
        with stage("decompress"):
            picture = Image.open(io.BytesIO(data))
            picture.load()
        with stage("unpack"):
            return np.asarray(picture if picture.mode == "RGB" else picture.convert("RGB"))

    return Codec(name=name, encode=encode, decode=decode, family="pillow", **contract)
