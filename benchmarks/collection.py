"""Collection speed: time ``pytest --collect-only`` of a 10,000-item sweep (target < 5 s).

    python benchmarks/collection.py [--items 10000]

100 tiny images × 100 JPEG qualities; images are only listed at collection, not decoded.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def tiny_sweep(items: int) -> list[str]:
    """The pytest command of a sweep of ``items`` items: 8×8 images (made in a temporary folder) × 100 JPEG
    qualities."""
    qualities = 100
    folder = Path(tempfile.mkdtemp(prefix="codecbench-collect-"))
    for i in range(items // qualities):
        Image.fromarray(np.full((8, 8, 3), i % 256, np.uint8)).save(folder / f"im{i:05d}.png")
    return [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks/test_rd.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "--codecs=jpeg",
        f"--qualities={','.join(str(q) for q in range(1, qualities + 1))}",
        f"--dataset={folder}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    start = time.perf_counter()
    command = tiny_sweep(args.items) + ["--collect-only"]
    out = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - start
    collected = sum("::test_rd[" in line for line in out.splitlines())
    print(f"collected {collected} items in {elapsed:.2f} s (whole pytest process; target < 5 s)")


if __name__ == "__main__":
    main()
