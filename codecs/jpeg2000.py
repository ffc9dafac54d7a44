"""JPEG 2000 through Pillow's OpenJPEG: lossy 9/7 wavelet by compression ratio, and lossless 5/3."""

import PIL
from PIL import features

from pytest_codecbench import pillow_codec


def versions():
    return {"Pillow": PIL.__version__, "OpenJPEG": features.version("jpg_2000")}


CODECS = [
    pillow_codec(
        "jpeg2000",
        "JPEG2000",
        # A raw codestream (no JP2 box), the ICT colour transform (Pillow's default is
        # none), one quality layer at compression ratio r, i.e. about 24/r bpp.
        lambda ratio: {
            "no_jp2": True,
            "mct": 1,
            "irreversible": True,
            "quality_mode": "rates",
            "quality_layers": [ratio],
        },
        qualities=(200, 100, 64, 40, 24, 16, 10, 6),
        quality_label="r",
        quality_range=(1, 10000),
        versions=versions,
        description="OpenJPEG, irreversible 9/7 with ICT, quality = compression ratio",
    ),
    pillow_codec(
        "jpeg2000-lossless",
        "JPEG2000",
        lambda levels: {"no_jp2": True, "mct": 1, "irreversible": False, "num_resolutions": levels},
        qualities=(6,),
        quality_label="res",
        quality_range=(1, 32),
        integer=True,
        lossless=True,
        versions=versions,
        description="OpenJPEG, reversible 5/3 with RCT; the knob is the number of resolutions",
    ),
]
