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
latents (its training notebook, docs/_sources/train_rgb.ipynb). Padding, header and planes: the
``latent_planes`` kit's.
"""

import json
from functools import lru_cache

from pytest_codecbench import HubFile, LatentPlanes, Transform, import_quietly, import_torchvision, load_plain

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
    config_file, weights_file = files(name)
    model = architecture(json.loads(config_file.ensure().read_text()))
    model.load_state_dict(load_plain(weights_file.ensure())["model_state_dict"])
    return model.eval().to(on)


PLANES = LatentPlanes(
    CHECKPOINTS,
    load,
    encode=lambda model, x: model.encoder(model.wavelet_analysis(x, J=model.J)),
    decode=lambda model, latent: model.wavelet_synthesis(model.decoder(latent), J=model.J),
    model_range=(-0.5, 0.5),
)


@lru_cache(maxsize=16)
def count(name: str, height: int, width: int) -> dict:
    """fvcore's MACs of the published configuration at the image's padded size (no weights needed)."""
    from pytorch_wavelets.dwt.lowlevel import AFB2D, SFB2D  # the wavelet filter banks

    parts = {"encoder": ("codec.wt", "codec.encoder"), "decoder": ("codec.decoder", "codec.iwt")}
    return PLANES.count(architecture(PUBLISHED[name]).eval(), height, width, parts, (AFB2D, SFB2D))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"torch": version("torch")}  # the packages of ``requires`` are listed with them


TRANSFORMS = [
    Transform(
        name="walloc",
        analysis=PLANES.analysis,
        synthesis=PLANES.synthesis,
        shapes=PLANES.shapes,
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
