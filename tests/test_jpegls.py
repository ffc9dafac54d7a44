"""JPEG-LS on RGB planes and after CharLS's HP1 colour transform."""

import io

import numpy as np
import pillow_jpls  # noqa: F401  (registers the JPEG-LS format with Pillow)
from PIL import Image

from conftest import REPO, embedded_photo
from pytest_codecbench.codec import load_codecs


def test_hp1_is_charls_transform_and_exactly_reversible():
    codecs = load_codecs([REPO / "codecs"])
    module = codecs["jpegls-hp1"].encode.__globals__
    every = np.stack(np.meshgrid(np.arange(256), np.arange(256), [0, 1, 127, 128, 255], indexing="ij"), -1)
    every = every.reshape(-1, 1, 3).astype(np.uint8)  # every (R, G) pair with some B
    planes = module["hp1"](every)
    r, g, b = (every[:, :, c].astype(int) for c in range(3))
    assert np.array_equal(planes[:, :, 0], (r - g + 128) % 256) and np.array_equal(planes[:, :, 2], (b - g + 128) % 256)
    assert np.array_equal(module["inverse_hp1"](planes), every)


def test_the_colour_transform_saves_bits_and_stays_lossless():
    codecs = load_codecs([REPO / "codecs"])
    image = embedded_photo("astronaut")
    sizes = {}
    for name in ("jpegls", "jpegls-hp1"):
        data = codecs[name].encode(image, 0)
        assert np.array_equal(codecs[name].decode(data), image)
        sizes[name] = len(data)
    plain = io.BytesIO()
    Image.fromarray(image).save(plain, format="JPEG-LS")
    assert sizes["jpegls"] == len(plain.getvalue())  # the RGB row is pillow-jpls as it is
    assert sizes["jpegls-hp1"] < 0.95 * sizes["jpegls"]  # 9 % smaller here, 26 % on Kodak
