"""Device check set-up: the tests' seeded random weights (tests/generated_weights.py) for Inception-v3 (torch-fidelity), WaLLoC and
LiVeAction, in the caches codecbench reads ($TORCH_HOME, $HF_HOME); prints the Inception file's name."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path.cwd() / "tests"), str(Path.cwd())]
from pytest_codecbench import import_adapter, import_torchvision  # noqa: E402
from pytest_codecbench.kits import weights  # noqa: E402

import_torchvision()
from generated_weights import generated_inception, wavelet_checkpoints  # noqa: E402

wavelet_checkpoints(*(import_adapter(Path(f"codecs/transforms/{name}.py")) for name in ("walloc", "liveaction")))
print(generated_inception(weights.hub_dir()).name)
