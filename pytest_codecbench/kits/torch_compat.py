"""Make ``import torchvision`` work where its compiled ops do not load.

PyPI has no CPU build of torchvision: next to the CPU torch this project installs,
torchvision's C++ extension fails to load and ``import torchvision`` then dies with
"operator torchvision::nms does not exist" (pytorch/pytorch#122494), which breaks
piq, compressai and lpips at import time. Only the detection ops (nms, qnms) are
registered unconditionally, so declaring their schemas lets the pure-Python parts
(models, transforms) import; calling nms itself still fails loudly. Where
torchvision imports normally nothing is changed.
"""

import importlib
import sys
import warnings

_MISSING_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library = None  # keeps the op declarations alive for the process


def import_quietly(name: str):
    """Import a module (torchvision as below) without torch's DeprecationWarning for
    ``torch.jit.script``, which fvcore.nn and torch_geometric (imported by compressai) call at
    import time, nor setuptools' for ``pkg_resources``, which pytorch_wavelets (imported by walloc)
    imports: they are not the user's business."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        return import_torchvision() if name == "torchvision" else importlib.import_module(name)


def import_torchvision():
    """Import torchvision, declaring its detection ops first if they are missing."""
    global _library
    try:
        import torchvision
    except RuntimeError as error:
        if "torchvision::" not in str(error) or _library is not None:
            raise
        import torch

        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        _library = torch.library.Library("torchvision", "DEF")
        for schema in _MISSING_OPS:
            _library.define(schema)
        import torchvision
    return torchvision
