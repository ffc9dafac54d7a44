"""WaLLoC (Jacobellis and Yadwadkar, "Learned Compression for Compressed Learning", 2024): a wavelet packet
transform of J levels exposes each (2^J)² patch's 3·4^J coefficients; a 1×1 convolution (the lightweight
encoder) projects them to ``latent_dim`` channels, squashed through a Gaussian CDF into ±127.5 and
rounded: 8-bit integer planes at 1/2^J of the image's size, which its paper codes losslessly as
images (PNG, WebP; JPEG-LS here by default). A diffusers KL decoder (one level, attention in its middle
block) maps them back to wavelet coefficients.

The package's own module (``walloc.walloc.Codec2D``, PyPI ``walloc``); the checkpoint ``RGB_16x`` of
the Hugging Face repository danjacobellis/walloc: its ``RGB_16x.json`` gives the constructor's arguments,
``RGB_16x.pth`` the weights (a dict with ``model_state_dict``), read with torch.load(weights_only=True)
(plain namespaces allowed, no code run). The repository's README loads the same files the same way,
feeds RGB in [-0.5, 0.5] and reads the latents as ``encoder(wavelet_analysis(x))``. Without weights,
MACs are counted on the published configuration: J = 3, 12 latent channels (the README's 16×
dimensionality reduction and its 12-channel latents), decoder width 768, lightweight encoder, 8-bit
latents (its training notebook, docs/_sources/train_rgb.ipynb). Images are padded by reflection to a
multiple of 2^J and cropped after decoding. Header: height, width (uint16 each), the checkpoint (uint8).
"""

import json
import struct
import types
from functools import lru_cache

import numpy as np

from pytest_codecbench import HubFile, Transform, complexity, device, import_quietly, import_torchvision

HEADER = struct.Struct(">HHB")  # height, width, the checkpoint (its index in CHECKPOINTS)
REPOSITORY = "danjacobellis/walloc"
CHECKPOINTS = ("RGB_16x",)
PUBLISHED = {  # RGB_16x.json, as the README and the training notebook give it (see above)
    "RGB_16x": {
        "channels": 3,
        "J": 3,
        "Ne": None,
        "Nd": 768,
        "latent_dim": 12,
        "latent_bits": 8,
        "lightweight_encode": True,
    }
}


def files(name: str) -> tuple[HubFile, HubFile]:
    """The checkpoint's configuration and weights (the repository's main branch: no commit is published)."""
    return HubFile(REPOSITORY, "main", f"{name}.json"), HubFile(REPOSITORY, "main", f"{name}.pth")


def architecture(config: dict):
    import_torchvision()  # walloc imports torchvision and diffusers; see pytest_codecbench.kits.torch_compat
    codec = import_quietly("walloc.walloc").Codec2D
    return codec(**{key: config[key] for key in PUBLISHED["RGB_16x"]})


@lru_cache(maxsize=2)
def load(name: str, on: str):
    import torch

    config_file, weights_file = files(name)
    config = json.loads(config_file.ensure().read_text())
    path = weights_file.ensure()
    try:
        with torch.serialization.safe_globals([types.SimpleNamespace]):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle holding more than tensors and plain types: not unpickled
        raise ValueError(f"{path} does not load with torch.load(weights_only=True): {error}") from error
    model = architecture(config)
    model.load_state_dict(checkpoint["model_state_dict"])
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
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float().div(255).sub(0.5).to(on)
    x = F.pad(x, (0, -width % unit, 0, -height % unit), mode="reflect")
    with torch.no_grad():
        latent = model.encoder(model.wavelet_analysis(x, J=model.J))[0]
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
        x = model.wavelet_synthesis(model.decoder(latent), J=model.J)
    x = model.clamp(x[:, :, :height, :width]) + 0.5
    return x[0].mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def _round_trip(model):
    """What the codec runs, as one module for fvcore: analysis and encoder, decoder and synthesis."""
    from torch import nn

    class RoundTrip(nn.Module):
        def __init__(self):
            super().__init__()
            self.codec = model

        def forward(self, x):
            latent = model.encoder(model.wavelet_analysis(x, J=model.J))
            return model.wavelet_synthesis(model.decoder(latent), J=model.J)

    return RoundTrip()


@lru_cache(maxsize=16)
def count(name: str, height: int, width: int) -> dict:
    """fvcore's MACs of the published configuration at the image's padded size (no weights needed)."""
    import torch

    model = architecture(PUBLISHED[name]).eval()
    unit = _unit(model)
    padded = [-(-side // unit) * unit for side in (height, width)]
    from pytorch_wavelets.dwt.lowlevel import AFB2D, SFB2D

    with torch.no_grad(), complexity.functions_inlined(AFB2D, SFB2D):  # the wavelet filter banks
        return complexity.count_at_size(
            _round_trip(model),
            lambda h, w: (torch.zeros(1, 3, h, w),),
            {"encoder": ("codec.wt", "codec.encoder"), "decoder": ("codec.decoder", "codec.iwt")},
            *padded,
            unit,
            height * width,
        )


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"torch": version("torch")}  # the packages of ``requires`` are listed with them


TRANSFORMS = [
    Transform(
        name="walloc",
        analysis=analysis,
        synthesis=synthesis,
        shapes=shapes,
        qualities=CHECKPOINTS,
        default_coder="jpegls",
        quality_label="",
        description="WaLLoC (Jacobellis and Yadwadkar 2024), checkpoint RGB_16x: wavelet packet (J = 3), "
        "a 1×1 convolution to 12 channels of 8-bit integers, a KL decoder",
        requires=("torchvision", "walloc", "pytorch_wavelets", "diffusers"),
        weights=files,
        versions=versions,
        complexity=count,
    )
]
