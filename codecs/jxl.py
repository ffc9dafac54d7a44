"""JPEG XL through pillow-jxl-plugin (libjxl via jpegxl-rs): lossy VarDCT and lossless."""

import json
from importlib.metadata import distribution

from pytest_codecbench import pillow_codec


def versions():
    dist = distribution("pillow-jxl-plugin")
    sbom = json.loads(dist.read_text("sboms/pillow-jxl-plugin.cyclonedx.json") or "{}")
    libjxl = {c["name"]: c.get("version") for c in sbom.get("components", [])}.get("jpegxl-src", "unknown")
    return {"pillow-jxl-plugin": dist.version, "libjxl": libjxl}


CODECS = [
    pillow_codec(
        "jxl",
        "JXL",
        lambda q: {"quality": q, "effort": 7, "num_threads": 1},
        qualities=(10, 20, 30, 40, 50, 60, 70, 80, 90, 95),
        quality_range=(0, 100),
        integer=True,
        requires=("pillow_jxl",),
        versions=versions,
        description="libjxl lossy, effort 7, quality mapped to distance by libjxl",
    ),
    pillow_codec(
        "jxl-lossless",
        "JXL",
        lambda effort: {"lossless": True, "effort": effort, "num_threads": 1},
        qualities=(7,),
        quality_label="e",
        quality_range=(1, 9),
        integer=True,
        lossless=True,
        requires=("pillow_jxl",),
        versions=versions,
        description="libjxl lossless (modular); the knob is effort",
    ),
]
