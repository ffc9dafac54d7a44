"""The token grids of diffusers' VQ autoencoders (codecs/diffusers_vq.py) as transforms: one plane of
codebook indices, so every entropy coder can be set against the adaptive one those codecs use."""

from pathlib import Path

from pytest_codecbench import import_adapter

TRANSFORMS = import_adapter(Path(__file__).parents[1] / "diffusers_vq.py").TRANSFORMS
