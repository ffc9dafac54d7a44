"""Rate–distortion plots with matplotlib: one curve per lossy codec, PNG and SVG."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .load import Group  # noqa: E402


def file_stem(name: str) -> str:
    """A metric key made safe as part of a file name (keys come from JSON files)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "metric"


# Names and labels come from JSON files: plain text, never mathtext ("$…$").
@plt.rc_context({"text.parse_math": False})
def rd_plots(group: Group, rd: list[dict], folder: Path, log_bpp: bool = False) -> list[Path]:
    """One figure per metric column; returns the PNG paths (an SVG lies beside each)."""
    curves = defaultdict(list)
    for row in rd:
        if not group.codecs.get(row["codec"], {}).get("lossless"):
            curves[row["codec"]].append(row)
    written = []
    for column, meta in group.metrics.items():
        fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
        for index, (codec, rows) in enumerate(sorted(curves.items())):
            points = [r for r in rows if r[column] is not None]
            if points:
                style = "-o" if index < 10 else "--s"  # the default cycle has ten colours
                rate, value = [r["bpp"] for r in points], [r[column] for r in points]
                ax.plot(rate, value, style, markersize=3.5, linewidth=1.3, label=codec)
        ax.set_xlabel("bits per pixel (bpp)" + (", log scale" if log_bpp else ""))
        if log_bpp:
            ax.set_xscale("log")
        ax.set_ylabel(meta["label"])
        ax.set_title(f"{group.dataset} ({group.crop}): {meta['label']}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, ncol=2, loc="lower right" if meta.get("higher_is_better", True) else "upper right")
        fig.tight_layout()
        path = folder / f"rd-{file_stem(column)}.png"
        fig.savefig(path)
        # no date and fixed element ids: the same data gives the same file, so git diffs stay quiet
        with plt.rc_context({"svg.hashsalt": "codecbench"}):
            fig.savefig(path.with_suffix(".svg"), metadata={"Date": None})
        plt.close(fig)
        written.append(path)
    return written
