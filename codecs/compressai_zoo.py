"""CompressAI's pretrained image codecs: real rANS bitstreams, per-stage timing, fvcore counts.

One codec per architecture and training metric, named ``<architecture>-<metric>``
(``mbt2018-mean-mse``, ``cheng2020-attn-ms-ssim``); the quality is the zoo's index,
1 = lowest rate. Weights come from CompressAI's zoo through torch.hub's cache.

Bitstream: a 9-byte header (quality: uint8; image height and width, latent shape:
uint16 each), then the string of every latent (y, then z for the hyperprior models),
each but the last preceded by its length (uint32). ``decode`` needs nothing else.

As in CompressAI's own evaluation (``compressai.utils.eval_model``) the image is padded
with zeros to a multiple of 64 (six stride-2 stages), centred, and the reconstruction is
cropped back; on CUDA the plugin makes cuDNN deterministic so that the decoder's
entropy parameters match the encoder's. Torch runs with the sweep's one thread per process.
"""

import hashlib
import struct
from functools import cache, partial
from pathlib import Path

from pytest_codecbench import (
    Codec,
    complexity,
    compressai_models,
    device,
    split_stage,
    stage,
    synchronizer,
    to_image,
)

METRICS = ("mse", "ms-ssim")
AUTOREGRESSIVE = ("mbt2018", "cheng2020-anchor", "cheng2020-attn")
HEADER = struct.Struct(">BHHHH")
LENGTH = struct.Struct(">I")


def _analysis(architecture: str) -> tuple[str, ...]:
    return ("g_a",) if architecture == "bmshj2018-factorized" else ("g_a", "h_a")


def _parts(architecture: str) -> dict[str, tuple[str, ...]]:
    """The submodules each side runs: the encoder also runs the hyper-synthesis (and the
    context model) to get the entropy parameters of y, the decoder runs them to decode it."""
    if architecture == "bmshj2018-factorized":
        return {"encoder": ("g_a",), "decoder": ("g_s",)}
    context = ("context_prediction", "entropy_parameters") if architecture in AUTOREGRESSIVE else ()
    return {"encoder": ("g_a", "h_a", "h_s", *context), "decoder": ("h_s", *context, "g_s")}


def encode(architecture: str, metric: str, image, quality: int) -> bytes:
    import torch

    on = device()
    sync = synchronizer(on)
    model = compressai_models.model(architecture, metric, quality, on)
    height, width = image.shape[:2]
    if max(height, width) > 0xFFFF:
        raise ValueError(f"{width}x{height}: the header holds sizes up to 65535")
    with torch.no_grad():
        with stage("to-tensor", sync):
            x = compressai_models.padded(image, on)
        with split_stage(model, _analysis(architecture), "analysis", "entropy-encoding", sync):
            out = model.compress(x)
    with stage("pack"):
        strings = [latent[0] for latent in out["strings"]]  # batch of one
        lengths = b"".join(LENGTH.pack(len(s)) for s in strings[:-1])
        return HEADER.pack(quality, height, width, *out["shape"]) + lengths + b"".join(strings)


def decode(architecture: str, metric: str, data: bytes):
    import torch
    import torch.nn.functional as F

    with stage("unpack"):
        quality, height, width, *shape = HEADER.unpack_from(data)
        count = 1 if architecture == "bmshj2018-factorized" else 2
        lengths = [LENGTH.unpack_from(data, HEADER.size + LENGTH.size * i)[0] for i in range(count - 1)]
        start = HEADER.size + LENGTH.size * (count - 1)
        strings = []
        for length in [*lengths, len(data) - start - sum(lengths)]:
            strings.append([data[start : start + length]])
            start += length
    on = device()
    sync = synchronizer(on)
    model = compressai_models.model(architecture, metric, quality, on)
    with torch.no_grad():
        with split_stage(model, ("g_s",), "synthesis", "entropy-decoding", sync):
            x_hat = model.decompress(strings, shape)["x_hat"]
        with stage("to-image", sync):
            return to_image(F.pad(x_hat, compressai_models.padding(height, width)[1]))


def estimate(architecture: str, metric: str, image, quality: int) -> dict[str, float]:
    """The bpp the entropy model predicts: -log2 of the likelihoods of the quantised latents
    in the model's forward pass (what CompressAI calls entropy estimation)."""
    import torch

    on = device()
    model = compressai_models.model(architecture, metric, quality, on)
    with torch.no_grad():
        likelihoods = model(compressai_models.padded(image, on))["likelihoods"]
    bits = sum(float(-torch.log2(values).sum()) for values in likelihoods.values())
    return {"bpp_likelihood": bits / (image.shape[0] * image.shape[1])}


def count(architecture: str, metric: str, quality: int, height: int, width: int) -> dict:
    config = compressai_models.zoo().image.cfgs[architecture][quality]  # (N, M): MSE and MS-SSIM models share it
    return _count(architecture, config, height, width)


@cache
def _count(architecture: str, config: tuple, height: int, width: int) -> dict:
    """fvcore on the forward pass of a randomly initialised model: counts do not depend on
    weights. For the autoregressive models the forward pass runs the context model as one
    masked convolution; the sequential coder does the same multiply-adds position by position."""
    import torch

    model = compressai_models.zoo().image.model_architectures[architecture](*config).eval()
    pad = compressai_models.padding(height, width)[0]
    x = torch.zeros(1, 3, height + pad[2] + pad[3], width + pad[0] + pad[1])
    with torch.no_grad():
        return complexity.count(model, (x,), _parts(architecture), height * width)


def generated_checkpoint(architecture: str, quality: int, folder: Path) -> Path:
    """A stand-in for a zoo checkpoint where none can be downloaded (tests, speed runs): a
    randomly initialised model of the architecture with its entropy tables updated, saved
    in ``folder`` as torch.hub names files, ``<architecture>-<quality>-<sha256 prefix>.pth.tar``.
    Point ``compressai.zoo.image.model_urls`` at that name to have the zoo load it."""
    import torch

    zoo = compressai_models.zoo().image
    torch.manual_seed(quality)
    model = zoo.model_architectures[architecture](*zoo.cfgs[architecture][quality])
    model.update(force=True)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".{architecture}-{quality}.partial"
    torch.save(model.state_dict(), scratch)
    digest = hashlib.sha256(scratch.read_bytes()).hexdigest()
    return scratch.rename(folder / f"{architecture}-{quality}-{digest[:8]}.pth.tar")


CODECS = [
    Codec(
        name=f"{architecture}-{metric}",
        encode=partial(encode, architecture, metric),
        decode=partial(decode, architecture, metric),
        qualities=tuple(range(1, top + 1)),
        requires=("torchvision", "compressai"),
        versions=compressai_models.versions,
        weights=partial(compressai_models.weights, architecture, metric),
        complexity=partial(count, architecture, metric),
        estimate=partial(estimate, architecture, metric),
        family="compressai",
        description=f"CompressAI zoo: {about}, trained for {metric.upper()}",
    )
    for architecture, (top, about) in compressai_models.ARCHITECTURES.items()
    for metric in METRICS
]
