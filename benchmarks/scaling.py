"""How time and memory grow with the image: every codec's encode and decode, every metric, and the
harness, on images of 0.4, 1, 2, 4, 8 and 12 megapixels.

    python benchmarks/scaling.py [--sizes 0.4,1,2,4,8,12] [--codecs GLOBS] [--metrics NAMES|all]
                                 [--except NAMES] [--parts codecs,metrics,harness] [--out results/scaling]

The images are one photograph that scikit-image ships (``astronaut``, 512×512) mirrored into
tiles to each size (3:2), so every size has a photograph's detail at its own scale; sizes are
multiples of 16 pixels. Each codec, each metric and the harness run in a child process of their
own, sizes ascending, with glibc told to return large freed blocks to the system
(``MALLOC_MMAP_THRESHOLD_``), so that a size's peak resident memory above its start
(``memory.Peak``, as every item records it) is its own:

- codecs: the middle of each codec's default grid (default: the Pillow and FFmpeg codecs); one
  untimed round trip at the smallest size, then at each size the median encode and decode of
  runs until 0.5 s is spent (at least one); peak memory of the round trip (a program's own peak
  for command-line codecs);
- metrics: pairs of an image and its JPEG at quality 50, the reference's side computed too, as for
  a sweep's first item of an image (the median of runs until 0.5 s, each on a reference one bit
  apart; the peak of the first); the models loaded on a small image first;
- harness: a real sweep (``pytest benchmarks/test_rd.py -n 0``, one timed round, PSNR) of a
  raw-copy codec over one image of each size: the item's wall time (``--junitxml``) less its round
  trips' and PSNR's CPU time (both single-threaded; from the JSON's ``cpu_s``) is what codecbench
  itself spends per item (decoding the PNG, hashing and checking the outputs, the record).

Prints a markdown table per part (seconds per megapixel and peak MB per megapixel at each size,
and the ratio of the largest size's time per megapixel to the smallest's) and writes it with a
plot of both to --out (``scaling.md``, ``scaling.png``).
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
PARTS = ("codecs", "metrics", "harness")
RAW_CODEC = """
import numpy as np
from pytest_codecbench import Codec


def encode(image, _quality):
    height, width, _ = image.shape
    return height.to_bytes(4, "big") + width.to_bytes(4, "big") + image.tobytes()


def decode(data):
    height, width = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
    return np.frombuffer(data[8:], np.uint8).reshape(height, width, 3)


CODECS = [Codec("raw", encode, decode, qualities=("default",), quality_label="", lossless=True)]
"""


def shape(megapixels: float) -> tuple[int, int]:
    """(height, width) of a 3:2 image of about ``megapixels``, both multiples of 16."""
    width = 16 * round(math.sqrt(megapixels * 1e6 * 1.5) / 16)
    return 16 * round(width / 1.5 / 16), width


def photograph(megapixels: float) -> np.ndarray:
    from pytest_codecbench import images

    tile = images.load_rgb(next(ref.path for ref in images.embedded().images if ref.name == "astronaut"))
    height, width = shape(megapixels)
    reps = (math.ceil(height / tile.shape[0]), math.ceil(width / tile.shape[1]))
    rows = [
        np.concatenate([tile if (i + j) % 2 == 0 else tile[:, ::-1] for j in range(reps[1])], 1) for i in range(reps[0])
    ]
    mirrored = np.concatenate([row if i % 2 == 0 else row[::-1] for i, row in enumerate(rows)], 0)
    return np.ascontiguousarray(mirrored[:height, :width])


def jpeg_of(image: np.ndarray) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=50)
    return np.asarray(Image.open(out).convert("RGB"))


def timed(function, budget: float = 0.5) -> tuple[float, object]:
    """Median seconds of runs of ``function`` until ``budget`` is spent (at least one), and its result."""
    durations, start = [], time.perf_counter()
    while not durations or time.perf_counter() - start < budget:
        began = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - began)
    return float(np.median(durations)), result


def measure_codecs(sizes: list[float], patterns: list[str]) -> list[dict]:
    from pytest_codecbench.codec import load_codecs
    from pytest_codecbench.measure.memory import Peak
    from pytest_codecbench.plugin import process

    process.prepare_torch(threads=1)
    codecs = load_codecs([REPO / "codecs"])
    chosen = [c for c in codecs.values() if any(fnmatch.fnmatch(c.name, p) for p in patterns)]
    rows = []
    for codec in chosen:
        quality = codec.qualities[len(codec.qualities) // 2]
        row = {"name": f"{codec.name} {codec.item_id(quality)}", "sizes": {}}
        rows.append(row)
        why = codec.missing_requirement()
        if why:
            row["error"] = why
            continue
        try:
            codec.decode(codec.encode(photograph(sizes[0]), quality))  # imports, models, a program's first start
            for megapixels in sizes:
                image = photograph(megapixels)
                with Peak() as peak:
                    encode_s, data = timed(lambda c=codec, i=image, q=quality: c.encode(i, q))
                    decode_s, _ = timed(lambda c=codec, d=data: c.decode(bytes(d)))
                memory = peak.result()
                mb = max(memory.get("child_process_mb", 0), memory["rss_above_start_mb"] or 0)
                row["sizes"][megapixels] = {"encode_s": encode_s, "decode_s": decode_s, "peak_mb": mb}
                print(f"{row['name']} {megapixels} MP: {encode_s:.3f} s + {decode_s:.3f} s, {mb:.0f} MB", flush=True)
        except Exception as error:  # a codec that cannot take a large image is a finding, not a crash
            row["error"] = f"{type(error).__name__}: {error}"[:200]
    return rows


def first_pair(metric, reference: np.ndarray, decoded: np.ndarray, variant: int) -> float:
    """Seconds of ``metric`` on a pair whose reference is new to it (its reference side computed too, as
    for a sweep's first item of an image): ``variant`` > 0 flips low bits of one pixel, so that metrics
    that keep a reference's side (keyed by its content) do not find it."""
    if variant:
        reference = reference.copy()
        reference[0, 0] ^= np.uint8(variant % 256)
        reference[0, 1] ^= np.uint8(variant // 256)
        reference.setflags(write=False)
    began = time.perf_counter()
    metric.compute(reference, decoded)
    return time.perf_counter() - began


def measure_metrics(sizes: list[float], names: list[str]) -> list[dict]:
    from pytest_codecbench import metrics
    from pytest_codecbench.measure.memory import Peak
    from pytest_codecbench.plugin import process

    process.prepare_torch(threads=1)
    known = metrics.available()
    rows = []
    for name in names:
        metric = known[name]
        row = {"name": name, "sizes": {}}
        rows.append(row)
        try:
            if metric.check:
                metric.check()
            small = photograph(0.1)
            metric.compute(small, jpeg_of(small))  # models loaded, imports made
            for megapixels in sizes:
                reference = photograph(megapixels)
                reference.setflags(write=False)
                decoded = jpeg_of(reference)
                with Peak() as peak:
                    seconds = [first_pair(metric, reference, decoded, 0)]
                while sum(seconds) < 0.5:  # more first pairs, of images one bit apart (their own reference side)
                    seconds.append(first_pair(metric, reference, decoded, len(seconds)))
                mb, median = peak.result()["rss_above_start_mb"], float(np.median(seconds))
                declared = metric.memory_bytes(reference.shape[0] * reference.shape[1]) / 2**20
                row["sizes"][megapixels] = {"s": median, "peak_mb": mb, "declared_mb": declared}
                print(f"{name} {megapixels} MP: {median:.3f} s, {mb:.0f} MB (declared {declared:.0f})", flush=True)
        except Exception as error:
            row["error"] = f"{type(error).__name__}: {error}"[:200]
    return rows


def measure_harness(sizes: list[float]) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        (scratch / "codecs").mkdir()
        (scratch / "codecs" / "raw.py").write_text(RAW_CODEC)
        (scratch / "images").mkdir()
        names = {f"mp{megapixels:05.1f}": megapixels for megapixels in sizes}
        names_and_warm_up = {"a-warm-up": 0.05, **names}  # sorted first: imports and first calls
        for name, megapixels in names_and_warm_up.items():
            Image.fromarray(photograph(megapixels)).save(scratch / "images" / f"{name}.png", compress_level=1)
        command = [sys.executable, "-m", "pytest", "benchmarks/test_rd.py", "-n", "0", "-q", "-p", "no:cacheprovider"]
        command += [f"--codec-dir={scratch / 'codecs'}", "--codecs=raw", "--metrics=psnr", "--records=none"]
        command += [f"--dataset={scratch / 'images'}", "--benchmark-min-rounds=1", "--benchmark-max-time=0"]
        command += [f"--benchmark-json={scratch / 'out.json'}", f"--junitxml={scratch / 'out.xml'}"]
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        items = {
            b["params"]["image"]: b["extra_info"] for b in json.loads((scratch / "out.json").read_text())["benchmarks"]
        }
        walls = {
            case.get("name").partition("[raw-default-")[2].removesuffix("]"): float(case.get("time"))
            for case in ET.parse(scratch / "out.xml").iter("testcase")
        }
    row = {"name": "harness (per item, raw-copy codec)", "sizes": {}}
    for name, megapixels in names.items():
        info = items[name]
        seconds = walls[name] - info["cpu_s"]["roundtrips"] - info["cpu_s"]["metrics"]
        row["sizes"][megapixels] = {"s": seconds, "peak_mb": info["peak_memory"]["rss_above_start_mb"]}
        print(f"harness {megapixels} MP: {seconds:.3f} s of {walls[name]:.3f} s", flush=True)
    return [row]


def area(megapixels: float) -> float:
    """The image's true megapixels (its sides are rounded to multiples of 16)."""
    height, width = shape(megapixels)
    return height * width / 1e6


def table(title: str, rows: list[dict], columns: list[str]) -> list[str]:
    """Seconds per megapixel of each timed column and peak MB per megapixel, at each size measured."""
    sizes = sorted({m for row in rows for m in row.get("sizes", {})})
    areas = {m: area(m) for m in sizes}
    label = {"encode_s": "encode", "decode_s": "decode", "s": "time"}
    head = ["", *[f"{label[col]} s/MP at {m:g} MP" for col in columns for m in sizes]]
    head.append(f"{label[columns[0]]} s/MP, {sizes[-1]:g} MP ÷ {sizes[0]:g} MP")
    head += [f"MB/MP at {m:g}" for m in sizes]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['name']} | not run: {row['error']} |" + " |" * (len(head) - 2))
            continue
        got = row["sizes"]
        cells = [f"{got[m][col] / areas[m]:.4g}" if m in got else "" for col in columns for m in sizes]
        first, last = got.get(sizes[0]), got.get(sizes[-1])
        ratio = (
            (last[columns[0]] / areas[sizes[-1]]) / (first[columns[0]] / areas[sizes[0]]) if first and last else None
        )
        cells.append(f"{ratio:.2f}" if ratio else "")
        cells += [
            f"{got[m]['peak_mb'] / areas[m]:.0f}" if m in got and got[m]["peak_mb"] is not None else "" for m in sizes
        ]
        lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    return lines


def plot(parts: dict[str, list[dict]], path: Path) -> None:
    """One row of panels per part: seconds per megapixel (codecs: encode) and peak MB per megapixel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(parts), 2, figsize=(14, 4.5 * len(parts)), squeeze=False)
    for (part, rows), (time_axis, memory_axis) in zip(parts.items(), axes, strict=True):
        key = {"codecs": "encode_s"}.get(part, "s")
        for index, row in enumerate(r for r in rows if r.get("sizes")):
            got = row["sizes"]
            x, style = [area(m) for m in got], {"marker": "o", "linestyle": ("-", "--", ":")[index // 10 % 3]}
            time_axis.plot(x, [v[key] / area(m) for m, v in got.items()], label=row["name"], **style)
            memory_axis.plot(x, [(v["peak_mb"] or 0) / area(m) for m, v in got.items()], label=row["name"], **style)
        for axis, what in ((time_axis, f"{part}: seconds per megapixel"), (memory_axis, f"{part}: peak MB per MP")):
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("megapixels")
            axis.set_ylabel(what + (" (encode)" if part == "codecs" and axis is time_axis else ""))
            axis.grid(True, which="both", alpha=0.3)
        memory_axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.4,1,2,4,8,12", help="megapixels, comma-separated")
    parser.add_argument("--codecs", default="", help="codec names or globs (default: the Pillow and FFmpeg codecs)")
    parser.add_argument("--metrics", default="all", help="metric names, or all")
    parser.add_argument(
        "--except", dest="leave_out", metavar="NAMES", default="", help="codecs and metrics to leave out"
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help="what to measure now; --out's tables keep the rest (and other rows)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "results" / "scaling")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # a child process's one part
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(float(s) for s in args.sizes.split(","))
    if args.part:
        rows = {
            "codecs": lambda: measure_codecs(sizes, args.codecs.split(",")),
            "metrics": lambda: measure_metrics(sizes, args.metrics.split(",")),
            "harness": lambda: measure_harness(sizes),
        }[args.part]()
        args.json.write_text(json.dumps(rows))
        return 0
    from pytest_codecbench import metrics
    from pytest_codecbench.codec import load_codecs

    if not args.codecs:
        families = ("pillow", "ffmpeg")
        args.codecs = ",".join(c.name for c in load_codecs([REPO / "codecs"]).values() if c.family in families)
    if args.metrics == "all":
        args.metrics = ",".join(metrics.available())
    leave_out = set(args.leave_out.split(","))
    args.codecs, args.metrics = (
        ",".join(n for n in names.split(",") if n not in leave_out) for names in (args.codecs, args.metrics)
    )
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(1 << 20), "SVT_LOG": "1"}
    args.out.mkdir(parents=True, exist_ok=True)
    for part in filter(None, args.parts.split(",")):
        # one child process per codec and per metric: what one left resident does not hide the next one's peak
        names = {"codecs": args.codecs.split(","), "metrics": args.metrics.split(",")}.get(part, [""])
        rows = []
        for name in names:
            command = [sys.executable, __file__, "--part", part, "--json", str(args.out / "child.json")]
            command += ["--sizes", args.sizes, "--codecs", name, "--metrics", name]
            subprocess.run(command, env=env, check=True)
            rows += json.loads((args.out / "child.json").read_text())
        (args.out / "child.json").unlink()
        earlier = args.out / f"{part}.json"  # rows of codecs or metrics not measured now are kept
        measured = {row["name"] for row in rows}
        kept = (
            [row for row in json.loads(earlier.read_text()) if row["name"] not in measured] if earlier.is_file() else []
        )
        earlier.write_text(json.dumps(kept + rows))
    parts, lines = {}, []
    for part in PARTS:  # those measured now and those an earlier run left in --out
        if (args.out / f"{part}.json").is_file():
            rows = json.loads((args.out / f"{part}.json").read_text())
            parts[part] = [{**row, "sizes": {float(m): v for m, v in row["sizes"].items()}} for row in rows]
            lines += table(part, parts[part], {"codecs": ["encode_s", "decode_s"]}.get(part, ["s"])) + [""]
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    measured = sorted({m for rows in parts.values() for row in rows for m in row.get("sizes", {})})
    images = ", ".join(f"{m:g} MP ({shape(m)[1]}×{shape(m)[0]})" for m in measured)
    note = f"{model}, {os.cpu_count()} cores; one thread per part; images of {images}."
    print("\n".join([note, "", *lines]))
    (args.out / "scaling.md").write_text("\n".join([note, "", *lines]))
    plot(parts, args.out / "scaling.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
