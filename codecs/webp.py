"""WebP through Pillow's libwebp: lossy (quality) and lossless (effort)."""

import PIL
from PIL import features

from pytest_codecbench import pillow_codec


def versions():
    return {"Pillow": PIL.__version__, "libwebp": features.version("webp")}


CODECS = [
    pillow_codec(
        "webp",
        "WEBP",
        lambda q: {"quality": q, "method": 4},
        qualities=(5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95),
        quality_range=(0, 100),
        versions=versions,
        description="libwebp lossy, method 4",
    ),
    pillow_codec(
        "webp-lossless",
        "WEBP",
        lambda effort: {"lossless": True, "quality": effort, "method": 4, "exact": True},
        qualities=(80,),
        quality_label="e",
        quality_range=(0, 100),
        lossless=True,
        versions=versions,
        description="libwebp lossless; the knob is effort",
    ),
]
