"""JPEG through Pillow's libjpeg-turbo: 4:2:0 and 4:4:4 chroma, standard Huffman tables."""

import PIL
from PIL import features

from pytest_codecbench import pillow_codec

QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


def versions():
    return {"Pillow": PIL.__version__, "libjpeg-turbo": features.version("libjpeg_turbo")}


CODECS = [
    pillow_codec(
        name,
        "JPEG",
        lambda q, subsampling=subsampling: {"quality": q, "subsampling": subsampling},
        qualities=QUALITIES,
        quality_range=(0, 100),
        integer=True,
        versions=versions,
        description=f"libjpeg-turbo baseline, {chroma}",
    )
    for name, subsampling, chroma in (("jpeg", 2, "4:2:0"), ("jpeg444", 0, "4:4:4"))
]
