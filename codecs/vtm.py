"""VTM, the VVC reference software (JVET's VVCSoftware_VTM), all-intra: the anchor of "BD-rate
vs VTM" in learned-compression papers. One intra frame, 4:4:4, with the all-intra configuration
(``encoder_intra_vtm.cfg``) of the VTM it runs; single-threaded, as VTM is.

- ``vtm``: RGB → 10-bit BT.709 full-range Y'CbCr (``pytest_codecbench.kits.ycbcr``, rounded, as
  the FFmpeg anchors), decoded at 10 bits and converted back (rounded).
- ``vtm-compressai``: CompressAI's current recipe (``compressai/utils/bench/codecs.py``, class
  VTM), with its own ``rgb2ycbcr``/``ycbcr2rgb``: 8-bit Y'CbCr truncated (``astype``, not
  rounded), ``--InputBitDepth=8``, decoded with ``-d 8``, RGB truncated. Its published
  ``results/image/kodak/vtm.json`` has the same rates but up to 0.24 dB more PSNR: it was made
  with the Y'CbCr rounded (checked with VTM 9.1 in results/README.md).

The bitstream is a 4-byte header (width, height: uint16, as the FFmpeg anchors') and VTM's
stream, all counted in bpp. QP 12–47 in steps of 5 (CompressAI's eight points; 22–37 are the
common test conditions' QPs).

Set-up: build VTM (``cmake -DCMAKE_BUILD_TYPE=Release`` and ``make EncoderApp DecoderApp`` in a
checkout of a VTM tag), then ``--tool vtm=FOLDER``: the folder holding EncoderApp(Static) and
DecoderApp(Static) (the source tree's ``bin/``); ``encoder_intra_vtm.cfg`` is taken from that
folder or the tree's ``cfg/``. The JSON records VTM's version, the cfg's SHA-256 and the options.
"""

import os
import struct
import tempfile
from functools import cache, partial
from pathlib import Path

import numpy as np

from pytest_codecbench import Codec, command_line, import_quietly, stage, ycbcr

HEADER = struct.Struct(">HH")
CFG = "encoder_intra_vtm.cfg"
HOW = "build VTM from https://vcgit.hhi.fraunhofer.de/jvet/VVCSoftware_VTM (make EncoderApp DecoderApp)"
ENCODER = command_line.Tool("vtm", ("EncoderAppStatic", "EncoderApp"), HOW)
DECODER = command_line.Tool("vtm", ("DecoderAppStatic", "DecoderApp"), HOW)
QPS = (12, 17, 22, 27, 32, 37, 42, 47)
VERSION = r"VTM (?:En|De)coder Version (\S+)"  # the first line of --help: "VVCSoftware: VTM Encoder Version 23.13 […]"


def cfg() -> Path | None:
    """The all-intra configuration beside the encoder, or in the source tree's cfg/."""
    encoder = ENCODER.path()
    places = (encoder.parent, encoder.parent.parent / "cfg") if encoder else ()
    return next((place / CFG for place in places if (place / CFG).is_file()), None)


def missing() -> str | None:
    why = ENCODER.missing() or DECODER.missing()
    if why is None and cfg() is None:
        why = f"{CFG} is neither beside {ENCODER.path()} nor in ../cfg: copy it from VTM's cfg/ folder"
    return why


@cache
def versions() -> dict[str, str]:
    return {
        "vtm-encoder": ENCODER.version(["--help"], VERSION),
        "vtm-decoder": DECODER.version(["--help"], VERSION),
        "cfg": f"{CFG} sha256:{command_line.file_sha256(cfg())}",
    }


def startup() -> dict[str, float]:
    """What starting each program costs (``--help``), in every encode and decode's time."""
    return {
        f"vtm_{part}_startup_ms": command_line.startup_ms((str(tool.path()), "--help"))
        for part, tool in (("encoder", ENCODER), ("decoder", DECODER))
    }


def ten_bit_planes(image: np.ndarray) -> bytes:
    return ycbcr.to_raw(image, 10, "444")


def ten_bit_rgb(raw: bytes, height: int, width: int) -> np.ndarray:
    return ycbcr.from_raw(raw, 10, height, width, "444")


def compressai_planes(image: np.ndarray) -> bytes:
    import torch

    rgb = torch.from_numpy(image.transpose(2, 0, 1).copy()).float() / 255
    converted = import_quietly("compressai.transforms.functional").rgb2ycbcr(rgb)
    return (np.clip(converted.numpy(), 0, 1) * 255).astype(np.uint8).tobytes()


def compressai_rgb(raw: bytes, height: int, width: int) -> np.ndarray:
    import torch

    planes = np.frombuffer(raw, np.uint8).reshape(3, height, width).astype(np.float32) / 255
    rgb = import_quietly("compressai.transforms.functional").ycbcr2rgb(torch.from_numpy(planes)).numpy()
    return (rgb.clip(0, 1).transpose(1, 2, 0) * 255.0).astype(np.uint8)


RECIPES = {
    "vtm": {
        "bits": 10,
        "to_yuv": ten_bit_planes,
        "to_rgb": ten_bit_rgb,
        "options": [
            "--InputChromaFormat=444",
            "--ChromaFormatIDC=444",
            "--InputBitDepth=10",
            "--ConformanceWindowMode=1",
        ],
        "about": "10-bit BT.709 full-range Y'CbCr, rounded",
        "requires": (),
    },
    "vtm-compressai": {
        "bits": 8,
        "to_yuv": compressai_planes,
        "to_rgb": compressai_rgb,
        "options": ["--InputChromaFormat=444", "--InputBitDepth=8", "--ConformanceWindowMode=1"],
        "about": "CompressAI's recipe: 8-bit BT.709 full-range Y'CbCr, truncated",
        "requires": ("torchvision", "compressai"),  # torchvision first: see kits/torch_compat.py
    },
}


def encode(recipe: dict, image: np.ndarray, qp: int) -> bytes:
    height, width = image.shape[:2]
    if max(height, width) > 0xFFFF:
        raise ValueError(f"{width}x{height}: the header holds sizes up to 65535")
    with tempfile.TemporaryDirectory(prefix="codecbench-vtm-") as folder:
        raw, stream = Path(folder, "in.yuv"), Path(folder, "out.bin")
        with stage("to-yuv"):
            raw.write_bytes(recipe["to_yuv"](image))
        with stage("vtm"):
            ENCODER.run(
                ["-c", cfg(), "-i", raw, "-b", stream, "-o", os.devnull, "-q", qp, "-wdt", width, "-hgt", height]
                + ["-fr", 1, "-f", 1, *recipe["options"]]
            )
        return HEADER.pack(width, height) + stream.read_bytes()


def decode(recipe: dict, data: bytes) -> np.ndarray:
    width, height = HEADER.unpack_from(data)
    with tempfile.TemporaryDirectory(prefix="codecbench-vtm-") as folder:
        stream, out = Path(folder, "in.bin"), Path(folder, "out.yuv")
        stream.write_bytes(data[HEADER.size :])
        with stage("vtm"):
            DECODER.run(["-b", stream, "-o", out, "-d", recipe["bits"]])
        raw = out.read_bytes()
    size = 3 * height * width * (2 if recipe["bits"] > 8 else 1)
    if len(raw) != size:
        raise command_line.ToolError(f"VTM's decoder wrote {len(raw)} bytes, not the {size} of {width}x{height} 4:4:4")
    with stage("to-rgb"):
        return recipe["to_rgb"](raw, height, width)


CODECS = [
    Codec(
        name,
        partial(encode, recipe),
        partial(decode, recipe),
        qualities=QPS,
        quality_label="qp",
        quality_range=(0, 63),
        integer=True,
        warm_up=False,  # every run starts VTM afresh; one takes minutes
        requires=recipe["requires"],
        unavailable=missing,
        versions=versions,
        estimate=lambda image, quality: startup(),
        family="vtm",
        description=f"VTM all-intra ({CFG}), one 4:4:4 frame, {recipe['about']}; EncoderApp -c {CFG} "
        f"-q QP -wdt W -hgt H -fr 1 -f 1 {' '.join(recipe['options'])}; DecoderApp -d {recipe['bits']}",
    )
    for name, recipe in RECIPES.items()
]
