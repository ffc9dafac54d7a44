"""MCUCoder (Hojjat, Haberer and Landsiedel, DAGM-GCPR 2025; MIT licence): an asymmetric variable-rate
codec for microcontrollers. A 3-convolution encoder (about 10.5 thousand parameters) gives 12 latent
channels at 1/8 of the image's size, trained with stochastic channel dropout so that they come in
order of importance; quality k keeps the first k channels (p = k/12) and the decoder, attention and
residual bottleneck blocks of a width N chosen at training (196 in the code's example command,
7.2 million parameters; the paper's "about 3 million" is N = 126), sees the others as zeros. The
width is read from the checkpoint; the counts without weights are for N = 196.

Written here from the paper and its public code (github.com/ds-kiel/MCUCoder, mcucoder/model.py;
read, not copied): module names follow its checkpoint's, ``encoder.conv1`` … and ``decoder.dec.0`` ….
Native coding, as the paper's: each kept channel quantised on its own to 8 bits between its minimum
and maximum (a plane of integers 0 … 255), Huffman-coded (the default coder). Images are padded by
replication to a multiple of 8 and cropped after decoding; the model sees RGB in [0, 1].
Header: height, width (uint16 each), k (uint8), then each kept channel's minimum and maximum (float32).

Weights: the MS-SSIM checkpoint of Zenodo record 14988203, fetched into the codecbench cache and
checked against the record's MD5 (``weights.ZenodoFile``), loaded with ``torch.load(weights_only=True)``.
"""

import re
import struct
from functools import lru_cache

import numpy as np

from pytest_codecbench import Transform, ZenodoFile, complexity, device, import_torchvision, to_image, to_tensor

CHANNELS, WIDTH, UNIT = 12, 196, 8  # latent channels, the decoder's default width, the downsampling
HEADER = struct.Struct(">HHB")
RANGE = struct.Struct(">ff")
CHECKPOINT = ZenodoFile(
    14988203,
    "the MS-SSIM checkpoint",
    lambda name: bool(re.search(r"ms.?ssim", name, re.IGNORECASE)) and name.endswith((".ckpt", ".pt", ".pth")),
)


def architecture(width: int = WIDTH):
    """The model's modules under the checkpoint's names, randomly initialised; ``width``: the decoder's N."""
    import_torchvision()  # compressai imports torchvision; see pytest_codecbench.kits.torch_compat
    from compressai.layers import AttentionBlock, conv1x1, conv3x3
    from compressai.models.utils import deconv
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 7, stride=2, padding=3)
            self.conv2 = nn.Conv2d(16, 16, 5, stride=4, padding=1)
            self.conv3 = nn.Conv2d(16, CHANNELS, 3, stride=1, padding=1)

        def forward(self, x):
            return self.conv3(nn.functional.relu(self.conv2(nn.functional.relu(self.conv1(x)))))

    class Bottleneck(nn.Module):
        """1×1 down to half the channels, 3×3, 1×1 back up, plus the input (He et al. 2016)."""

        def __init__(self, channels: int):
            super().__init__()
            self.conv1, self.conv2 = conv1x1(channels, channels // 2), conv3x3(channels // 2, channels // 2)
            self.conv3 = conv1x1(channels // 2, channels)

        def forward(self, x):
            relu = nn.functional.relu
            return x + self.conv3(relu(self.conv2(relu(self.conv1(x)))))

    def stage(attention_first: bool) -> list:
        blocks = [Bottleneck(width) for _ in range(3)]
        return [AttentionBlock(width), *blocks] if attention_first else [*blocks, AttentionBlock(width)]

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = nn.Sequential(
                AttentionBlock(CHANNELS),
                deconv(CHANNELS, width, kernel_size=5, stride=2),
                *stage(False),
                *stage(False),
                *[Bottleneck(width) for _ in range(3)],
                deconv(width, width, kernel_size=5, stride=2),
                *stage(True),
                *stage(True),
                *stage(True),
                deconv(width, 3, kernel_size=5, stride=2),
            )

        def forward(self, x):
            return self.dec(x).sigmoid()

    class MCUCoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = Encoder(), Decoder()

        def forward(self, x):  # for fvcore: what the codec runs, with every channel kept
            return self.decoder(self.encoder(x))

    return MCUCoder()


@lru_cache(maxsize=1)
def load(on: str):
    import torch

    path = CHECKPOINT.ensure()
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle holding more than tensors and plain types: not unpickled
        raise ValueError(f"{path} does not load with torch.load(weights_only=True): {error}") from error
    state = checkpoint.get("state_dict", checkpoint)  # a Lightning checkpoint, or its state dict alone
    model = architecture(width=state["decoder.dec.1.weight"].shape[1])  # ConvTranspose2d: (in, out, k, k)
    model.load_state_dict({k: v for k, v in state.items() if k.startswith(("encoder.", "decoder."))})
    return model.eval().to(on)


def analysis(image, k: int):
    import torch
    import torch.nn.functional as F

    height, width = image.shape[:2]
    on = device()
    x = to_tensor(image, on)
    with torch.no_grad():
        latent = load(on).encoder(F.pad(x, (0, -width % UNIT, 0, -height % UNIT), mode="replicate"))[0, :k]
    low, high = latent.flatten(1).min(1).values, latent.flatten(1).max(1).values
    step = torch.where(high > low, (high - low) / 255, torch.ones_like(low))
    codes = ((latent - low[:, None, None]) / step[:, None, None]).round().int().cpu().numpy()
    ranges = b"".join(RANGE.pack(float(a), float(b)) for a, b in zip(low.tolist(), high.tolist(), strict=True))
    return HEADER.pack(height, width, k) + ranges, list(codes)


def _header(header: bytes) -> tuple[int, int, int, list[tuple[float, float]]]:
    height, width, k = HEADER.unpack_from(header)
    ranges = [RANGE.unpack_from(header, HEADER.size + i * RANGE.size) for i in range(k)]
    return height, width, k, ranges


def shapes(header: bytes) -> list[tuple[int, int]]:
    height, width, k, _ = _header(header)
    return [(-(-height // UNIT), -(-width // UNIT))] * k


def synthesis(header: bytes, planes: list[np.ndarray]):
    import torch

    height, width, k, ranges = _header(header)
    on = device()
    latent = torch.zeros(1, CHANNELS, *shapes(header)[0] if k else (1, 1), device=on)
    for channel, (plane, (low, high)) in enumerate(zip(planes, ranges, strict=True)):
        step = (high - low) / 255 if high > low else 1.0
        latent[0, channel] = torch.from_numpy(low + plane.astype(np.float32) * np.float32(step)).to(on)
    with torch.no_grad():
        return to_image(load(on).decoder(latent)[:, :, :height, :width])


def count(k: int, height: int, width: int) -> dict:
    """fvcore's MACs of the encoder and of the decoder at the image's padded size: the same for every k
    (the decoder runs on all 12 channels, zeros or not; complexity.count_at_size)."""
    return _count(height, width)


@lru_cache(maxsize=16)
def _count(height: int, width: int) -> dict:
    import torch

    padded = [-(-side // UNIT) * UNIT for side in (height, width)]
    with torch.no_grad():
        return complexity.count_at_size(
            architecture().eval(),
            lambda h, w: (torch.zeros(1, 3, h, w),),
            {"encoder": ("encoder",), "decoder": ("decoder",)},
            *padded,
            UNIT,
            height * width,
        )


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"torch": version("torch"), "compressai": version("compressai")}


TRANSFORMS = [
    Transform(
        name="mcucoder-msssim",
        analysis=analysis,
        synthesis=synthesis,
        shapes=shapes,
        qualities=(1, 2, 3, 4, 6, 8, 10, 12),
        default_coder="huffman",
        quality_label="k",
        quality_range=(1, CHANNELS),
        integer=True,
        description="MCUCoder (Hojjat et al. 2025), MS-SSIM weights: the first k of 12 latent channels, each "
        "quantised to 8 bits between its minimum and maximum",
        requires=("torchvision", "compressai"),
        weights=lambda k: (CHECKPOINT,),
        versions=versions,
        complexity=count,
    )
]
