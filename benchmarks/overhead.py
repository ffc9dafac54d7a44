"""Harness overhead: a codecbench sweep against the same work in a plain loop, in one run.

    python benchmarks/overhead.py [--codecs jpeg,webp,jxl] [--images 8] [--rounds 3] [--dataset kodak]

Runs, each as a fresh process so imports count on both sides:
  1. ``pytest benchmarks/test_rd.py -n 0`` with a fixed number of rounds per item;
  2. the same with ``-n 2``;
  3. a plain loop doing the same encodes, decodes (as many per item as codecbench ran,
     read from its JSON) and metrics with the same adapters and metric functions.
Prints wall times and the ratios; the targets are codecbench/plain <= 1.10 at -n 0 and
-n 2 / -n 0 < 0.6. Not a pytest test: timings on a shared machine are only compared
within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def plain_loop(items_file: str) -> None:
    """The same work without pytest: run in a child process by main()."""
    from pytest_codecbench import metrics
    from pytest_codecbench.codec import load_codecs
    from pytest_codecbench.images import ImageStore, resolve
    from pytest_codecbench.plugin import process

    spec = json.loads(Path(items_file).read_text())
    codecs = load_codecs([REPO / "codecs"])
    store = ImageStore(tuple(spec["crop"]) if spec["crop"] else None)
    images = {i.name: i for i in resolve(spec["dataset"], spec["kodak_dir"]).images}
    process.prepare_torch(threads=1)  # as the plugin does
    metric_list = [m for m in metrics.available().values() if m.default]  # the sweep runs the defaults
    for codec_name, quality, image_name, runs in spec["items"]:
        codec, reference = codecs[codec_name], store.get(images[image_name])
        codec.missing_requirement()  # imports the codec's plugin, as the fixture does
        for _ in range(runs):
            decoded = codec.decode(codec.encode(reference, quality))
        metrics.compute(metric_list, reference, decoded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codecs", default="jpeg,webp,jxl")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="pytest-benchmark rounds per item")
    parser.add_argument("--dataset", default="kodak")
    parser.add_argument("--kodak-dir", default=str(REPO.parent / "shared" / "datasets" / "kodak"))
    parser.add_argument("--crop", default="512")
    parser.add_argument("--plain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        return plain_loop(args.plain)

    work = Path(tempfile.mkdtemp(prefix="codecbench-overhead-"))
    sweep = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks/test_rd.py",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--codecs={args.codecs}",
        f"--dataset={args.dataset}",
        f"--kodak-dir={args.kodak_dir}",
        f"--max-images={args.images}",
        f"--crop={args.crop}",
        f"--benchmark-min-rounds={args.rounds}",
        "--benchmark-max-time=0",
    ]
    # durable records on, as by default (one fsync'd file per item), into scratch folders
    serial = timed(sweep + ["-n", "0", f"--benchmark-json={work / 'n0.json'}", f"--records={work / 'r0'}"])
    parallel = timed(sweep + ["-n", "2", f"--benchmark-json={work / 'n2.json'}", f"--records={work / 'r2'}"])

    report = json.loads((work / "n0.json").read_text())
    items = [
        [
            b["params"]["codec"],
            b["params"]["quality"],
            b["params"]["image"],
            b["extra_info"]["timing"]["encode"]["runs"] + 1,  # the timed rounds and the warm-up run
        ]
        for b in report["benchmarks"]
    ]
    crop = report["codecbench"]["crop"]
    spec = {"items": items, "crop": crop, "dataset": args.dataset, "kodak_dir": args.kodak_dir}
    (work / "items.json").write_text(json.dumps(spec))
    plain = timed([sys.executable, __file__, "--plain", str(work / "items.json")])

    runs = sum(item[3] for item in items)
    print(f"{len(items)} items, {runs} encode+decode runs, metrics {', '.join(report['codecbench']['metrics'])}")
    print(f"plain loop            {plain:8.1f} s")
    print(f"codecbench -n 0       {serial:8.1f} s   overhead ratio {serial / plain:.3f} (target <= 1.10)")
    print(f"codecbench -n 2       {parallel:8.1f} s   -n 2 / -n 0    {parallel / serial:.3f} (target < 0.6)")


if __name__ == "__main__":
    main()
