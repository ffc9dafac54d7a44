"""Flat, sorted CSV and Markdown files that diff well in git."""

from __future__ import annotations

import csv
from pathlib import Path


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([fmt(row.get(c)) for c in columns] for row in rows)


def markdown(rows: list[dict], labels: dict[str, str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    labels = labels or {}
    escape = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(escape(labels.get(c, c)) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(escape(fmt(row.get(c))) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
