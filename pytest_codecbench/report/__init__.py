"""``codecbench report``: tables, RD plots, BD-rate and a leaderboard page from JSON reports."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from plotly.offline import get_plotlyjs

from . import published as published_curves
from .files import escape, markdown, readable, write_csv
from .index import write_index
from .load import Group, ReportError, borrow, merge
from .page import FLAG, PLOTLY_FILE, leaderboard
from .plots import MAX_CURVES, bpp_axis, dp_plots, file_stem, plot_selection, rd_plots
from .tables import (
    AVERAGING,
    BD_PRESETS,
    FAILED,
    MATRIX,
    MIN_POINTS,
    SUMMARY,
    bd_anchors,
    bd_image_rows,
    bd_rows,
    borrowed_notes,
    complexity_rows,
    failure_rows,
    image_rows,
    lossy_curves,
    macs_rows,
    matrix_rows,
    mean_metrics,
    rd_rows,
    select_bd_metrics,
    stage_time_rows,
    startup_note,
    summary_labels,
    summary_rows,
    unmeasured_rows,
)

__all__ = ["ReportError", "build", "write_group"]


def pick_anchor(requested: list[str], bd_by_anchor: dict[str, list[dict]], group: str) -> str | None:
    """The first requested anchor with a lossy curve here; with none requested, the candidate whose curve
    gives an unflagged BD-rate against the most codecs (on any metric; JPEG, then the first name, on a tie);
    when a requested one has no curve, JPEG or the first name, said on stderr. None when no codec can be one."""
    candidates = sorted(bd_by_anchor)
    for anchor in requested:
        if anchor in candidates:
            return anchor
    if not candidates:
        return None
    if not requested:
        return max(candidates, key=lambda a: (_unflagged(bd_by_anchor[a]), a == "jpeg", [-ord(c) for c in a]))
    fallback = "jpeg" if "jpeg" in candidates else candidates[0]
    asked = ", ".join(map(repr, requested))
    print(
        f"codecbench report: {group}: anchor {asked} has no lossy curve here; BD-rate against {fallback!r} "
        f"instead (choose one with --anchor NAME: {', '.join(candidates)})",
        file=sys.stderr,
    )
    return fallback


def _unflagged(bd: list[dict]) -> int:
    """How many codecs have at least one BD-rate without a flag against this anchor."""
    return sum(
        any(v is not None and not row.get(f"note_{k[8:]}") for k, v in row.items() if k.startswith("bd_rate_"))
        for row in bd
    )


def _bd_markdown(bd: list[dict], labels: dict[str, str] | None = None) -> str:
    """The BD table without its note columns: a flagged value is marked, the marks explained once."""
    rows, flagged = [], False
    for row in bd:
        shown = {}
        for key, value in row.items():
            if key.startswith("note_"):
                continue
            note = row.get(f"note_{key.removeprefix('bd_rate_')}") if key.startswith("bd_rate_") else None
            note = note if value is not None else None  # no value: the CSV's note says why
            shown[key] = f"{readable(value)} {FLAG}" if note else value
            flagged = flagged or bool(note)
        rows.append(shown)
    legend = (
        f"\n{FLAG} flagged: fewer than {MIN_POINTS} points of the anchor's or the codec's curve lie where their ranges "
        "overlap, the interval each value covers; the reason is in the CSV's note_* columns.\n"
    )
    return markdown(rows, labels) + (legend if flagged else "")


def write_group(
    group: Group,
    folder: Path,
    anchors: list[str],
    method: str,
    axis_choice: str,
    command: str,
    published: str = "",
    bpp_range: tuple[float, float] | None = None,
    per_image: bool = False,
) -> None:
    """The report of one group; BD-rate against each anchor asked for (the first in bd-rate.csv),
    and on the page against every codec that can be one; ``published``: a source of published curves
    (``published.SOURCES``) drawn and compared beside ours, "" for none; ``bpp_range``: BD-rate on the
    points in it only; ``per_image``: BD-rate per image too, against the first anchor."""
    folder.mkdir(parents=True, exist_ok=True)
    rd, stage_times, counts = rd_rows(group), stage_time_rows(group), macs_rows(group)
    images, unmeasured = image_rows(group), unmeasured_rows(group)
    write_csv(folder / "rd.csv", rd)
    write_csv(folder / "per-image.csv", images)
    write_csv(folder / "stage-times.csv", stage_times)
    if counts:
        write_csv(folder / "macs.csv", counts)
    matrix = matrix_rows(group, method, rd)
    if matrix:
        write_csv(folder / "matrix.csv", matrix)
    candidates = {a: bd_rows(group, a, method, rd, bpp_range) for a in bd_anchors(rd, group)}
    first = pick_anchor(anchors, candidates, group.name)
    bd_by_anchor = {a: candidates[a] for a in dict.fromkeys([first, *candidates]) if a}  # the anchor first
    bd_text = ""
    for anchor in dict.fromkeys([first, *anchors]):
        if anchor not in bd_by_anchor:
            continue
        name = "bd-rate.csv" if anchor == first else f"bd-rate-{file_stem(anchor)}.csv"
        write_csv(folder / name, bd_by_anchor[anchor])
        bd_text += (
            f"## BD-rate against {escape(anchor)} ({method}{_window(bpp_range)})\n\n"
            f"{_bd_markdown(bd_by_anchor[anchor])}\n"
        )
    if first and per_image:
        per_image_rows = bd_image_rows(group, first, method, bpp_range, images)
        write_csv(folder / "bd-rate-per-image.csv", per_image_rows)
        bd_text += (
            f"## BD-rate per image against {escape(first)} ({method}{_window(bpp_range)})\n\n{PER_IMAGE}\n\n"
            f"{markdown([{k: v for k, v in r.items() if not k.startswith('images_')} for r in per_image_rows])}\n"
        )
    if not first:
        bd_text = "## BD-rate\n\nNo BD-rate: no lossy codec has two or more RD points here.\n\n"
    lossy = {c for c in group.codecs if group.lossy(c)}
    axis = bpp_axis(rd, lossy, axis_choice)
    main, families = plot_selection(sorted({r["codec"] for r in rd} & lossy), bd_by_anchor.get(first, []), first)
    theirs, published_text = _published(group, published, first, rd, method, folder)
    plots = rd_plots(group, rd, folder, axis, main) + dp_plots(group, rd, folder, main)
    if theirs:  # a plot of their own: the anchor among them
        plots += rd_plots(group, rd, folder, axis, [first], ["psnr"], "-published", published=theirs)
    headline = next((c for c in ("psnr", *group.metrics) if c in group.metrics), None)
    family_plots = [
        (name, path)
        for name, members in families.items()
        for _, path in rd_plots(group, rd, folder, axis, members, [headline], f"-{file_stem(name)}")
    ]
    labels = {c: f"{c}: {m['label']}" for c, m in group.metrics.items()}
    sweeps = "".join(f"- `{c}`\n" for c in group.commands)
    failed = failure_rows(group)
    complexity = complexity_rows(stage_times, counts)
    summary = _summary_section(group, rd, bd_by_anchor.get(first, []), complexity, first, method, bpp_range)
    (folder / "README.md").write_text(
        f"# {escape(group.dataset)} ({group.crop}) on {escape(group.machine)}\n\n"
        f"Made by `{command}` from {', '.join(f'`{s}`' for s in group.sources)}, measured by:\n\n{sweeps}\n"
        + summary
        + (f"## Failed items\n\n{FAILED}\n\n{markdown(failed)}\n" if failed else "")
        + (
            f"## Codecs without rate–distortion points\n\n{UNMEASURED}\n\n{markdown(unmeasured)}\n"
            if unmeasured
            else ""
        )
        + f"## Rate–distortion\n\n{AVERAGING}\n\n{markdown(rd, labels)}\n"
        + bd_text
        + published_text
        + f"## Stage times\n\nMedian wall time per stage (ms) over all of a codec's items.\n\n{markdown(stage_times)}\n"
        + (_counts_section(counts) if counts else "")
        + (f"## Transforms × entropy coders\n\n{MATRIX}\n\n{markdown(matrix)}\n" if matrix else "")
        + (f"## Plots\n\n{escape(axis['reason'])}{_selection_note(main, families)}\n\n" if plots else "")
        + "".join(f"![{escape(label)}]({p.name})\n\n*{escape(label)}*\n\n" for label, p in plots)
        + "".join(f"![{escape(name)}]({p.name})\n\n*the {escape(name)} family*\n\n" for name, p in family_plots)
    )
    tables = {
        "rd": rd,
        "images": images,
        "stage_times": stage_times,
        "counts": counts,
        "unmeasured": unmeasured,
        "complexity": complexity,
        "matrix": matrix,
        "shown": main,
    }
    (folder / "index.html").write_text(leaderboard(group, tables, bd_by_anchor, first, axis, plots, command))


UNMEASURED = "Codecs whose items were collected but gave no point, one row per reason."
PER_IMAGE = (
    "BD-rate of each image's curve against the anchor's curve on the same image, then the mean over the images "
    "(JPEG AI's way); the tables above take the mean curves. bd-rate-per-image.csv counts the images behind each "
    "value (images_*): an image whose curves do not overlap gives none."
)


def _window(bpp_range: tuple[float, float] | None) -> str:
    return f", points in {bpp_range[0]:g}–{bpp_range[1]:g} bpp" if bpp_range else ""


def _published(group: Group, name: str, anchor: str | None, rd: list[dict], method: str, folder: Path):
    """The published curves to draw ({label: points}) and their section: each one's BD-rate against our
    anchor and against their own (published-bd-rate.csv)."""
    if not name:
        return {}, ""
    why = published_curves.mismatch(name, group)
    if why or not anchor:
        why = why or "no anchor here"
        print(f"codecbench report: {group.name}: {why}; not drawn", file=sys.stderr)
        return {}, ""
    curves = published_curves.curves(name)
    ours = [r for r in rd if r["codec"] == anchor]
    rows = published_curves.bd_rows(name, curves, group, anchor, ours, method)
    write_csv(folder / "published-bd-rate.csv", rows)
    source = published_curves.SOURCES[name]
    text = (
        f"## Published curves: {escape(name)} against {escape(anchor)} ({method})\n\n"
        f"{PUBLISHED.format(name=escape(name), theirs=source['anchor'], anchor=escape(anchor))}\n\n"
        f"{_bd_markdown(rows)}\n"
    )
    return curves, text


PUBLISHED = (
    "Mean curves published by {name} (package data, `data/published/{name}/SOURCE.md`: commit and licence), "
    "drawn dashed beside our {anchor} on rd-psnr-published.png. Each one's BD-rate against our {anchor} and "
    "against their {theirs} over the "
    "bpp range of our {anchor}: where our {anchor} is theirs, the two agree (difference near 0)."
)


def _summary_section(
    group: Group, rd: list[dict], bd: list[dict], complexity: list[dict], anchor, method, bpp_range
) -> str:
    if not anchor:
        return ""
    rows = summary_rows(group, rd, bd, complexity)
    curves = lossy_curves(group, rd, bpp_range)  # as bd_rows took them, for the metrics its mean covers
    columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    averaged = [group.metrics[c]["label"] for c in mean_metrics(curves, anchor, columns)] if anchor in curves else []
    head = (
        f"## Summary: BD-rate against {escape(anchor)} ({method}{_window(bpp_range)})\n\n{SUMMARY}\n\n"
        f"BD-rate on the mean curves; the mean is over {escape('; '.join(averaged))}.\n\n"
    )
    borrowed = "".join(f"- {escape(note)}\n" for note in borrowed_notes(group))
    startup = startup_note(group)
    return (
        head
        + _bd_markdown(rows, summary_labels(anchor))
        + (f"\n{borrowed}" if borrowed else "")
        + (f"\n{escape(startup)}\n" if startup else "")
        + "\n"
    )


def _selection_note(main: list[str], families: dict[str, list[str]]) -> str:
    if not families:
        return ""
    return (
        f" More than {MAX_CURVES} codecs: the plots show the anchor and the best of each family by mean BD-rate "
        f"({', '.join(main)}); each family of several codecs has a plot of its own below; the page's chart has all."
    )


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


def build(
    paths: list[Path],
    out: Path,
    anchor: str = "",
    method: str = "pchip",
    axis: str = "auto",
    published: str = "",
    bpp_range: tuple[float, float] | None = None,
    per_image: bool = False,
    bd_metrics: str = "",
) -> int:
    """Write one folder per group under ``out``, an index of them, and plotly.js for the pages;
    returns the exit status. ``anchor``: comma-separated BD-rate anchors, "" to choose (``pick_anchor``);
    an anchor that only another machine measured on the same dataset and crop is borrowed from it
    (``load.borrow``). ``published``: published curves to draw beside ours; ``bpp_range`` and
    ``per_image``: see ``write_group``; ``bd_metrics``: the BD-rate tables' metrics, comma-separated
    columns or a preset (``BD_PRESETS``), "" for each column's default."""
    options = ["--anchor", anchor] if anchor else []
    options += ["--bd-method", method, "--bpp-axis", axis, *(["--published", published] if published else [])]
    options += [f"--bd-bpp-range={bpp_range[0]:g},{bpp_range[1]:g}"] if bpp_range else []
    options += ["--bd-per-image"] if per_image else []
    options += [f"--bd-metrics={bd_metrics}"] if bd_metrics else []
    command = shlex.join(["codecbench", "report", *map(str, paths), "-o", str(out), *options])
    groups, errors = merge(paths)
    for error in errors:
        print(f"codecbench report: {error}", file=sys.stderr)
    if not groups:
        print("codecbench report: no measured items in the given files; nothing written", file=sys.stderr)
        return 2
    chosen = BD_PRESETS.get(bd_metrics) or tuple(c for c in bd_metrics.split(",") if c)
    unmeasured = select_bd_metrics(groups, chosen)
    if unmeasured and bd_metrics not in BD_PRESETS:
        known = sorted({c for group in groups for c in group.metrics})
        print(
            f"codecbench report: --bd-metrics: {', '.join(unmeasured)} measured in none of the files "
            f"(their metrics: {', '.join(known)})",
            file=sys.stderr,
        )
        return 2
    if unmeasured:
        print(f"codecbench report: --bd-metrics {bd_metrics}: {', '.join(unmeasured)} not measured", file=sys.stderr)
    anchors = [a for a in anchor.split(",") if a]
    borrow(groups, anchors)
    out.mkdir(parents=True, exist_ok=True)
    (out / PLOTLY_FILE).write_text(get_plotlyjs())  # the pages' only script library, read from disk
    for group in groups:
        write_group(group, out / group.name, anchors, method, axis, command, published, bpp_range, per_image)
        counted = f" and {len(group.counts)} MAC counts" if group.counts else ""
        print(f"codecbench report: {len(group.items)} items{counted} -> {out / group.name}")
        for row in failure_rows(group):
            print(
                f"codecbench report: {row['failed items']} failed items of {row['codec']} left out "
                f"(e.g. {row['first reason']})",
                file=sys.stderr,
            )
    write_index(groups, out, command)
    return 1 if errors else 0
