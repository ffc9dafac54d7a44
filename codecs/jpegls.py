"""JPEG-LS through pillow-jpls (CharLS): lossless and near-lossless (max error NEAR), on the RGB planes as
they are (pillow-jpls exposes no colour transform), and lossless after CharLS's HP1 colour transform."""

from dataclasses import replace
from importlib.metadata import version

import numpy as np

from pytest_codecbench import pillow_codec, stage


def versions():
    # pillow-jpls links CharLS statically and does not expose CharLS's own version.
    return {"pillow-jpls": version("pillow-jpls"), "CharLS": f"bundled with pillow-jpls {version('pillow-jpls')}"}


def _jpegls(name, qualities, quality_range, lossless, description):
    return pillow_codec(
        name,
        "JPEG-LS",
        lambda near: {"near_lossless": near},
        qualities=qualities,
        quality_label="near",
        quality_range=quality_range,
        integer=True,
        lossless=lossless,
        requires=("pillow_jpls",),
        versions=versions,
        description=description,
    )


def hp1(image: np.ndarray) -> np.ndarray:
    """CharLS's reversible HP1 transform (its transform_hp1): (R − G + 128, G, B − G + 128) mod 256."""
    red, green, blue = (image[:, :, c].astype(np.int16) for c in range(3))
    return np.stack([(red - green + 128) % 256, green, (blue - green + 128) % 256], axis=2).astype(np.uint8)


def inverse_hp1(planes: np.ndarray) -> np.ndarray:
    red, green, blue = (planes[:, :, c].astype(np.int16) for c in range(3))
    return np.stack([(red + green - 128) % 256, green, (blue + green - 128) % 256], axis=2).astype(np.uint8)


def _with_hp1(codec):
    """The codec on HP1 planes. CharLS would record the transform in its stream (APP8 "mrfx"), which
    pillow-jpls cannot ask for: here decode undoes it; the stream is the JPEG-LS of the planes."""

    def encode(image, quality):
        with stage("colour-transform"):
            planes = hp1(image)
        return codec.encode(planes, quality)

    def decode(data):
        planes = codec.decode(data)
        with stage("inverse-colour-transform"):
            return inverse_hp1(planes)

    return replace(codec, encode=encode, decode=decode)


CODECS = [
    _jpegls("jpegls", (0,), (0, 0), True, "CharLS lossless (NEAR=0), RGB planes, no colour transform"),
    _jpegls(
        "jpegls-nl", (1, 2, 3, 5, 8, 12, 16), (1, 255), False, "CharLS near-lossless, max abs error NEAR, RGB planes"
    ),
    _with_hp1(
        _jpegls(
            "jpegls-hp1",
            (0,),
            (0, 0),
            True,
            "CharLS lossless (NEAR=0) after CharLS's HP1 colour transform (R−G+128, G, B−G+128)",
        )
    ),
]
