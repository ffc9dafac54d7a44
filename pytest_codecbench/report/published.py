"""Published rate–distortion curves beside ours: CompressAI's Kodak results, kept in the package
data (``data/published/compressai/SOURCE.md`` names the commit and the licence). Their BD-rate
against our anchor, next to theirs against their own anchor, says whether our anchor is theirs."""

from __future__ import annotations

import json
import math
from importlib.resources import files

from .load import Group
from .tables import bd_value

# name -> what the curves were measured on, their anchor, and their metric keys -> ours
SOURCES = {
    "compressai": {
        "dataset": "kodak",
        "crop": "full",
        "anchor": "vtm",
        "columns": {"psnr-rgb": "psnr", "ms-ssim-rgb": "ms_ssim"},
    }
}


def curves(name: str) -> dict[str, list[dict]]:
    """{``name:file stem``: points as ``rd_rows`` gives them (bpp and our metric columns)}."""
    source = SOURCES[name]
    found = {}
    for path in sorted(files("pytest_codecbench").joinpath("data", "published", name).iterdir()):
        if not path.name.endswith(".json"):
            continue
        results = json.loads(path.read_text())["results"]
        rows = []
        for index, bpp in enumerate(results["bpp"]):
            row = {"bpp": bpp, **{ours: results[theirs][index] for theirs, ours in source["columns"].items()}}
            if "ms_ssim" in row:
                row["ms_ssim_db"] = -10 * math.log10(1 - row["ms_ssim"])
            rows.append(row)
        found[f"{name}:{path.name.removesuffix('.json')}"] = rows
    return found


def mismatch(name: str, group: Group) -> str | None:
    """Why ``name``'s curves do not belong beside this group's, or None."""
    source = SOURCES[name]
    if (group.dataset, group.crop) != (source["dataset"], source["crop"]):
        measured = f"{source['dataset']} ({source['crop']})"
        return f"{name}'s published curves are of {measured}, not {group.dataset} ({group.crop})"
    return None


def bd_rows(name: str, published: dict[str, list[dict]], group: Group, anchor: str, anchor_rows, method: str):
    """Per published curve and metric: its BD-rate against our ``anchor`` and against their own anchor's
    points in the bpp range of ours (within 10 %), so that both values cover the same rates."""
    theirs = SOURCES[name]["anchor"]
    low, high = min(r["bpp"] for r in anchor_rows), max(r["bpp"] for r in anchor_rows)
    their_anchor = [p for p in published[f"{name}:{theirs}"] if low / 1.1 <= p["bpp"] <= high * 1.1]
    rows = []
    for label, points in published.items():
        row = {"curve": label, "points": len(points), "bpp": f"{points[0]['bpp']:.3g}–{points[-1]['bpp']:.3g}"}
        for column in ("psnr", "ms_ssim_db"):
            if column not in group.metrics:
                continue
            meta = group.metrics[column]
            ours, _, note = bd_value(anchor_rows, points, column, meta, method)
            own, _, _ = bd_value(their_anchor, points, column, meta, method)
            row[f"bd_rate_{column}_vs_{anchor}"] = ours
            row[f"bd_rate_{column}_vs_their_{theirs}"] = own
            row[f"difference_{column}_points"] = None if ours is None or own is None else ours - own
            row[f"note_{column}"] = note
        rows.append(row)
    return rows
