"""codecbench: image-codec rate–distortion and complexity sweeps as pytest sessions."""

__version__ = "0.1.0"

from .codec import Codec, Quality
from .metrics import Column, Metric
from .pillow_codec import pillow_codec
from .timing import stage

__all__ = ["Codec", "Column", "Metric", "Quality", "pillow_codec", "stage", "__version__"]
