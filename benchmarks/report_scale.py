"""The harness as a sweep grows to 100,000 items: ``codecbench report``, collection and a sweep's
controller, wall time and peak memory.

    python benchmarks/report_scale.py [--items 10000,50000,100000] [--sweep-items 10000,20000]
                                      [--source results/kodak-crop512.json.gz] [--markdown FILE]

Report: a JSON of N rate–distortion items is made from a real one (``--source``) by copying its
items onto more images (``kodim01-c2``, …: as a larger dataset would have them), then
``codecbench report FILE -o DIR`` runs in a child process; its wall time and its own peak
resident memory (its VmHWM, as ``command_line.run`` reads it: ``wait4``'s figure would include this
process's) are printed, with both per 10,000 items. Collection: ``pytest
--collect-only`` of N items (``benchmarks/collection.py``'s set-up: tiny images × JPEG qualities).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from collection import tiny_sweep

from pytest_codecbench.kits import command_line
from pytest_codecbench.measure.memory import Peak

REPO = Path(__file__).resolve().parents[1]


def grown(source: dict, items: int) -> dict:
    """``source`` with its rate–distortion items copied onto new image names until there are ``items``."""
    rd = [b for b in source["benchmarks"] if b["name"].startswith("test_rd[")]
    copies = []
    for index in range(items):
        bench, copy = rd[index % len(rd)], index // len(rd)
        image = bench["params"]["image"] + (f"-c{copy}" if copy else "")
        param = bench["param"].removesuffix(bench["params"]["image"]) + image
        copies.append(
            {
                **bench,
                "name": f"test_rd[{param}]",
                "fullname": bench["fullname"].split("[")[0] + f"[{param}]",
                "param": param,
                "params": {**bench["params"], "image": image},
            }
        )
    return {**source, "benchmarks": copies}


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's own peak resident MB (run from the repository's root)."""
    start = time.perf_counter()
    with Peak() as peak:
        command_line.run(command)
    return time.perf_counter() - start, peak.result()["child_process_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", default="10000,50000,100000")
    parser.add_argument("--sweep-items", default="10000,20000", help="sizes of the measured sweeps ('' for none)")
    parser.add_argument("--source", type=Path, default=REPO / "results" / "kodak-crop512.json.gz")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    os.chdir(REPO)
    lines = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    source = json.loads(gzip.decompress(args.source.read_bytes()))
    say("| items | JSON MB | report s | report peak MB | report s per 10k | MB per 10k | collect s | per 10k |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for items in (int(n) for n in args.items.split(",")):
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "sweep.json"
            path.write_text(json.dumps(grown(source, items)))
            size = path.stat().st_size / 2**20
            seconds, peak = run([sys.executable, "-m", "pytest_codecbench.cli", "report", str(path), "-o", scratch])
        collect, _ = run(tiny_sweep(items) + ["--collect-only"])
        per = items / 10_000
        cells = [f"{items:,}", f"{size:.0f}", f"{seconds:.1f}", f"{peak:.0f}", f"{seconds / per:.2f}"]
        say("| " + " | ".join([*cells, f"{peak / per:.0f}", f"{collect:.1f}", f"{collect / per:.2f}"]) + " |")
    say("\n| sweep items (-n 2) | wall s | controller peak MB | s per 10k | MB per 10k |\n|---:|---:|---:|---:|---:|")
    for items in (int(n) for n in args.sweep_items.split(",") if n):
        with tempfile.TemporaryDirectory() as scratch:
            options = ["-n", "2", "--metrics=psnr", "--records=none", "--benchmark-min-rounds=1"]
            options += ["--benchmark-max-time=0", f"--benchmark-json={scratch}/out.json"]
            seconds, peak = run(tiny_sweep(items) + options)
        per = items / 10_000
        say(f"| {items:,} | {seconds:.0f} | {peak:.0f} | {seconds / per:.0f} | {peak / per:.0f} |")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
