"""VMAF through FFmpeg's libvmaf filter (the FFmpeg the codecs use; see kits/ffmpeg.py).

Both images go in as 8-bit 4:4:4 Y'CbCr (BT.709 full range, ``ycbcr.planes``), as JPEG AI feeds
VMAF 4:4:4 input, one frame each; models vmaf_v0.6.1 and vmaf_v0.6.1neg, one thread. One frame
has no motion, so an exact copy scores about 97.4, not 100. libvmaf's version (its commit, as it
reports it) is in the JSON's metric versions.

FFmpeg runs through ``subprocess`` rather than the command-line kit: its peak memory belongs to
the metric, not to the codec's child processes that the kit records.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from ..kits import ffmpeg, ycbcr
from . import Column, Metric, MetricError

MODELS = "'version=vmaf_v0.6.1\\:name=vmaf|version=vmaf_v0.6.1neg\\:name=vmaf_neg'"


def _raw(image: np.ndarray) -> bytes:
    return b"".join(plane.astype(np.uint8).tobytes() for plane in ycbcr.planes(image, 8, "444"))


def _run(reference: np.ndarray, decoded: np.ndarray) -> dict:
    """libvmaf's JSON log of one distorted (first input) and reference (second) frame."""
    height, width = reference.shape[:2]
    with tempfile.TemporaryDirectory(prefix="codecbench-vmaf-") as folder:
        command = [str(ffmpeg.executable()), "-hide_banner", "-nostats", "-loglevel", "error"]
        for name, image in (("decoded", decoded), ("reference", reference)):
            path = Path(folder, f"{name}.yuv")
            path.write_bytes(_raw(image))
            command += ["-f", "rawvideo", "-pix_fmt", "yuv444p", "-s", f"{width}x{height}", "-i", str(path)]
        log = Path(folder, "vmaf.json")
        graph = f"[0:v][1:v]libvmaf=model={MODELS}:log_fmt=json:log_path={log}:n_threads=1"
        done = subprocess.run([*command, "-lavfi", graph, "-f", "null", "-"], capture_output=True, text=True)
        if done.returncode or not log.is_file():
            raise MetricError(f"vmaf: FFmpeg's libvmaf failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return json.loads(log.read_text())


def _vmaf(reference: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    frame = _run(reference, decoded)["frames"][0]["metrics"]
    return {"vmaf": frame["vmaf"], "vmaf_neg": frame["vmaf_neg"]}


@cache
def libvmaf_version() -> str:
    image = np.zeros((64, 64, 3), np.uint8)
    return str(_run(image, image).get("version", "unknown"))


def ffmpeg_version() -> str:
    return ffmpeg.run(["-version"])[0].decode(errors="replace").split(" Copyright")[0]


def _check() -> None:
    if ffmpeg.executable() is None:
        raise MetricError(f"vmaf needs FFmpeg with libvmaf: {ffmpeg.INSTALL}")
    if "libvmaf" not in ffmpeg.listing("filters"):
        raise MetricError(f"vmaf: {ffmpeg.executable()} has no libvmaf filter (FFmpeg built with --enable-libvmaf)")


METRICS = [
    Metric(
        "vmaf",
        {
            "vmaf": Column("VMAF (libvmaf vmaf_v0.6.1, 4:4:4 8-bit BT.709, one frame)"),
            "vmaf_neg": Column("VMAF NEG (libvmaf vmaf_v0.6.1neg, same input)"),
        },
        _vmaf,
        default=False,
        check=_check,
        versions=lambda: {"ffmpeg": ffmpeg_version(), "libvmaf": libvmaf_version()},
        bytes_per_pixel=80,  # this process's (512² to 2048²): the 8-bit planes and their files; FFmpeg's own is apart
    ),
]
