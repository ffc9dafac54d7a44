"""Seconds per 768×512 image for each metric on this machine.

    python benchmarks/metric_speed.py [--device cpu|cuda] [--threads 1] [--repeat 3] [--markdown FILE]

For each metric: the first pair of an image (reference features computed too) and
later pairs of the same image (SSIM, MS-SSIM, LPIPS, DISTS and SSIMULACRA 2 reuse the
reference's side, as a sweep does for every codec and quality of an image). Kodak
kodim01..03 against JPEG q30, or generated images when no Kodak copy is beside the repo.
Each metric's declared peak memory per pixel (``Metric.bytes_per_pixel``, measured) is
beside its times, with what it makes of a 768×512 image and of a 12 MP one (LPIPS and DISTS
work tile by tile there: their peak no longer grows). Metrics that
cannot run here (a package or FFmpeg's libvmaf missing) are listed with the reason.
Then piq's SSIM and MS-SSIM on the same pairs, and how many times faster ours are
(target: 3×).
"""

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pytest_codecbench import metrics
from pytest_codecbench.plugin import process

KODAK = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kodak"


def pairs():
    for index in (1, 2, 3):
        path = KODAK / f"kodim{index:02d}.png"
        if path.exists():
            reference = np.asarray(Image.open(path).convert("RGB"))
        else:
            reference = np.random.default_rng(index).integers(0, 256, (512, 768, 3), dtype=np.uint8)
        reference.setflags(write=False)  # as the sweep's references are
        out = io.BytesIO()
        Image.fromarray(reference).save(out, format="JPEG", quality=30)
        yield reference, np.asarray(Image.open(out))


def seconds(function, images, repeat: int) -> tuple[float, float]:
    """Median seconds of a first pair of each image and of later pairs of the same image."""
    function(*images[0])  # loads models, imports
    first, again = [], []
    for reference, decoded in images[1:]:
        start = time.perf_counter()
        function(reference, decoded)
        first.append(time.perf_counter() - start)
        for _ in range(repeat):
            start = time.perf_counter()
            function(reference, decoded)
            again.append(time.perf_counter() - start)
    return float(np.median(first)), float(np.median(again))


def piq_metrics():
    import piq
    import torch

    def tensor(image):
        return torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]

    return {
        "ssim": lambda x, y: piq.ssim(tensor(x), tensor(y), data_range=255.0),
        "ms-ssim": lambda x, y: piq.multi_scale_ssim(tensor(x), tensor(y), data_range=255.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a sweep uses 1 per process)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    process.prepare_torch(threads=args.threads, on=args.device)
    images = list(pairs())
    head = f"{args.threads} torch thread(s) of {os.cpu_count()} cores, device {args.device}; seconds per 768×512 image"
    lines = [
        "| metric | first pair (s) | same image (s) | bytes/pixel | MB at 768×512 | GB at 12 MP |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    print(head)
    print(lines[0])
    ours = {}
    for metric in metrics.available().values():
        try:
            if metric.check:
                metric.check()
        except metrics.MetricError as error:
            lines.append(f"| {metric.name} | not run: {error} | | | | |")
            print(lines[-1])
            continue
        # a set metric's work per item is its features (its value comes once per codec and quality)
        ours[metric.name] = seconds(metric.set_features or metric.compute, images, args.repeat)
        per_pixel = metric.bytes_per_pixel
        lines.append(
            f"| {metric.name} | {ours[metric.name][0]:.3f} | {ours[metric.name][1]:.3f} | {per_pixel:g} | "
            f"{metric.memory_bytes(768 * 512) / 2**20:.0f} | {metric.memory_bytes(12_000_000) / 2**30:.1f} |"
        )
        print(lines[-1])
    notes = []
    for name, function in piq_metrics().items():
        theirs = seconds(function, images, args.repeat)
        first, again = (t / o for t, o in zip(theirs, ours[name], strict=True))
        notes.append(f"piq {name}: {theirs[0]:.3f} s, {theirs[1]:.3f} s; ours {first:.1f}×, {again:.1f}× faster")
        print(notes[-1])
    if args.markdown:
        args.markdown.write_text("\n".join([head + ".", "", *lines, "", *(f"- {n}" for n in notes)]) + "\n")


if __name__ == "__main__":
    main()
