"""Complexity of every torch-based codec: one item per (codec, quality, image).

The ``macs`` fixture counts the encoder's and decoder's multiply-accumulates (MACs) and
parameters with fvcore on a model of that quality's architecture at the image's size; it
needs no pretrained weights, so these items run where the rate–distortion items skip for
lack of them. Operators fvcore does not count are recorded beside the counts.
"""


def test_macs(codec, quality, reference, macs):
    for part in ("encoder", "decoder"):
        assert macs["complexity"][f"{part}_macs"] > 0
        assert macs["complexity"][f"{part}_params"] > 0
