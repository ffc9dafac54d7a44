"""Weights made here for the tests (and the device check in results/gpu-h200/): seeded random checkpoints,
laid out in the caches where codecbench finds downloaded ones. No test dependency beyond the package's."""

import hashlib
import io
import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from pytest_codecbench.kits import weights


def saved(value) -> bytes:
    """``torch.save`` of ``value``, as bytes."""
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def in_hub_cache(repo: str, files: dict[str, bytes]) -> None:
    """Files of a Hub repository in the Hugging Face cache as huggingface_hub lays them out: blobs named by
    their SHA-256, snapshot links, and the main branch's ref naming the commit."""
    folder = weights.hf_cache() / f"models--{repo.replace('/', '--')}"
    commit = hashlib.sha1(repo.encode()).hexdigest()
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    for name, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(exist_ok=True)
        blob.write_bytes(data)
        (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (folder / "snapshots" / commit / name).symlink_to(blob)


def generated_inception(folder: Path) -> Path:
    """torch-fidelity's Inception-v3 with seeded random weights (convolutions scaled so that features do
    not vanish), saved in ``folder`` under a name carrying its own hash, as a download would be."""
    import torch
    from torch_fidelity import feature_extractor_inceptionv3 as inception

    with (
        mock.patch.object(inception, "load_state_dict_from_url", return_value=None),
        mock.patch.object(inception.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None),
    ):
        torch.manual_seed(0)
        model = inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.mul_(6**0.5)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "scratch")
    name = f"weights-inception-generated-{hashlib.sha256((folder / 'scratch').read_bytes()).hexdigest()[:8]}.pth"
    (folder / "scratch").rename(folder / name)
    return folder / name


def wavelet_checkpoints(walloc, liveaction) -> None:
    """Seeded random checkpoints of WaLLoC's and LiVeAction's published configurations in the Hub cache
    (configuration and weights, as the Hub serves them); ``walloc``, ``liveaction``: their adapters."""
    import torch

    torch.manual_seed(3)
    config = walloc.PUBLISHED["RGB_16x"]
    state = {"model_state_dict": walloc.architecture(config).state_dict(), "config": SimpleNamespace(**config)}
    in_hub_cache("danjacobellis/walloc", {"RGB_16x.json": json.dumps(config).encode(), "RGB_16x.pth": saved(state)})
    config = liveaction.PUBLISHED["rgb_f16c12_ft"]
    state = {"config": config, "state_dict": liveaction.architecture(config).state_dict()}
    in_hub_cache("danjacobellis/autocodec", {"rgb_f16c12_ft.pth": saved(state)})
