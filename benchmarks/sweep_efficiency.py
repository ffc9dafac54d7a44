"""How close a whole sweep comes to its floor, and where the rest of its wall time goes.

    python benchmarks/sweep_efficiency.py [-n auto] [PYTEST ARGS ...]
    python benchmarks/sweep_efficiency.py --dataset=kodak --kodak-dir=../shared/datasets/kodak

The floor is the CPU time the work itself needs: over every item, the codec's round trips
(warm-up included) and the metrics (``extra_info.cpu_s``, ffmpeg's child processes counted),
summed and divided by the cores. Target: wall <= 1.15 × floor. Runs, as fresh processes:

  1. ``pytest benchmarks --collect-only`` with the same arguments: start-up, imports, collection;
  2. the sweep itself, with ``--benchmark-json`` and ``--junitxml`` (each item's duration, its
     fixtures included).

Then splits the wall time: start-up and collection (1); the items' own time per worker, split
into the floor's share and the rest of the item (fixtures, records, images, the harness);
and what is left (workers starting and importing, scheduling, the last worker's tail, writing
the report). Default arguments: the default dataset with -n auto. Not a pytest test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    arguments = sys.argv[1:] or ["-n", "auto"]
    pytest = [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:cacheprovider", *arguments]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        collection = timed([*pytest, "--collect-only"])
        wall = timed([*pytest, f"--benchmark-json={tmp}/out.json", f"--junitxml={tmp}/items.xml"])
        report = json.loads(Path(tmp, "out.json").read_text())
        cases = ET.parse(Path(tmp, "items.xml")).getroot().iter("testcase")
        item_seconds = sum(float(case.get("time", 0)) for case in cases)
    measured = [b["extra_info"]["cpu_s"] for b in report["benchmarks"] if "cpu_s" in b["extra_info"]]
    roundtrips = sum(c["roundtrips"] for c in measured)
    metrics = sum(c["metrics"] for c in measured)
    workers = max(b["extra_info"].get("workers", 1) for b in report["benchmarks"])
    floor = (roundtrips + metrics) / cores
    in_items = item_seconds / workers
    print(f"pytest benchmarks {' '.join(arguments)}: {len(measured)} measured items, {workers} workers, {cores} cores")
    print(f"wall time                                  {wall:8.1f} s")
    print(
        f"floor: (round trips {roundtrips:.1f} s + metrics {metrics:.1f} s CPU) / {cores} cores"
        f"  {floor:8.1f} s   wall / floor = {wall / floor:.2f} (target <= 1.15)"
    )
    print("where the wall time goes:")
    print(f"  start-up, imports, collection (alone)    {collection:8.1f} s")
    print(f"  items, per worker: floor's share         {(roundtrips + metrics) / workers:8.1f} s")
    print(f"  items, per worker: the rest of the items {in_items - (roundtrips + metrics) / workers:8.1f} s")
    print(f"  the rest (workers' start, tail, report)  {wall - collection - in_items:8.1f} s")


if __name__ == "__main__":
    main()
