"""Pretrained VQ autoencoders of diffusers as image codecs: a token grid, entropy-coded to real bytes.

None of these models has a rate knob, so the quality is a target pixel ratio r: the encoder
resizes the image to round(√r·H) × round(√r·W) (torch's bicubic filter with antialiasing, as
Pillow's BICUBIC; none at r = 1), pads it by replication to a multiple of the model's
downsampling factor, and quantises the encoder's output to codebook indices; the decoder looks
the indices up, decodes, crops the padding and resizes back to H × W with the same filter.

Bitstream: the image's and the resized image's height and width (uint16 each), then the indices
in raster order coded by an adaptive categorical model with constriction's range coder
(pytest_codecbench/adaptive.py; no table: a codebook has more entries than an image has tokens).
The fixed-length rate, log2(codebook size) bits per token, is recorded as an estimate beside it.

Weights come from the Hugging Face Hub cache (``$HF_HOME/hub``) at a pinned commit, safetensors
only, loaded offline by diffusers' own ``from_pretrained(repo, subfolder=..., revision=...)``
after ``codecbench weights --download`` or an item has fetched them. Where a repository has its
float32 weights only as a pickle (``.bin``), its float16 safetensors variant is loaded into
float32. A checkpoint whose codebook is degenerate (every entry the same) is refused.

The complexity counts need no weights: they use each model's published configuration, written
below with its source. ``TRANSFORMS`` gives the token grids to the transform × coder matrix.
"""

import math
import struct
import warnings
from dataclasses import dataclass
from functools import lru_cache, partial

from pytest_codecbench import (
    Codec,
    HubFile,
    Transform,
    adaptive,
    complexity,
    device,
    hf_cache,
    import_quietly,
    import_torchvision,
    stage,
    synchronizer,
    to_image,
    to_tensor,
)

RATIOS = (1.0, 0.7, 0.5, 0.35, 0.25)
HEADER = struct.Struct(">HHHH")  # height, width, resized height, resized width


@dataclass(frozen=True)
class Model:
    repo: str
    subfolder: str
    revision: str  # the commit pinned: its tree was checked to hold the weights file below
    variant: str | None  # "fp16": only the float16 weights are safetensors
    kind: str  # "vq" (diffusers.VQModel) or "paella" (PaellaVQModel)
    config: dict  # the published config.json, for counts without weights
    source: str  # where that configuration was read
    description: str


# Configurations: the repositories' own config.json at the commit given in `source` (keys that
# diffusers fills with the same defaults, e.g. act_fn "silu", are left out).
MODELS = {
    "ldm-sr-vq": Model(
        "CompVis/ldm-super-resolution-4x-openimages",
        "vqvae",
        "0b55ddf931a8e3a1b426b3a50ddcf325ff84f668",
        "fp16",
        "vq",
        {
            "block_out_channels": [128, 256, 512],
            "down_block_types": ["DownEncoderBlock2D"] * 3,
            "up_block_types": ["UpDecoderBlock2D"] * 3,
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 3,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "num_vq_embeddings": 8192,
            "sample_size": 256,
            "vq_embed_dim": None,
        },
        "huggingface.co/CompVis/ldm-super-resolution-4x-openimages/blob/refs%2Fpr%2F1/vqvae/config.json "
        "(unchanged since the commit 'add model', d9db069)",
        "LDM super-resolution's VQ-f4 autoencoder (Rombach et al. 2022), 4× downsampling, 8192 codes",
    ),
    "ithq-vq": Model(
        "microsoft/vq-diffusion-ithq",
        "vqvae",
        "3f796fb49ee559370dc638dea1d8116af131d993",
        "fp16",
        "vq",
        {
            "block_out_channels": [64, 128, 256, 512],
            "down_block_types": ["DownEncoderBlock2D"] * 3 + ["AttnDownEncoderBlock2D"],
            "up_block_types": ["AttnUpDecoderBlock2D"] + ["UpDecoderBlock2D"] * 3,
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 256,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "num_vq_embeddings": 4096,
            "sample_size": 32,
            "vq_embed_dim": 128,
        },
        "huggingface.co/microsoft/vq-diffusion-ithq/blame/main/vqvae/config.json (main at 3f796fb)",
        "VQ-Diffusion ITHQ's VQ-VAE (Gu et al. 2022), 8× downsampling, 4096 codes",
    ),
    "kandinsky21-movq": Model(
        "kandinsky-community/kandinsky-2-1",
        "movq",
        "2e83426dda9cb5ac45f771fffa74785373cc174c",
        None,
        "vq",
        {
            "block_out_channels": [128, 256, 256, 512],
            "down_block_types": ["DownEncoderBlock2D"] * 3 + ["AttnDownEncoderBlock2D"],
            "up_block_types": ["AttnUpDecoderBlock2D"] + ["UpDecoderBlock2D"] * 3,
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 4,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "norm_type": "spatial",
            "num_vq_embeddings": 16384,
            "sample_size": 32,
            "vq_embed_dim": 4,
        },
        "huggingface.co/kandinsky-community/kandinsky-2-1/blob/8d6a880a6d9788acae7f9fd80f66bf408428549f/movq/"
        "config.json (as in diffusers' scripts/convert_kandinsky_to_diffusers.py, MOVQ_CONFIG)",
        "Kandinsky 2.1's MoVQ (Zheng et al. 2022; spatially conditioned normalisation), 8× downsampling, 16384 codes",
    ),
    "stable-cascade-paella": Model(
        "stabilityai/stable-cascade",
        "vqgan",
        "a89f66d459ae653e3b4d4f992a7c3789d0dc4d16",
        None,
        "paella",
        {
            "in_channels": 3,
            "out_channels": 3,
            "up_down_scale_factor": 2,
            "levels": 2,
            "bottleneck_blocks": 12,
            "embed_dim": 384,
            "latent_channels": 4,
            "num_vq_embeddings": 8192,
            "scale_factor": 0.3764,
        },
        "huggingface.co/stabilityai/stable-cascade/blob/f2a84281d6f8db3c757195dd0c9a38dbdea90bb4/vqgan/config.json",
        "Stable Cascade's stage A, a Paella VQGAN (Pernias et al. 2024), 4× downsampling, 8192 codes "
        "(gated repository: accept its licence and set HF_TOKEN to download)",
    ),
}


class DegenerateCodebook(Exception):
    """Every codebook entry is the same vector: whatever the indices, the decoder sees one latent."""


def weights_file(model: Model) -> str:
    variant = f".{model.variant}" if model.variant else ""
    return f"{model.subfolder}/diffusion_pytorch_model{variant}.safetensors"


def weights(name: str, quality: float = 1.0) -> tuple[HubFile, ...]:
    model = MODELS[name]
    return tuple(
        HubFile(model.repo, model.revision, f) for f in (f"{model.subfolder}/config.json", weights_file(model))
    )


def _classes():
    import_torchvision()  # diffusers imports torchvision; see pytest_codecbench.kits.torch_compat
    diffusers = import_quietly("diffusers")
    paella = import_quietly("diffusers.pipelines.deprecated.wuerstchen.modeling_paella_vq_model")
    return {"vq": diffusers.VQModel, "paella": paella.PaellaVQModel}


def quantizer(net):
    return net.vquantizer if hasattr(net, "vquantizer") else net.quantize


def factor(net) -> int:
    """How many pixels one token covers per side."""
    config = net.config
    if hasattr(net, "vquantizer"):
        return config.up_down_scale_factor * 2 ** (config.levels - 1)
    return 2 ** (len(config.block_out_channels) - 1)


def check_codebook(net, where: str) -> None:
    codebook = quantizer(net).embedding.weight
    if bool((codebook == codebook[0]).all()):
        value = "zero" if not bool(codebook[0].any()) else "the same vector"
        parameter = "vquantizer" if hasattr(net, "vquantizer") else "quantize"
        raise DegenerateCodebook(
            f"{where}: the codebook {parameter}.embedding.weight is degenerate: all {codebook.shape[0]} entries are "
            f"{value}, so every index decodes to the same latent and the image is lost (Kandinsky 3's published "
            "MoVQ has this defect: its PSNR stays near 12 dB); this checkpoint cannot be a codec"
        )


@lru_cache(maxsize=2)  # items run codec by codec: keep the current model
def load(name: str, on: str):
    import torch

    model = MODELS[name]
    with warnings.catch_warnings():  # diffusers passes huggingface_hub an argument it has deprecated
        warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks", category=UserWarning)
        net = _classes()[model.kind].from_pretrained(
            model.repo,
            subfolder=model.subfolder,
            revision=model.revision,
            variant=model.variant,
            use_safetensors=True,
            local_files_only=True,
            cache_dir=hf_cache(),
            torch_dtype=torch.float32,
            low_cpu_mem_usage=False,  # True needs the accelerate package
        )
    check_codebook(net, f"{model.repo} ({model.subfolder}, revision {model.revision})")
    return net.eval().to(on)


def _to_model(x, net):
    """[0, 1] to the model's range: LDM-style autoencoders take [-1, 1], Paella [0, 1]."""
    return x if hasattr(net, "vquantizer") else x * 2 - 1


def _from_model(y, net):
    return y if hasattr(net, "vquantizer") else (y + 1) / 2


def tokens(net, x):
    """Codebook indices (gh, gw) of a 1×3×H×W image in the model's range, H and W multiples of ``factor``."""
    latents = net.encode(x).latents
    _, _, (_, _, indices) = quantizer(net)(latents)
    return indices.reshape(latents.shape[2], latents.shape[3])


def reconstruct(net, indices):
    """The model's own decoding of a (gh, gw) grid of indices, as diffusers' VQ-Diffusion pipeline does it."""
    q = quantizer(net)
    latents = q.get_codebook_entry(indices.reshape(-1), (1, *indices.shape, q.vq_embed_dim))
    if hasattr(net, "vquantizer"):
        return net.decode(latents).sample
    return net.decode(latents, force_not_quantize=True).sample


def resized_size(height: int, width: int, ratio: float) -> tuple[int, int]:
    scale = math.sqrt(ratio)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _resize(x, size: tuple[int, int]):
    import torch.nn.functional as F

    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)


def grid_shape(net, header: bytes) -> tuple[int, int]:
    _, _, small_height, small_width = HEADER.unpack_from(header)
    unit = factor(net)
    return -(-small_height // unit), -(-small_width // unit)


def analysis(name: str, image, ratio: float):
    """(header, [the token grid as a (gh, gw) int32 array]), timed as the stages resize, encoder, quantize."""
    import torch
    import torch.nn.functional as F

    on = device()
    sync = synchronizer(on)
    net = load(name, on)
    height, width = image.shape[:2]
    if max(height, width) > 0xFFFF:
        raise ValueError(f"{width}x{height}: the header holds sizes up to 65535")
    small = resized_size(height, width, ratio)
    unit = factor(net)
    with torch.no_grad():
        with stage("resize", sync):
            x = _resize(to_tensor(image, on), small)
            x = _to_model(F.pad(x, (0, -small[1] % unit, 0, -small[0] % unit), mode="replicate"), net)
        with stage("encoder", sync):
            latents = net.encode(x).latents
        with stage("quantize", sync):
            _, _, (_, _, indices) = quantizer(net)(latents)
            grid = indices.reshape(latents.shape[2], latents.shape[3]).int().cpu().numpy()
    return HEADER.pack(height, width, *small), [grid]


def synthesis(name: str, header: bytes, planes):
    """The image from the header and the token grid, timed as the stages decoder and resize."""
    import torch

    on = device()
    sync = synchronizer(on)
    net = load(name, on)
    height, width, small_height, small_width = HEADER.unpack_from(header)
    (grid,) = planes
    with torch.no_grad():
        with stage("decoder", sync):
            y = reconstruct(net, torch.from_numpy(grid).long().to(on))
        with stage("resize", sync):
            y = _resize(_from_model(y[:, :, :small_height, :small_width], net), (height, width))
            return to_image(y)


def shapes(name: str, header: bytes) -> list[tuple[int, int]]:
    return [grid_shape(load(name, device()), header)]


def encode(name: str, image, ratio: float) -> bytes:
    header, (grid,) = analysis(name, image, ratio)
    with stage("entropy-coding"):
        return header + adaptive.encode(grid, load(name, device()).config.num_vq_embeddings)


def decode(name: str, data: bytes):
    net = load(name, device())
    header = data[: HEADER.size]
    shape = grid_shape(net, header)
    with stage("entropy-decoding"):
        grid = adaptive.decode(data[HEADER.size :], shape[0] * shape[1], net.config.num_vq_embeddings)
    return synthesis(name, header, [grid.reshape(shape)])


def estimate(name: str, image, ratio: float) -> dict[str, float]:
    """The token count and the fixed-length rate: log2(codebook size) bits per token."""
    net = load(name, device())
    height, width = image.shape[:2]
    shape = grid_shape(net, HEADER.pack(height, width, *resized_size(height, width, ratio)))
    count = shape[0] * shape[1]
    return {"tokens": count, "fixed_length_bpp": count * math.log2(net.config.num_vq_embeddings) / (height * width)}


@lru_cache(maxsize=1)  # items run codec by codec
def counting_model(name: str):
    """The published configuration with every weight zero: counts do not depend on weights (and
    building it on the meta device, then zeroing, skips the random initialisation's second)."""
    import torch

    model = MODELS[name]
    with torch.device("meta"):
        net = _classes()[model.kind](**model.config)
    net = net.to_empty(device="cpu")
    for tensor in (*net.parameters(), *net.buffers()):
        tensor.data.zero_()
    return net.eval()


def parts(net) -> dict[str, tuple[str, ...]]:
    """The submodules (of ``Pipeline``) each side runs."""
    if hasattr(net, "vquantizer"):
        return {
            "encoder": ("net.in_block", "net.down_blocks", "net.vquantizer"),
            "decoder": ("net.up_blocks", "net.out_block"),
        }
    return {
        "encoder": ("net.encoder", "net.quant_conv", "net.quantize"),
        "decoder": ("net.post_quant_conv", "net.decoder"),
    }


def pipeline(net):
    """The model as the codec runs it, image to indices to image, as one module for fvcore."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return reconstruct(self.net, tokens(self.net, x))

    return Pipeline()


def count(name: str, ratio: float, height: int, width: int) -> dict:
    """fvcore's MACs of the encoder (with the codebook search) and the decoder at the padded resized size,
    per pixel of the original image (complexity.count_at_size)."""
    unit = factor(counting_model(name))
    padded = [-(-side // unit) * unit for side in resized_size(height, width, ratio)]
    return _count(name, *padded, height * width)


@lru_cache(maxsize=64)  # Kodak's images share two sizes
def _count(name: str, height: int, width: int, pixels: int) -> dict:
    import torch

    net = counting_model(name)
    with torch.no_grad():
        return complexity.count_at_size(
            pipeline(net), lambda h, w: (torch.zeros(1, 3, h, w),), parts(net), height, width, factor(net), pixels
        )


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {library: version(library) for library in ("diffusers", "torch", "constriction")}


def _native(name: str) -> Codec:
    model = MODELS[name]
    return Codec(
        name=name,
        encode=partial(encode, name),
        decode=partial(decode, name),
        qualities=RATIOS,
        quality_label="r",
        quality_range=(0.01, 1.0),
        requires=("torchvision", "diffusers", "constriction"),
        versions=versions,
        weights=partial(weights, name),
        complexity=partial(count, name),
        estimate=partial(estimate, name),
        family="diffusers",
        description=f"{model.description}; pixel ratio r; indices coded adaptively (constriction range coder)",
    )


def _transform(name: str) -> Transform:
    return Transform(
        name=name,
        analysis=partial(analysis, name),
        synthesis=partial(synthesis, name),
        shapes=partial(shapes, name),
        qualities=RATIOS,
        default_coder="adaptive",
        quality_label="r",
        quality_range=(0.01, 1.0),
        description=f"{MODELS[name].description}: its token grid",
        requires=("torchvision", "diffusers"),
        weights=partial(weights, name),
        versions=versions,
    )


CODECS = [_native(name) for name in MODELS]
TRANSFORMS = [_transform(name) for name in MODELS]
