"""Rate–distortion plots with matplotlib: one curve per lossy codec, PNG and SVG."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .load import Group  # noqa: E402


def file_stem(name: str) -> str:
    """A metric key made safe as part of a file name (keys come from JSON files)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "metric"


LOG_SPAN = 10  # the bpp axis turns logarithmic when the lossy points span more than this factor


def bpp_axis(rd: list[dict], lossy: set[str], choice: str = "auto") -> dict:
    """The bpp axis of the RD plots: ``log`` (bool), its ``title``, and the ``reason`` in words.
    ``auto``: logarithmic when the lossy points span more than LOG_SPAN× (near-lossless modes at
    8 bpp would squeeze every other curve into the left edge of a linear axis)."""
    rates = [r["bpp"] for r in rd if r["codec"] in lossy and r["bpp"] > 0]
    span = max(rates) / min(rates) if rates else 1
    log = choice == "log" or (choice == "auto" and span > LOG_SPAN)
    ranges = f"the lossy points span {min(rates):.3g}–{max(rates):.3g} bpp ({span:.0f}×)" if rates else "no points"
    if choice == "auto":
        why = f"more than {LOG_SPAN}×" if log else f"at most {LOG_SPAN}×"
        reason = f"bpp on a {'log' if log else 'linear'} axis: {ranges}, {why} (--bpp-axis to choose)."
    else:
        reason = f"bpp on a {choice} axis (--bpp-axis {choice}); {ranges}."
    return {"log": log, "title": "bits per pixel (bpp)" + (", log scale" if log else ""), "reason": reason}


MAX_CURVES = 12  # more lossy codecs than this: the main plots show the anchor and each family's best


def family(codec: str) -> str:
    """A codec's family for the plots: a matrix codec's transform (``dct8+ans``: dct8), else its name up
    to the first hyphen (``avif-s0``: avif)."""
    return codec.partition("+")[0] if "+" in codec else codec.partition("-")[0]


def plot_selection(codecs: list[str], bd: list[dict], anchor: str | None) -> tuple[list[str], dict[str, list[str]]]:
    """The codecs of the main plots, and the families drawn apart. Up to MAX_CURVES codecs all go on the
    main plots; beyond, the anchor and the best of each family (lowest mean BD-rate, else the first name),
    and every family of more than one codec gets a plot of its own."""
    if len(codecs) <= MAX_CURVES:
        return codecs, {}
    mean = {row["codec"]: row.get("bd_rate_mean") for row in bd}
    families = defaultdict(list)
    for codec in codecs:
        families[family(codec)].append(codec)
    best = [min(members, key=lambda c: (mean.get(c) is None, mean.get(c) or 0, c)) for members in families.values()]
    main = sorted({*best, *([anchor] if anchor in codecs else [])})
    return main, {name: members for name, members in sorted(families.items()) if len(members) > 1}


def _save(fig, path: Path) -> Path:
    """The figure as PNG and, beside it, SVG; closed."""
    fig.tight_layout()
    fig.savefig(path)
    # no date and fixed element ids: the same data gives the same file, so git diffs stay quiet
    with plt.rc_context({"svg.hashsalt": "codecbench"}):
        fig.savefig(path.with_suffix(".svg"), metadata={"Date": None})
    plt.close(fig)
    return path


# Names and labels come from JSON files: plain text, never mathtext ("$…$").
@plt.rc_context({"text.parse_math": False})
def rd_plots(
    group: Group,
    rd: list[dict],
    folder: Path,
    axis: dict,
    codecs: list[str],
    metrics: list[str] | None = None,
    stem="",
    published: dict[str, list[dict]] | None = None,
) -> list[tuple[str, Path]]:
    """One figure per metric column (of ``metrics``, default all) with at least one curve of ``codecs``,
    and of ``published`` (label -> points) drawn dashed where they have the column; returns (metric
    label, PNG path) pairs (an SVG lies beside each PNG, named ``rd-METRIC{stem}``)."""
    curves = defaultdict(list)
    for row in rd:
        if row["codec"] in codecs:
            curves[row["codec"]].append(row)
    written = []
    for column, meta in group.metrics.items():
        if metrics is not None and column not in metrics:
            continue
        drawn = {c: [r for r in rows if r[column] is not None] for c, rows in sorted(curves.items())}
        drawn = {c: points for c, points in drawn.items() if points}
        if not drawn:
            continue
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
        for index, (codec, points) in enumerate(drawn.items()):
            style = ("-o", "--s", ":D")[min(index // 10, 2)]  # the default cycle has ten colours
            rate, value = [r["bpp"] for r in points], [r[column] for r in points]
            ax.plot(rate, value, style, markersize=3.5, linewidth=1.3, label=codec)
        for index, (label, points) in enumerate((published or {}).items(), start=len(drawn)):
            if all(column in p for p in points):
                rate, value = [p["bpp"] for p in points], [p[column] for p in points]
                style = ("--x", ":x")[min(index // 10, 1)]
                ax.plot(rate, value, style, markersize=3, linewidth=0.9, label=f"{label} (published)")
        ax.set_xlabel(axis["title"])
        if axis["log"]:
            ax.set_xscale("log")
            # plain tick labels: the default ones are mathtext, which is off here
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.set_ylabel(meta["label"])
        which = f", {stem.lstrip('-')}" + (" curves" if published else " family") if stem else ""
        ax.set_title(f"{group.dataset} ({group.crop}){which}: {meta['label']}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        # outside the axes: 20 curves would cover the data
        ax.legend(fontsize=7, ncol=1 if len(drawn) <= 16 else 2, loc="upper left", bbox_to_anchor=(1.01, 1))
        written.append((meta["label"], _save(fig, folder / f"rd-{file_stem(column)}{stem}.png")))
    return written


DISTORTIONS = ("psnr", "lpips_alex", "lpips_vgg")  # the distortion axes of the distortion–perception plots


@plt.rc_context({"text.parse_math": False})
def dp_plots(group: Group, rd: list[dict], folder: Path, codecs: list[str]) -> list[tuple[str, Path]]:
    """The distortion–perception plane: FID (x) against each distortion of DISTORTIONS the group has (y),
    one curve per codec of ``codecs`` through its qualities, oriented so that the top left is best."""
    if "fid" not in group.metrics:
        return []
    written = []
    for column in (c for c in DISTORTIONS if c in group.metrics):
        curves = defaultdict(list)
        for row in rd:
            if row["codec"] in codecs and row.get("fid") is not None and row.get(column) is not None:
                curves[row["codec"]].append(row)
        if not curves:
            continue
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
        for index, (codec, points) in enumerate(sorted(curves.items())):
            points.sort(key=lambda r: r["bpp"])
            style = ("-o", "--s", ":D")[min(index // 10, 2)]
            ax.plot([r["fid"] for r in points], [r[column] for r in points], style, markersize=3.5, label=codec)
        meta = group.metrics[column]
        if not meta["higher_is_better"]:
            ax.invert_yaxis()  # better distortion upwards
        ax.set_xlabel(group.metrics["fid"]["label"])
        ax.set_ylabel(meta["label"] + (" (axis inverted)" if not meta["higher_is_better"] else ""))
        ax.set_title(f"{group.dataset} ({group.crop}): distortion–perception, top left is best", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        written.append((f"FID against {meta['label']}", _save(fig, folder / f"dp-fid-{file_stem(column)}.png")))
    return written
