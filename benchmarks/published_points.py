"""Our mean points of one codec beside a published curve's, quality by quality.

    python benchmarks/published_points.py results/kodak-vtm-full.json.gz --codec vtm-compressai \
        --published compressai:vtm [--qualities 47,42,37,32,27,22,17,12]

A published file gives mean points without their qualities; they are matched by rank: the
published point with the lowest bpp to the given quality with the lowest rate (the highest QP).
CompressAI's VTM/HM run script uses QP 47, 42, …, 12, its eight points. Prints a Markdown table
of bpp (difference in %), PSNR and MS-SSIM (differences) per matched quality, for the points
we have; the reproduction target for ``vtm-compressai`` is 1 % in bpp and 0.05 dB.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_codecbench.report import published
from pytest_codecbench.report.files import markdown
from pytest_codecbench.report.load import merge
from pytest_codecbench.report.tables import rd_rows


def rows(paths: list[Path], codec: str, curve: str, qualities: list[str]) -> list[dict]:
    source = curve.partition(":")[0]
    theirs = sorted(published.curves(source)[curve], key=lambda p: p["bpp"])
    by_rate = sorted(qualities, key=lambda q: -float(q))  # the highest QP gives the lowest rate
    groups, errors = merge(paths)
    if errors:
        raise SystemExit("\n".join(errors))
    ours = {r["quality"]: r for group in groups for r in rd_rows(group) if r["codec"] == codec}
    table = []
    for quality, point in zip(by_rate, theirs, strict=False):
        if quality not in ours:
            continue
        mine = ours[quality]
        table.append(
            {
                "quality": quality,
                "images": mine["images"],
                "bpp": mine["bpp"],
                "published bpp": point["bpp"],
                "bpp difference (%)": 100 * (mine["bpp"] / point["bpp"] - 1),
                "PSNR": mine["psnr"],
                "published PSNR": point["psnr"],
                "PSNR difference (dB)": mine["psnr"] - point["psnr"],
                "MS-SSIM difference": mine["ms_ssim"] - point["ms_ssim"] if mine.get("ms_ssim") else None,
            }
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--codec", required=True)
    parser.add_argument("--published", required=True, help="SOURCE:NAME, e.g. compressai:vtm")
    parser.add_argument("--qualities", default="47,42,37,32,27,22,17,12")
    args = parser.parse_args()
    print(markdown(rows(args.files, args.codec, args.published, args.qualities.split(","))))


if __name__ == "__main__":
    main()
