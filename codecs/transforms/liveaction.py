"""LiVeAction (Jacobellis and Yadwadkar, "LiVeAction: Lightweight, Versatile, and Asymmetric Codec Design
for Real-time Operation", DCC 2026): a wavelet packet transform of J = log2(F) levels, a few factorised
(Monarch) residual blocks and a factorised 1×1 projection to ``latent_dim`` channels as the encoder; a
Laplace companding squashes them into ±127, rounded: 8-bit integer planes at 1/F of the image's size,
which its paper codes losslessly as images (WebP; JPEG-LS here by default). An EfficientViT stage
(linear attention) decodes.

The package's own module (``livecodec.codec.AutoCodecND``, PyPI ``livecodec``, which LiVeAction's README
names; its three files equal those of github.com/danjacobellis/autocodec, the code that trained and
evaluated the checkpoints. ``lvac`` 0.0.1 is that code before April 2025: batch norms and the exact GELU in
the decoder's MBConv blocks where the checkpoints, trained after the switch to group norms, have group
norms and timm's GELUTanh, so their state dicts do not load into it); the checkpoint
``rgb_f16c12_ft.pth`` of the Hugging Face repository danjacobellis/autocodec, the RGB codec its
evaluation notebooks load (eval/cpu.ipynb, eval/inet_autocodec_f16c12.ipynb of github.com/
danjacobellis/autocodec): a dict with ``config`` (a plain namespace) and ``state_dict``, read with
torch.load(weights_only=True) allowing plain namespaces (no code run). As those notebooks do, RGB is fed
in [-1, 1], the latents are ``quantize.compand(encode(x)).round()`` and the image ``decode(latents)``
clamped. Without weights, MACs are counted on the published configuration of its training notebook
(train/lsdir_f16c12.ipynb): F = 16, 12 latent channels, 4 encoder blocks of kernel 1, 8 decoder
blocks, lightweight encoder, full decoder. Images are padded by reflection to a multiple of F and
cropped after decoding. Header: height, width (uint16 each), the checkpoint (uint8).
"""

import struct
import types
from functools import lru_cache

import numpy as np

from pytest_codecbench import HubFile, Transform, complexity, device, import_torchvision

HEADER = struct.Struct(">HHB")  # height, width, the checkpoint (its index in CHECKPOINTS)
CHECKPOINTS = ("rgb_f16c12_ft",)
PUBLISHED = {  # train/lsdir_f16c12.ipynb (see above)
    "rgb_f16c12_ft": types.SimpleNamespace(
        F=16,
        latent_dim=12,
        input_channels=3,
        encoder_depth=4,
        encoder_kernel_size=1,
        decoder_depth=8,
        lightweight_encode=True,
        lightweight_decode=False,
    )
}


def checkpoint(name: str) -> HubFile:
    """The checkpoint in danjacobellis/autocodec (its main branch: no commit is published)."""
    return HubFile("danjacobellis/autocodec", "main", f"{name}.pth")


def architecture(config):
    import_torchvision()  # livecodec imports timm and torchvision; see pytest_codecbench.kits.torch_compat
    from livecodec.codec import AutoCodecND

    return AutoCodecND(
        dim=2,
        input_channels=config.input_channels,
        J=int(np.log2(config.F)),
        latent_dim=config.latent_dim,
        encoder_depth=config.encoder_depth,
        encoder_kernel_size=config.encoder_kernel_size,
        decoder_depth=config.decoder_depth,
        lightweight_encode=config.lightweight_encode,
        lightweight_decode=config.lightweight_decode,
    )


@lru_cache(maxsize=2)
def load(name: str, on: str):
    import torch

    path = checkpoint(name).ensure()
    try:
        with torch.serialization.safe_globals([types.SimpleNamespace]):
            stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle holding more than tensors, plain types and namespaces: not unpickled
        raise ValueError(f"{path} does not load with torch.load(weights_only=True): {error}") from error
    model = architecture(stored["config"])
    model.load_state_dict(stored["state_dict"])
    return model.eval().to(on)


def _unit(model) -> int:
    return 2**model.J


def analysis(image: np.ndarray, name: str):
    import torch
    import torch.nn.functional as F

    height, width = image.shape[:2]
    on = device()
    model = load(name, on)
    unit = _unit(model)
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float().div(127.5).sub(1).to(on)
    x = F.pad(x, (0, -width % unit, 0, -height % unit), mode="reflect")
    with torch.no_grad():
        latent = model.quantize.compand(model.encode(x))[0]
    return HEADER.pack(height, width, CHECKPOINTS.index(name)), list(latent.round().to(torch.int32).cpu().numpy())


def _header(header: bytes) -> tuple[str, int, int]:
    height, width, index = HEADER.unpack(header)
    return CHECKPOINTS[index], height, width


def shapes(header: bytes) -> list[tuple[int, int]]:
    name, height, width = _header(header)
    model = load(name, device())
    unit = _unit(model)
    return [(-(-height // unit), -(-width // unit))] * model.latent_dim


def synthesis(header: bytes, planes: list[np.ndarray]) -> np.ndarray:
    import torch

    name, height, width = _header(header)
    on = device()
    model = load(name, on)
    latent = torch.from_numpy(np.stack(planes).astype(np.float32))[None].to(on)
    with torch.no_grad():
        x = model.decode(latent)[:, :, :height, :width].clamp(-1, 1)
    return x[0].add(1).mul(127.5).round().byte().permute(1, 2, 0).cpu().numpy()


def _round_trip(model):
    """What the codec runs, as one module for fvcore: encoder, companding, decoder."""
    from torch import nn

    class RoundTrip(nn.Module):
        def __init__(self):
            super().__init__()
            self.codec = model

        def forward(self, x):
            return model.decode(model.quantize.compand(model.encode(x)))

    return RoundTrip()


@lru_cache(maxsize=16)
def count(name: str, height: int, width: int) -> dict:
    """fvcore's MACs of the published configuration at the image's padded size (no weights needed). The
    wavelet packet transforms share one filter bank module each way (``wt``, ``iwt``)."""
    import torch

    model = architecture(PUBLISHED[name]).eval()
    unit = _unit(model)
    padded = [-(-side // unit) * unit for side in (height, width)]
    parts = {
        "encoder": ("codec.wt", "codec.encoder_blocks", "codec.conv_down"),
        "decoder": ("codec.conv_up", "codec.decoder_blocks", "codec.iwt"),
    }
    from tft.wavelet import AFB2D, SFB2D

    with torch.no_grad(), complexity.functions_inlined(AFB2D, SFB2D):  # the wavelet filter banks
        return complexity.count_at_size(
            _round_trip(model), lambda h, w: (torch.zeros(1, 3, h, w),), parts, *padded, unit, height * width
        )


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"torch": version("torch")}  # the packages of ``requires`` are listed with them


TRANSFORMS = [
    Transform(
        name="liveaction",
        analysis=analysis,
        synthesis=synthesis,
        shapes=shapes,
        qualities=CHECKPOINTS,
        default_coder="jpegls",
        quality_label="",
        description="LiVeAction (Jacobellis and Yadwadkar 2026), checkpoint rgb_f16c12_ft: wavelet packet (F = 16), "
        "factorised encoder blocks to 12 channels of 8-bit integers, an EfficientViT decoder",
        requires=("torchvision", "livecodec", "tft", "timm"),
        weights=lambda quality: (checkpoint(quality),),
        versions=versions,
        complexity=count,
    )
]
