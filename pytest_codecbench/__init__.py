"""codecbench: image-codec rate–distortion and complexity sweeps as pytest sessions.

This module is the adapter API: everything a codec adapter (``codecs/*.py``, or a package's
``codecbench.codecs`` entry point) may import, and only that. The rest of the package is the
plugin's own: ``plugin/`` (pytest), ``measure/`` (one item's measurement and its record),
``metrics/``, ``kits/`` (what the names below come from), ``images.py`` and ``report/``.
"""

__version__ = "0.1.0"

from .codec import Codec, Quality, import_adapter, module_versions
from .images import embedded, load_rgb
from .kits import adaptive, command_line, complexity, compressai_models, ffmpeg, ycbcr
from .kits.latent_planes import LatentPlanes, load_plain
from .kits.pillow import pillow_codec
from .kits.torch_compat import import_quietly, import_torchvision
from .kits.torch_models import device, split_stage, synchronizer, to_image, to_tensor
from .kits.transform_coding import (
    Categorical,
    EntropyCoder,
    Gaussian,
    Transform,
    combine,
    model_groups,
    pack_table,
    read_varints,
    unpack_table,
    unzigzag,
    varints,
    zigzag,
)
from .kits.weights import Checkpoint, HubFile, ZenodoFile, hf_cache
from .measure.timing import stage
from .metrics import Column, Metric

__all__ = [
    "Categorical",
    "Checkpoint",
    "Codec",
    "Column",
    "EntropyCoder",
    "Gaussian",
    "HubFile",
    "LatentPlanes",
    "Metric",
    "Quality",
    "Transform",
    "ZenodoFile",
    "__version__",
    "adaptive",
    "combine",
    "command_line",
    "complexity",
    "compressai_models",
    "device",
    "embedded",
    "ffmpeg",
    "hf_cache",
    "import_adapter",
    "import_quietly",
    "import_torchvision",
    "load_plain",
    "load_rgb",
    "model_groups",
    "module_versions",
    "pack_table",
    "pillow_codec",
    "read_varints",
    "split_stage",
    "stage",
    "synchronizer",
    "to_image",
    "to_tensor",
    "unpack_table",
    "unzigzag",
    "varints",
    "ycbcr",
    "zigzag",
]
