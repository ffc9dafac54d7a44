"""Flat, sorted CSV and Markdown files that diff well in git."""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value + 0.0:.6g}"  # + 0.0: -0.0 (the anchor against itself) shows as 0
    return str(value)


def readable(value) -> str:
    """A number for people (Markdown and the page): four significant digits, thousands grouped, never an
    exponent; the CSVs keep ``fmt``'s six digits."""
    if not isinstance(value, float) or value == 0 or not math.isfinite(value):
        return fmt(value)
    decimals = max(0, 3 - math.floor(math.log10(abs(value))))
    return f"{value + 0.0:,.{decimals}f}"


def write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([fmt(row.get(c)) for c in columns] for row in rows)


def escape(text) -> str:
    """Text from JSON files, safe in Markdown that renders HTML: no raw tags."""
    return html.escape(str(text), quote=False)


def markdown(rows: list[dict], labels: dict[str, str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    labels = labels or {}
    cell = lambda text: escape(text).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(cell(labels.get(c, c)) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(readable(row.get(c))) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
