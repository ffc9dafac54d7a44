"""Complexity of every torch-based codec: one item per (codec, quality, image).

The ``flops`` fixture counts the encoder's and decoder's multiply-adds and parameters
with fvcore on a model of that quality's architecture at the image's size; it needs no
pretrained weights, so these items run where the rate–distortion items skip for lack of
them. Operators fvcore does not count are recorded beside the counts.
"""


def test_flops(codec, quality, reference, flops):
    for part in ("encoder", "decoder"):
        assert flops["complexity"][f"{part}_macs"] > 0
        assert flops["complexity"][f"{part}_params"] > 0
