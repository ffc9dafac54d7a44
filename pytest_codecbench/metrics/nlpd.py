"""NLPD, the normalised Laplacian pyramid distance (Laparra, Ballé, Berardino and Simoncelli,
"Perceptual image quality assessment using a normalized Laplacian pyramid", 2016), on Y' in [0, 1].

Written here because the maintained port (pyiqa's ``nlpd_arch``) cannot be a dependency: importing
any part of pyiqa imports all of it (transformers, timm, CLIP…). The steps are those of the authors'
MATLAB ``NLP_dist`` as pyiqa transcribes them: six levels of a Laplacian pyramid (5×5 binomial
filter, symmetric borders, zeros inserted to expand), each level divided by σ plus a 3×3 weighted
sum of its neighbours' magnitudes (the published filters and σ), the root mean square of the
difference per level, and the mean over levels. The reference's pyramid is kept per image.

tests/test_metric_references.py compares it with the MATLAB values pyiqa publishes
(ResultsCalibra); the MATLAB runs took ``rgb2gray`` of the images, whose uint8 result those
tests feed in.
"""

from __future__ import annotations

import numpy as np

from . import Column, Metric, MetricError
from .luma import luma
from .references import ReferenceCache

LEVELS = 6
_BINOMIAL = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
LOWPASS = np.outer(_BINOMIAL, _BINOMIAL)
SIGMAS = (0.0248, 0.0185, 0.0179, 0.0191, 0.0220, 0.2782)
NEIGHBOURS = (  # each level's weights of its four neighbours (up, left, right, down)
    ((0, 0.1011, 0), (0.1493, 0, 0.1460), (0, 0.1015, 0)),
    ((0, 0.0757, 0), (0.1986, 0, 0.1846), (0, 0.0837, 0)),
    ((0, 0.0477, 0), (0.2138, 0, 0.2243), (0, 0.0467, 0)),
    ((0, 0, 0), (0.2503, 0, 0.2616), (0, 0, 0)),
    ((0, 0, 0), (0.2598, 0, 0.2552), (0, 0, 0)),
    ((0, 0, 0), (0.2215, 0, 0.0717), (0, 0, 0)),
)
MIN_SIDE = 2 ** (LEVELS - 1)  # the top level keeps at least a pixel

_pyramids = ReferenceCache()


def _normalised(band: np.ndarray, level: int) -> np.ndarray:
    from scipy import ndimage

    # MATLAB's conv2 turns the filter by 180°; correlate does not
    weights = np.rot90(np.array(NEIGHBOURS[level]), 2)
    return band / (SIGMAS[level] + ndimage.correlate(np.abs(band), weights, mode="constant"))


def _expand(low: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A level's low-pass image brought back to ``shape``: its edge-replicated samples at the even
    positions of a zero image twice its size, times 4, filtered with zero borders, then cropped."""
    from scipy import ndimage

    padded = np.pad(low, 1, mode="edge")
    up = np.zeros((2 * padded.shape[0], 2 * padded.shape[1]))
    up[::2, ::2] = 4 * padded
    filtered = ndimage.correlate(up, LOWPASS, mode="constant")
    return filtered[2 : 2 + shape[0], 2 : 2 + shape[1]]


def pyramid(plane: np.ndarray) -> list[np.ndarray]:
    """The normalised Laplacian pyramid of an H×W float64 plane in [0, 1]."""
    from scipy import ndimage

    levels, image = [], plane
    for level in range(LEVELS - 1):
        low = ndimage.correlate(image, LOWPASS, mode="reflect")[::2, ::2]  # "reflect": MATLAB's 'symmetric'
        levels.append(_normalised(image - _expand(low, image.shape), level))
        image = low
    levels.append(_normalised(image, LEVELS - 1))
    return levels


def _nlpd(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    height, width = reference.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise MetricError(f"NLPD needs at least {MIN_SIDE} pixels per side; the image is {width}×{height}")
    ours = _pyramids.get(reference, lambda image: pyramid(luma(image)[..., 0] / 255))
    theirs = pyramid(luma(decoded)[..., 0] / 255)
    return {"nlpd": float(np.mean([np.sqrt(np.mean((a - b) ** 2)) for a, b in zip(ours, theirs, strict=True)]))}


METRICS = [
    Metric(
        "nlpd",
        {"nlpd": Column("NLPD (on Y', BT.709 full range; lower is better)", higher_is_better=False)},
        _nlpd,
        default=False,
        bytes_per_pixel=80,  # memory.Peak on 512², 1024², 2048² images: 32, 32, 56
    ),
]
