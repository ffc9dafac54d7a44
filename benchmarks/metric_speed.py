"""Seconds per 768×512 image for each metric on this machine.

    python benchmarks/metric_speed.py [--device cpu|cuda] [--threads 1] [--repeat 3]

For each metric: the first pair of an image (reference features computed too) and
later pairs of the same image (LPIPS and DISTS reuse the reference's features, as a
sweep does for every codec and quality of an image). Kodak kodim01..03 against JPEG
q30, or generated images when no Kodak copy is beside the repo.
"""

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pytest_codecbench import metrics, process

KODAK = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kodak"


def pairs():
    for index in (1, 2, 3):
        path = KODAK / f"kodim{index:02d}.png"
        if path.exists():
            reference = np.asarray(Image.open(path).convert("RGB"))
        else:
            reference = np.random.default_rng(index).integers(0, 256, (512, 768, 3), dtype=np.uint8)
        out = io.BytesIO()
        Image.fromarray(reference).save(out, format="JPEG", quality=30)
        yield reference, np.asarray(Image.open(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a sweep uses 1 per process)")
    args = parser.parse_args()
    process.prepare_torch(threads=args.threads, on=args.device)
    images = list(pairs())
    print(f"{args.threads} torch thread(s) of {os.cpu_count()} cores, device {args.device}; seconds per 768×512 image")
    print(f"{'metric':12s} {'first pair':>10s} {'same image':>10s}")
    for metric in metrics.available().values():
        metric.compute(*images[0])  # loads the model
        first, again = [], []
        for reference, decoded in images[1:]:
            start = time.perf_counter()
            metric.compute(reference, decoded)
            first.append(time.perf_counter() - start)
            for _ in range(args.repeat):
                start = time.perf_counter()
                metric.compute(reference, decoded)
                again.append(time.perf_counter() - start)
        print(f"{metric.name:12s} {np.median(first):10.3f} {np.median(again):10.3f}")


if __name__ == "__main__":
    main()
