"""``codecbench report``: tables, RD plots, BD-rate and a leaderboard page from JSON reports."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .files import escape, markdown, write_csv
from .load import Group, ReportError, merge
from .page import leaderboard
from .plots import file_stem, rd_plots
from .tables import AVERAGING, FAILED, bd_rows, failure_rows, image_rows, macs_rows, rd_rows, stage_time_rows

__all__ = ["ReportError", "build", "write_group"]


def _bd_section(group: Group, folder: Path, anchor: str, method: str, name: str) -> tuple[list[dict], str]:
    """BD-rate rows against ``anchor``, written to ``name``, and the README section."""
    try:
        bd = bd_rows(group, anchor, method)
        write_csv(folder / name, bd)
        text = markdown(bd)
    except ValueError as error:  # the anchor is not in this group
        bd, text = [], f"No BD-rate: {error}\n"
        print(f"codecbench report: {group.name}: {error}", file=sys.stderr)
    return bd, f"## BD-rate against {escape(anchor)} ({method})\n\n{text}\n"


def write_group(group: Group, folder: Path, anchors: list[str], method: str, log_bpp: bool, command: str) -> None:
    """The report of one group; BD-rate against each anchor, the first one's in bd-rate.csv and the page."""
    folder.mkdir(parents=True, exist_ok=True)
    rd, stage_times = rd_rows(group), stage_time_rows(group)
    write_csv(folder / "rd.csv", rd)
    write_csv(folder / "per-image.csv", image_rows(group))
    write_csv(folder / "stage-times.csv", stage_times)
    counts = macs_rows(group)
    if counts:
        write_csv(folder / "macs.csv", counts)
    bd, bd_text = _bd_section(group, folder, anchors[0], method, "bd-rate.csv")
    for other in anchors[1:]:
        bd_text += _bd_section(group, folder, other, method, f"bd-rate-{file_stem(other)}.csv")[1]
    plots = rd_plots(group, rd, folder, log_bpp) if rd else []
    labels = {c: f"{c}: {m['label']}" for c, m in group.metrics.items()}
    sweeps = "".join(f"- `{c}`\n" for c in group.commands)
    failed = failure_rows(group)
    (folder / "README.md").write_text(
        f"# {escape(group.dataset)} ({group.crop}) on {escape(group.machine)}\n\n"
        f"Made by `{command}` from {', '.join(f'`{s}`' for s in group.sources)}, measured by:\n\n{sweeps}\n"
        + (f"## Failed items\n\n{FAILED}\n\n{markdown(failed)}\n" if failed else "")
        + f"## Rate–distortion\n\n{AVERAGING}\n\n{markdown(rd, labels)}\n"
        + bd_text
        + f"## Stage times\n\nMedian wall time per stage (ms) over all of a codec's items.\n\n{markdown(stage_times)}\n"
        + (_counts_section(counts) if counts else "")
        + "".join(f"![{p.stem}]({p.name})\n" for p in plots)
    )
    (folder / "index.html").write_text(leaderboard(group, rd, bd, stage_times, counts, anchors[0], plots, command))


def _counts_section(counts: list[dict]) -> str:
    table = [{k: v for k, v in row.items() if k not in ("not_counted", "counter")} for row in counts]
    skipped = {row["codec"]: row["not_counted"] for row in counts}
    return (
        f"## Multiply-accumulates (MACs) and parameters\n\nCounted by {counts[0]['counter']} on each image's size; "
        "kMAC/pixel per pixel of the original image. Operators fvcore did not count (listed per codec below) are "
        f"not in these totals.\n\n{markdown(table)}\n"
        + "".join(f"- {codec}: {ops or 'none'}\n" for codec, ops in skipped.items())
        + "\n"
    )


def build(paths: list[Path], out: Path, anchor: str = "jpeg", method: str = "pchip", log_bpp: bool = False) -> int:
    """Write one folder per group under ``out``; returns the exit status."""
    command = shlex.join(["codecbench", "report", *map(str, paths), "-o", str(out), "--anchor", anchor,
                          "--bd-method", method] + (["--log-bpp"] if log_bpp else []))  # fmt: skip
    groups, errors = merge(paths)
    for error in errors:
        print(f"codecbench report: {error}", file=sys.stderr)
    if not groups:
        print("codecbench report: no measured items in the given files; nothing written", file=sys.stderr)
        return 2
    for group in groups:
        write_group(group, out / group.name, anchor.split(","), method, log_bpp, command)
        counted = f" and {len(group.counts)} MAC counts" if group.counts else ""
        print(f"codecbench report: {len(group.items)} items{counted} -> {out / group.name}")
        for row in failure_rows(group):
            print(f"codecbench report: {row['failed items']} failed items of {row['codec']} left out "
                  f"(e.g. {row['first reason']})", file=sys.stderr)  # fmt: skip
    return 1 if errors else 0
