"""CompressAI's zoo models as transforms: their quantised latents as planes, one per channel, with
the probability models the zoo's decoders rebuild, so that CompressAI's rANS and constriction's
coders code the same symbols under the same models.

- ``bmshj2018-factorized-mse``: the y channels, each under its entropy bottleneck channel's
  learned distribution (a ``Categorical``; symbols round(y − median));
- ``bmshj2018-hyperprior-mse``, ``mbt2018-mean-mse``: the z channels likewise, then the y channels,
  each symbol under a ``Gaussian`` whose scale (and, for mbt2018-mean, mean: the symbols are
  round(y − mean)) the hyper-synthesis computes from the decoded z.

The autoregressive models (mbt2018, cheng2020) decode y position by position from a context model,
which no per-plane model expresses: they are left out. Padding, symbols and reconstructions are
the zoo codecs' own (codecs/compressai_zoo.py; model loading and weights from the compressai_models kit); the
MS-SSIM models would be one more entry each. Header: quality (uint8), height, width (uint16 each).
"""

import struct
from functools import lru_cache, partial

import numpy as np

from pytest_codecbench import Categorical, Gaussian, Transform, compressai_models, device, to_image

ARCHITECTURES = ("bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean")
HEADER = struct.Struct(">BHH")


def _net(architecture: str, quality: int):
    return compressai_models.model(architecture, "mse", quality, device())


def _channels(architecture: str, quality: int) -> tuple[int, int]:
    """(z channels, y channels); no z for the factorized prior."""
    n, m = compressai_models.zoo().image.cfgs[architecture][quality]
    return (0, m) if architecture == "bmshj2018-factorized" else (n, m)


def _medians(net):
    return net.entropy_bottleneck._get_medians().detach()  # C×1×1, as EntropyBottleneck.compress uses them


def _planes(tensor) -> list[np.ndarray]:
    return list(tensor[0].int().cpu().numpy())


def analysis(architecture: str, image, quality: int):
    import torch

    net = _net(architecture, quality)
    height, width = image.shape[:2]
    with torch.no_grad():
        y = net.g_a(compressai_models.padded(image, device()))
        bottleneck = net.entropy_bottleneck
        if architecture == "bmshj2018-factorized":
            return HEADER.pack(quality, height, width), _planes(bottleneck.quantize(y, "symbols", _medians(net)))
        z = net.h_a(torch.abs(y) if architecture == "bmshj2018-hyperprior" else y)
        z_symbols = _planes(bottleneck.quantize(z, "symbols", _medians(net)))
        _, means = _hyper(architecture, quality, np.stack(z_symbols).tobytes(), tuple(z.shape[2:]))
        y_symbols = net.gaussian_conditional.quantize(y, "symbols", None if means is None else torch.from_numpy(means))
    return HEADER.pack(quality, height, width), z_symbols + _planes(y_symbols)


@lru_cache(maxsize=4)  # the coder's model and the synthesis ask for it with the same z
def _hyper(architecture: str, quality: int, z_symbols: bytes, shape) -> tuple[np.ndarray, np.ndarray | None]:
    """The y symbols' scales (lower-bounded as CompressAI's likelihood bounds them) and means, 1×C×H×W,
    from the hyper-synthesis of the decoded z."""
    import torch

    net = _net(architecture, quality)
    channels = _channels(architecture, quality)[0]
    symbols = torch.from_numpy(np.frombuffer(z_symbols, dtype=np.int32).reshape(1, channels, *shape).copy())
    with torch.no_grad():
        z_hat = net.entropy_bottleneck.dequantize(symbols.to(device()), _medians(net))
        params = net.h_s(z_hat)
        scales, means = params.chunk(2, 1) if architecture == "mbt2018-mean" else (params, None)
        scales = net.gaussian_conditional.lower_bound_scale(scales)
    return scales.cpu().numpy(), None if means is None else means.cpu().numpy()


@lru_cache(maxsize=16)
def _bottleneck_pmf(architecture: str, quality: int, low: int, high: int) -> np.ndarray:
    """Per channel of the entropy bottleneck, the probabilities of the symbols low … high: its learned
    density integrated over [median + s − ½, median + s + ½] (C × (high − low + 1))."""
    import torch

    net = _net(architecture, quality)
    with torch.no_grad():
        values = _medians(net) + torch.arange(low, high + 1, dtype=torch.float32, device=device())
        likelihood, _, _ = net.entropy_bottleneck._likelihood(values, stop_gradient=True)
    return likelihood[:, 0, :].double().cpu().numpy()


def models(architecture: str, header: bytes, decoded: list[np.ndarray]):
    quality, _, _ = HEADER.unpack(header)
    z_channels, y_channels = _channels(architecture, quality)
    bottleneck = z_channels or y_channels
    if not decoded:
        return [
            Categorical(lambda low, high, c=c: _bottleneck_pmf(architecture, quality, low, high)[c])
            for c in range(bottleneck)
        ]
    scales, _ = _hyper(architecture, quality, np.stack(decoded).tobytes(), decoded[0].shape)
    return [Gaussian(scales[0, c]) for c in range(y_channels)]


def shapes(architecture: str, header: bytes) -> list[tuple[int, int]]:
    quality, height, width = HEADER.unpack(header)
    pad = compressai_models.padding(height, width)[0]
    padded_height, padded_width = height + pad[2] + pad[3], width + pad[0] + pad[1]
    z_channels, y_channels = _channels(architecture, quality)
    return [(padded_height // 64, padded_width // 64)] * z_channels + [
        (padded_height // 16, padded_width // 16)
    ] * y_channels


def synthesis(architecture: str, header: bytes, planes: list[np.ndarray]):
    import torch
    import torch.nn.functional as F

    quality, height, width = HEADER.unpack(header)
    net = _net(architecture, quality)
    z_channels, _ = _channels(architecture, quality)
    y_hat = torch.from_numpy(np.stack(planes[z_channels:])[None].astype(np.float32)).to(device())
    with torch.no_grad():
        if architecture == "bmshj2018-factorized":
            y_hat = net.entropy_bottleneck.dequantize(y_hat, _medians(net))
        elif architecture == "mbt2018-mean":
            z = planes[:z_channels]
            _, means = _hyper(architecture, quality, np.stack(z).tobytes(), z[0].shape)
            y_hat = y_hat + torch.from_numpy(means).to(device())
        x_hat = net.g_s(y_hat).clamp_(0, 1)
    return to_image(F.pad(x_hat, compressai_models.padding(height, width)[1]))


def _transform(architecture: str) -> Transform:
    top, about = compressai_models.ARCHITECTURES[architecture]
    return Transform(
        name=f"{architecture}-mse",
        analysis=partial(analysis, architecture),
        synthesis=partial(synthesis, architecture),
        shapes=partial(shapes, architecture),
        qualities=tuple(range(1, top + 1)),
        default_coder="compressai-rans",
        integer=True,
        description=f"CompressAI zoo: {about}, trained for MSE: its quantised latents, a plane per channel",
        requires=("torchvision", "compressai"),
        weights=partial(compressai_models.weights, architecture, "mse"),
        versions=compressai_models.versions,
        models=partial(models, architecture),
    )


TRANSFORMS = [_transform(architecture) for architecture in ARCHITECTURES]
