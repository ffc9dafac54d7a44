"""codecbench against CompressAI's own benchmark on the same work, in one run.

    python benchmarks/vs_compressai.py [--dataset DIR] [--jobs 2] [--qualities 10,20,...,90]

The work: JPEG and WebP (Pillow, WebP method 4 on both sides) at each quality on every image
of DIR (default: the Kodak copy beside the repo, else the embedded default photographs), PSNR
and MS-SSIM, in --jobs processes. Each command runs as a fresh process, so imports count:

  1. ``python -m compressai.utils.bench jpeg DIR -q Q -j N``, then ``webp`` (one encode and
     one decode per item, its own PSNR and MS-SSIM by pytorch-msssim);
  2. ``pytest benchmarks -n N`` with one timed round per item (``--benchmark-max-time=0
     --benchmark-min-rounds=1``; codecbench adds its warm-up run) — the equal work;
  3. the same with the repository's timing defaults (rounds until the median is known to
     ±2.5 % or 0.5 s is spent) — what a user runs.

Prints the wall times and ratios; the target is run 2 / run 1 <= 0.5. Not a pytest test:
timings on a shared machine are only compared within one run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
KODAK = REPO.parent / "shared" / "datasets" / "kodak"
# CompressAI imports torchvision, which needs codecbench's fix next to a CPU-only torch
# (pytest_codecbench/torch_compat.py); then its bench runs as `python -m` would run it.
COMPRESSAI_BENCH = (
    "import runpy, sys; from pytest_codecbench import import_torchvision; import_torchvision(); "
    "sys.argv[0] = 'compressai.utils.bench'; "
    "runpy.run_module('compressai.utils.bench', run_name='__main__', alter_sys=True)"
)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def default_dataset(folder: Path) -> Path:
    if KODAK.is_dir():
        return KODAK
    from pytest_codecbench import images

    for ref in images.embedded().images:  # written as PNG: CompressAI's bench reads files
        Image.fromarray(images.load_rgb(ref.path)).save(folder / f"{ref.name}.png")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--qualities", default=",".join(str(q) for q in range(10, 100, 10)))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset or default_dataset(Path(tmp))
        count = len(list(dataset.glob("*.png")))
        print(f"JPEG and WebP at q={args.qualities} on {count} images of {dataset}, PSNR and MS-SSIM, {args.jobs} jobs")
        bench = [sys.executable, "-c", COMPRESSAI_BENCH]
        options = [str(dataset), "-q", args.qualities, "-j", str(args.jobs)]
        compressai = timed([*bench, "jpeg", *options]) + timed([*bench, "webp", *options])
        sweep = [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks/test_rd.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--codecs=jpeg,webp",
            f"--qualities={args.qualities}",
            "--metrics=psnr,ms-ssim",
            f"--dataset={dataset}",
            "--crop=none",
            f"--records={tmp}/records",
            "-n",
            str(args.jobs),
        ]
        equal = timed([*sweep, "--benchmark-max-time=0", "--benchmark-min-rounds=1", f"--benchmark-json={tmp}/1.json"])
        defaults = timed([*sweep, f"--benchmark-json={tmp}/2.json"])
    print(f"CompressAI's bench (jpeg + webp)        {compressai:7.1f} s")
    print(f"codecbench, one timed round per item    {equal:7.1f} s  ({equal / compressai:.2f}×, target <= 0.5×)")
    print(f"codecbench, its timing defaults         {defaults:7.1f} s  ({defaults / compressai:.2f}×)")


if __name__ == "__main__":
    main()
