"""Lossless reference formats through Pillow: PNG (zlib) and TIFF with Adobe Deflate (libtiff)."""

import PIL
from PIL import features

from pytest_codecbench import pillow_codec


def versions():
    return {"Pillow": PIL.__version__, "zlib": features.version("zlib"), "libtiff": features.version("libtiff")}


CODECS = [
    pillow_codec(
        "png",
        "PNG",
        lambda level: {"compress_level": level},
        qualities=(6,),
        quality_label="z",
        quality_range=(0, 9),
        integer=True,
        lossless=True,
        versions=versions,
        description="PNG, zlib level (Pillow's adaptive filtering)",
    ),
    pillow_codec(
        "tiff",
        "TIFF",
        lambda compression: {"compression": "tiff_adobe_deflate"},
        qualities=("deflate",),
        quality_label="",
        lossless=True,
        versions=versions,
        description="TIFF, Adobe Deflate, no predictor",
    ),
]
