"""SSIM and MS-SSIM with piq's definitions, faster, and with the reference's statistics reused.

piq (``piq.ssim``, ``piq.multi_scale_ssim``) filters five images (x, y, x², y², xy) with a
2-D 11×11 Gaussian per call. The same values come from a separable filter (11 + 11 taps
instead of 121), and the reference's share (x, its local mean and variance, at every scale)
does not change across an image's codecs and qualities, so it is computed once per image,
in float64. Per item, float32 filters the coding error d = y − x rather than y: σy² = σx² +
2σxd + σd² and σxy = σx² + σxd. The cancellation in E[y²] − μy², which costs piq's float32
path up to 2e-5 on flat, dark areas, then shrinks with d: values stay within 1e-6 of piq's
definition evaluated in float64 (tests/test_ssim.py). Written here because no maintained
package offers SSIM with the reference side reusable.
"""

from __future__ import annotations

import numpy as np

from .references import ReferenceCache

KERNEL_SIZE, SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03  # piq's defaults
MS_SSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])  # Wang et al. 2003
MS_SSIM_MIN_SIDE = (KERNEL_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1  # 161


def _gaussian() -> np.ndarray:
    # piq's 2-D kernel is the normalised outer product of this one with itself
    coords = np.arange(KERNEL_SIZE, dtype=np.float64) - (KERNEL_SIZE - 1) / 2
    g = np.exp(-(coords**2) / (2 * SIGMA**2))
    return g / g.sum()


_TAPS = _gaussian()


def _filter_along(planes: np.ndarray, axis: int) -> np.ndarray:
    """Valid 1-D correlation with the symmetric taps along ``axis`` (1: rows, 2: columns)."""
    size = planes.shape[axis] - KERNEL_SIZE + 1
    half = KERNEL_SIZE // 2

    def shifted(k):
        return planes[:, k : k + size] if axis == 1 else planes[:, :, k : k + size]

    taps = _TAPS.astype(planes.dtype)
    out = shifted(half) * taps[half]
    scratch = np.empty_like(out)
    for k in range(half):  # the taps are symmetric: one multiply per pair
        np.add(shifted(k), shifted(KERNEL_SIZE - 1 - k), out=scratch)
        scratch *= taps[k]
        out += scratch
    return out


STRIP_ROWS = 32  # output rows filtered at a time: the strip's planes stay in the CPU's cache (2× faster)


def _strips(height: int):
    """Output row ranges covering a filtered height."""
    for start in range(0, height, STRIP_ROWS):
        yield start, min(height, start + STRIP_ROWS)


def _filter(planes: np.ndarray) -> np.ndarray:
    """Gaussian-weighted local means of (N, H, W) planes, 'valid' region only (as piq's padding=0)."""
    height = planes.shape[1] - KERNEL_SIZE + 1
    parts = [_filter_along(_filter_along(planes[:, a : b + KERNEL_SIZE - 1], 1), 2) for a, b in _strips(height)]
    return np.concatenate(parts, axis=1)


def _unit(image: np.ndarray, dtype) -> np.ndarray:
    """H×W×C uint8 as C×H×W in [0, 1], divided as piq divides by data_range."""
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=dtype) / dtype(255)


def _average_pool(planes: np.ndarray, factor: int) -> np.ndarray:
    """torch's avg_pool2d(kernel_size=factor): means of factor×factor blocks, the remainder dropped."""
    if factor == 1:
        return planes
    h, w = planes.shape[1] // factor * factor, planes.shape[2] // factor * factor
    total = planes[:, 0:h:factor, 0:w:factor].copy()  # strided sums: far faster than a reshaped mean
    for i in range(factor):
        for j in range(factor):
            if i or j:
                total += planes[:, i:h:factor, j:w:factor]
    return total / planes.dtype.type(factor * factor)


def _half(planes: np.ndarray) -> np.ndarray:
    """piq's MS-SSIM step down: replicate one row and column at the top-left when a side is odd
    (both, as piq does), then 2×2 means."""
    pad = max(planes.shape[1] % 2, planes.shape[2] % 2)
    if pad:
        planes = np.pad(planes, ((0, 0), (pad, 0), (pad, 0)), mode="edge")
    return _average_pool(planes, 2)


def _side(x: np.ndarray) -> tuple:
    """The reference's part of every comparison at one scale, from float64 x: x, μx, μx², σx² in float32."""
    mu, mean_sq = np.split(_filter(np.concatenate([x, x * x])), 2)
    sides = x, mu, mu * mu, mean_sq - mu * mu
    return tuple(a.astype(np.float32) for a in sides)


def _compare(side: tuple, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel means of the SSIM and contrast–structure (cs) maps of one scale, as piq's
    _ssim_per_channel, from the reference's side and the coding error d = y − x (float32)."""
    x, mu_x, mu_xx, sigma_xx = side
    c1, c2 = np.float32(K1**2), np.float32(K2**2)
    ss_sum, cs_sum = np.zeros(len(x)), np.zeros(len(x))
    for a, b in _strips(mu_x.shape[1]):
        rows = slice(a, b + KERNEL_SIZE - 1)
        ds = d[:, rows]
        mu_d, dd, xd = np.split(_filter(np.concatenate([ds, ds * ds, x[:, rows] * ds])), 3)
        mx, sxx = mu_x[:, a:b], sigma_xx[:, a:b]
        sigma_xy = sxx + (xd - mx * mu_d)  # σxy = σx² + σxd
        sigma_yy = sigma_xy + (xd - mx * mu_d) + (dd - mu_d * mu_d)  # σy² = σx² + 2σxd + σd²
        mu_y = mx + mu_d
        cs = (2 * sigma_xy + c2) / (sxx + sigma_yy + c2)
        ss = (2 * mx * mu_y + c1) / (mu_xx[:, a:b] + mu_y * mu_y + c1) * cs
        ss_sum += ss.sum(axis=(1, 2), dtype=np.float64)
        cs_sum += cs.sum(axis=(1, 2), dtype=np.float64)
    count = mu_x.shape[1] * mu_x.shape[2]
    return ss_sum / count, cs_sum / count


def _check_size(image: np.ndarray, least: int, what: str) -> None:
    h, w = image.shape[:2]
    if min(h, w) < least:
        raise ValueError(f"{what} needs at least {least} pixels per side; the image is {w}×{h}")


_ssim_references = ReferenceCache()
_ms_ssim_references = ReferenceCache()


def _downsampling(shape) -> int:
    return max(1, round(min(shape[:2]) / 256))  # piq's automatic average pooling (Python's round)


def ssim(reference: np.ndarray, decoded: np.ndarray) -> float:
    """piq.ssim(x, y, data_range=255) with its defaults (11×11 σ=1.5, downsample=True), RGB mean."""
    factor = _downsampling(reference.shape)
    _check_size(reference, KERNEL_SIZE * factor, "SSIM")
    if np.array_equal(reference, decoded):
        return 1.0  # exactly, as the definition gives; the float sums below land within 1e-8 of it
    side = _ssim_references.get(reference, lambda image: _side(_average_pool(_unit(image, np.float64), factor)))
    value, _ = _compare(side, _average_pool(_unit(decoded, np.float32), factor) - side[0])
    return min(float(value.mean()), 1.0)  # SSIM ≤ 1; float32 sums put a near-copy a few 1e-9 above it


def ms_ssim(reference: np.ndarray, decoded: np.ndarray) -> float:
    """piq.multi_scale_ssim(x, y, data_range=255) with its defaults (5 scales, Wang et al.'s weights)."""
    _check_size(reference, MS_SSIM_MIN_SIDE, "MS-SSIM")
    if np.array_equal(reference, decoded):
        return 1.0  # as in ssim()

    def prepare(image):
        """Each scale's side, one colour plane at a time: the float64 pyramid and filters of a third of
        the image at once (on 12 MP the peak is then about 1.3 GB rather than 2.4)."""
        sides = []
        for channel in range(image.shape[2]):
            x = _unit(image[:, :, channel : channel + 1], np.float64)
            for level in range(len(MS_SSIM_WEIGHTS)):
                x = _half(x) if level else x
                side = _side(x)
                if not channel:
                    sides.append(tuple(np.empty((image.shape[2], *a.shape[1:]), np.float32) for a in side))
                for whole, plane in zip(sides[level], side, strict=True):
                    whole[channel] = plane[0]
        return sides

    sides, values = _ms_ssim_references.get(reference, prepare), []
    d = _unit(decoded, np.float32) - sides[0][0]
    for level, side in enumerate(sides):
        d = _half(d) if level else d  # the pyramid is linear: the pyramid of y − x is that of y less that of x
        ss, cs = _compare(side, d)
        values.append(ss if level == len(MS_SSIM_WEIGHTS) - 1 else cs)
    per_channel = np.prod(np.maximum(np.stack(values), 0) ** MS_SSIM_WEIGHTS[:, None], axis=0)
    return min(float(per_channel.mean()), 1.0)  # as in ssim()
