"""Learned transforms whose latents are integer planes at 1/2^J of the image's size, one per channel (WaLLoC,
LiVeAction): what their adapters share. Each gives how its checkpoint loads, its model's own encode and
decode calls and the range its model sees; this makes the transform's analysis, shapes and synthesis
and its MAC count.

The image is padded by reflection to a multiple of 2^J and cropped after decoding. Header: height, width
(uint16 each) and the checkpoint (uint8, its index among the transform's qualities).
"""

from __future__ import annotations

import struct
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import complexity
from .torch_models import device, to_image, to_tensor

HEADER = struct.Struct(">HHB")


def load_plain(path: Path) -> dict:
    """A checkpoint unpickled by ``torch.load(weights_only=True)`` admitting plain namespaces too (their
    configurations): no code from the file runs; one that needs more is refused, naming it."""
    import torch

    try:
        with torch.serialization.safe_globals([types.SimpleNamespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle holding more than tensors, plain types and namespaces: not unpickled
        raise ValueError(f"{path} does not load with torch.load(weights_only=True): {error}") from error


@dataclass(frozen=True)
class LatentPlanes:
    checkpoints: tuple[str, ...]  # the transform's qualities
    load: Callable[[str, str], object]  # (checkpoint, device) -> the model, in eval mode, with J and latent_dim
    encode: Callable  # (model, x) -> latents, rounded here; x: 1×3×H×W in ``model_range``
    decode: Callable  # (model, latents) -> 1×3×H×W in ``model_range`` (clamped here)
    model_range: tuple[float, float]  # the RGB range the model is fed, e.g. (-1, 1)

    def _to_model(self, x):
        low, high = self.model_range
        return x * (high - low) + low

    def _from_model(self, y):
        low, high = self.model_range
        return (y.clamp(low, high) - low) / (high - low)

    def analysis(self, image: np.ndarray, name: str) -> tuple[bytes, list[np.ndarray]]:
        import torch
        import torch.nn.functional as F

        height, width = image.shape[:2]
        on = device()
        model = self.load(name, on)
        unit = 2**model.J
        x = F.pad(self._to_model(to_tensor(image, on)), (0, -width % unit, 0, -height % unit), mode="reflect")
        with torch.no_grad():
            latent = self.encode(model, x)[0]
        header = HEADER.pack(height, width, self.checkpoints.index(name))
        return header, list(latent.round().to(torch.int32).cpu().numpy())

    def _header(self, header: bytes):
        height, width, index = HEADER.unpack(header)
        name = self.checkpoints[index]
        return name, height, width, self.load(name, device())

    def shapes(self, header: bytes) -> list[tuple[int, int]]:
        _, height, width, model = self._header(header)
        unit = 2**model.J
        return [(-(-height // unit), -(-width // unit))] * model.latent_dim

    def synthesis(self, header: bytes, planes: list[np.ndarray]) -> np.ndarray:
        import torch

        _, height, width, model = self._header(header)
        latent = torch.from_numpy(np.stack(planes).astype(np.float32))[None].to(device())
        with torch.no_grad():
            y = self.decode(model, latent)
        return to_image(self._from_model(y[:, :, :height, :width]))

    def count(self, model, height: int, width: int, parts: dict[str, tuple[str, ...]], functions=()) -> dict:
        """fvcore's MACs of ``model`` (built from a published configuration: no weights needed), its encode
        and decode as one module whose submodule ``codec`` is the model (``parts`` name its modules under
        it), at the image's padded size; ``functions``: autograd Functions it runs, counted inlined."""
        import torch
        from torch import nn

        encode, decode = self.encode, self.decode

        class RoundTrip(nn.Module):
            def __init__(self):
                super().__init__()
                self.codec = model

            def forward(self, x):
                return decode(model, encode(model, x))

        unit = 2**model.J
        padded = [-(-side // unit) * unit for side in (height, width)]
        with torch.no_grad(), complexity.functions_inlined(*functions):
            return complexity.count_at_size(
                RoundTrip(), lambda h, w: (torch.zeros(1, 3, h, w),), parts, *padded, unit, height * width
            )
