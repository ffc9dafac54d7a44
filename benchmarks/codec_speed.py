"""Encode and decode speed of CompressAI's models beside the conventional codecs, on one 768×512 image.

    python benchmarks/codec_speed.py [--image PATH] [--quality 4] [--markdown FILE]

Runs the rate–distortion sweep in this process (``pytest benchmarks/test_rd.py -n 0``,
PSNR only, one torch thread as in every sweep) on one image: each CompressAI architecture
(its MSE model at --quality; the MS-SSIM models share the architecture) and every lossy
conventional codec at the middle of its default grid. Prints median ms and MP/s of encode
and decode, and the learned codecs' stages.

Weights come from torch.hub's cache. Where a checkpoint is missing (offline) a generated
one stands in: a randomly initialised model of the architecture, entropy tables updated.
The transforms then cost what they cost with trained weights; entropy coding, whose time
grows with the bitrate, does not match a trained model's. The table says which ran on
generated weights.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from pytest_codecbench.codec import load_codecs
from pytest_codecbench.kits.torch_compat import import_torchvision
from pytest_codecbench.kits.weights import PRESENT, Checkpoint

REPO = Path(__file__).resolve().parents[1]
KODIM01 = REPO.parent / "shared" / "datasets" / "kodak" / "kodim01.png"
STAGES = ("encode/analysis", "encode/entropy-encoding", "decode/entropy-decoding", "decode/synthesis")


def trained_checkpoints(adapter, quality: int) -> dict[str, Path]:
    """Architecture -> its checkpoint in torch.hub's cache, for those present and intact."""
    import compressai.zoo

    present = {}
    for architecture in adapter.ARCHITECTURES:
        checkpoint = Checkpoint(compressai.zoo.image.model_urls[architecture]["mse"][quality])
        if checkpoint.status()[0] == PRESENT:
            present[architecture] = checkpoint.path
    return present


def stand_in_weights(adapter, quality: int, trained: dict[str, Path], hub: Path) -> dict[str, str]:
    """Fill ``hub`` with the trained checkpoints (linked) or generated ones (and point the
    zoo at them); returns codec -> 'trained' or 'generated'."""
    import compressai.zoo

    kinds = {}
    for architecture in adapter.ARCHITECTURES:
        if architecture in trained:
            (hub / trained[architecture].name).symlink_to(trained[architecture])
            kinds[f"{architecture}-mse"] = "trained"
        else:
            generated = adapter.generated_checkpoint(architecture, quality, hub)
            compressai.zoo.image.model_urls[architecture]["mse"][quality] = "http://127.0.0.1:9/" + generated.name
            kinds[f"{architecture}-mse"] = "generated"
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path, default=KODIM01, help="default: Kodak kodim01 (768×512)")
    parser.add_argument("--quality", type=int, default=4, help="CompressAI quality index (default 4)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if not args.image.is_file():
        parser.error(f"--image {args.image}: no such file")

    import_torchvision()  # before compressai; see pytest_codecbench.kits.torch_compat
    codecs = load_codecs([REPO / "codecs"])
    adapter = sys.modules[codecs["mbt2018-mse"].encode.func.__module__]
    conventional = [c for c in codecs.values() if c.family == "pillow" and not c.lossless]
    grid = {c.name: c.qualities[len(c.qualities) // 2] for c in conventional}
    grid.update({f"{a}-mse": args.quality for a in adapter.ARCHITECTURES})

    trained = trained_checkpoints(adapter, args.quality)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        os.environ["TORCH_HOME"] = str(scratch / "torch")  # the real cache is only read, through links
        (scratch / "torch" / "hub" / "checkpoints").mkdir(parents=True)
        kinds = stand_in_weights(adapter, args.quality, trained, scratch / "torch" / "hub" / "checkpoints")
        (scratch / "images").mkdir()
        (scratch / "images" / args.image.name).symlink_to(args.image.resolve())
        out = scratch / "speed.json"
        os.chdir(REPO)
        status = pytest.main(
            [
                "benchmarks/test_rd.py",
                "-n",
                "0",
                "-q",
                "-p",
                "no:cacheprovider",
                "--metrics=psnr",
                "--records=none",  # generated weights must not leave records a real sweep could resume from
                f"--dataset={scratch / 'images'}",
                f"--codecs={','.join(grid)}",
                f"--qualities={' '.join(f'{name}={q}' for name, q in grid.items())}",
                f"--benchmark-json={out}",
            ]
        )
        if status != 0:
            return int(status)
        records = json.loads(out.read_text())

    lines = table(records, kinds)
    note = (
        f"\n{records['machine_info']['cpu']['brand_raw']}, torch with 1 thread; {args.image.name}; medians of "
        "pytest-benchmark's rounds. 'generated': weights generated for lack of the published checkpoint "
        "(transforms timed as with trained weights, entropy coding not).\n"
    )
    print("\n".join(lines) + note)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n" + note)
    return 0


def table(records: dict, kinds: dict[str, str]) -> list[str]:
    head = ["codec", "quality", "weights", "bpp", "encode ms", "decode ms", "encode MP/s", "decode MP/s"]
    head += [f"{s} ms" for s in STAGES]
    rows = []
    for bench in records["benchmarks"]:
        info, params = bench["extra_info"], bench["params"]
        megapixels = info["width"] * info["height"] / 1e6
        ms = {stage: value["wall_median_s"] * 1e3 for stage, value in info["timing"].items()}
        row = [params["codec"], params["quality"], kinds.get(params["codec"], ""), f"{info['bpp']:.3f}"]
        row += [f"{ms['encode']:.1f}", f"{ms['decode']:.1f}"]
        row += [f"{megapixels / ms['encode'] * 1e3:.2f}", f"{megapixels / ms['decode'] * 1e3:.2f}"]
        row += [f"{ms[s]:.1f}" if s in ms else "" for s in STAGES]
        rows.append(row)
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(map(str, row)) + " |" for row in rows
    ]


if __name__ == "__main__":
    sys.exit(main())
