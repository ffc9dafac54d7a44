"""The rate–distortion sweep: one item per (codec, quality, image).

The plugin parametrizes ``codec``, ``quality`` and ``image``; the ``measurement``
fixture times encode and decode with pytest-benchmark, computes bpp from the real
bitstream and the metrics, and records them all in the benchmark JSON. Lossless
codecs are checked bit-exact by the plugin.
"""

import math


def test_rd(codec, quality, reference, measurement):
    height, width = reference.shape[:2]
    assert measurement.bpp == 8 * len(measurement.bitstream) / (width * height)
    assert measurement.timings["encode"]["runs"] >= 1
    for name, value in measurement.metrics.items():
        assert value is None or math.isfinite(value), name
