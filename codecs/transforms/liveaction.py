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
blocks, lightweight encoder, full decoder. Padding, header and planes: the ``latent_planes`` kit's.
"""

import types
from functools import lru_cache

import numpy as np

from pytest_codecbench import HubFile, LatentPlanes, Transform, import_torchvision, load_plain

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
    stored = load_plain(checkpoint(name).ensure())
    model = architecture(stored["config"])
    model.load_state_dict(stored["state_dict"])
    return model.eval().to(on)


PLANES = LatentPlanes(
    CHECKPOINTS,
    load,
    encode=lambda model, x: model.quantize.compand(model.encode(x)),
    decode=lambda model, latent: model.decode(latent),
    model_range=(-1, 1),
)


@lru_cache(maxsize=16)
def count(name: str, height: int, width: int) -> dict:
    """fvcore's MACs of the published configuration at the image's padded size (no weights needed). The
    wavelet packet transforms share one filter bank module each way (``wt``, ``iwt``)."""
    from tft.wavelet import AFB2D, SFB2D  # the wavelet filter banks

    parts = {
        "encoder": ("codec.wt", "codec.encoder_blocks", "codec.conv_down"),
        "decoder": ("codec.conv_up", "codec.decoder_blocks", "codec.iwt"),
    }
    return PLANES.count(architecture(PUBLISHED[name]).eval(), height, width, parts, (AFB2D, SFB2D))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"torch": version("torch")}  # the packages of ``requires`` are listed with them


TRANSFORMS = [
    Transform(
        name="liveaction",
        analysis=PLANES.analysis,
        synthesis=PLANES.synthesis,
        shapes=PLANES.shapes,
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
