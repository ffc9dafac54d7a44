"""CompressAI's pretrained image models for adapters (the zoo's codecs, their latents as transforms):
loading without running code from the checkpoint, the zoo's padding, weights and versions."""

from __future__ import annotations

from functools import lru_cache

from .torch_compat import import_quietly, import_torchvision
from .torch_models import to_tensor
from .weights import Checkpoint

# architecture -> (qualities with pretrained weights for both metrics, description);
# a test checks these grids against compressai.zoo.image.model_urls.
ARCHITECTURES = {
    "bmshj2018-factorized": (8, "Ballé et al. 2018, factorized prior"),
    "bmshj2018-hyperprior": (8, "Ballé et al. 2018, scale hyperprior"),
    "mbt2018-mean": (8, "Minnen et al. 2018, mean-scale hyperprior"),
    "mbt2018": (8, "Minnen et al. 2018, joint autoregressive and hierarchical priors"),
    "cheng2020-anchor": (6, "Cheng et al. 2020, anchor (residual blocks, autoregressive context)"),
    "cheng2020-attn": (6, "Cheng et al. 2020, with attention modules"),
}
PAD = 64  # six stride-2 stages: images are padded to a multiple of 64, as CompressAI's evaluation does


def zoo():
    import_torchvision()  # compressai imports torchvision; see torch_compat
    return import_quietly("compressai.zoo")


def weights(architecture: str, metric: str, quality: int) -> tuple[Checkpoint, ...]:
    return (Checkpoint(zoo().image.model_urls[architecture][metric][quality]),)


@lru_cache(maxsize=2)  # items run quality by quality: keep the current model, not the whole zoo
def model(architecture: str, metric: str, quality: int, on: str):
    """The zoo's pretrained model, loaded as ``compressai.zoo``'s ``_load_model`` does, but from a state dict
    unpickled without running code (the zoo's own torch.hub call unpickles with weights_only=False)."""
    (checkpoint,) = weights(architecture, metric, quality)
    state_dict = zoo().load_state_dict(checkpoint.load())  # the zoo's key renames
    return zoo().image.model_architectures[architecture].from_state_dict(state_dict).eval().to(on)


def padding(height: int, width: int):
    """(pad, unpad), as ``F.pad`` takes them: centred zeros up to a multiple of PAD."""
    from compressai.ops import compute_padding

    return compute_padding(height, width, min_div=PAD)


def padded(image, on: str):
    import torch.nn.functional as F

    return F.pad(to_tensor(image, on), padding(*image.shape[:2])[0], mode="constant", value=0)


def versions() -> dict[str, str]:
    import compressai
    import torch

    coder = compressai.get_entropy_coder()
    return {"compressai": compressai.__version__, "entropy coder": coder, "torch": str(torch.__version__)}
