"""The leaderboard: one self-contained HTML file (no server, no network) per group."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .files import fmt
from .load import Group
from .tables import FAILED, failure_rows

# Sorts the table by the clicked header; cells carry their sort value in data-v.
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach((th, col) => {
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    th.closest("tr").querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = row => row.cells[col].dataset.v;
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      if (x === "" || y === "") return (x === "") - (y === "");
      const order = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return ascending ? order : -order;
    });
    rows.forEach(row => body.appendChild(row));
  });
});
"""

STYLE = """
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child, td.text { text-align: left; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
figure { display: inline-block; margin: 0.5em; } img { max-width: 620px; }
.note { color: #666; font-size: 12px; }
"""


def _cell(value, text: bool = False) -> str:
    """A cell that shows 4 significant digits and sorts by the full value."""
    shown = escape(f"{value:.4g}" if isinstance(value, float) else fmt(value))
    return f'<td data-v="{escape(fmt(value))}"{" class=text" if text else ""}>{shown}</td>'


def _table(rows: list[dict]) -> str:
    """A sortable table of rows of dicts (the CSV's columns)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    body = "".join(
        "<tr>" + "".join(_cell(row.get(c), not isinstance(row.get(c), (int, float))) for c in columns) + "</tr>"
        for row in rows
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def leaderboard(group: Group, rd: list[dict], bd: list[dict], stage_times: list[dict], counts: list[dict],
                anchor: str, plots: list[Path], command: str) -> str:  # fmt: skip
    bd_by_codec = {row["codec"]: row for row in bd}
    speed = {row["codec"]: row for row in stage_times}
    bd_columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    headers = [("codec", ""), ("kind", ""), ("points", "RD points"), ("bpp range", "")]
    headers += [(f"BD-rate {c} (%)", f"{group.metrics[c]['label']}, against {anchor}") for c in bd_columns]
    headers += [("mean BD-rate (%)", "mean over the metrics"), ("encode MP/s", ""), ("decode MP/s", "")]
    headers += [("description", "")]
    body = []
    for codec, meta in sorted(group.codecs.items()):
        rates = [r["bpp"] for r in rd if r["codec"] == codec]
        if not rates:
            continue
        cells = [_cell(codec, True), _cell("lossless" if meta.get("lossless") else "lossy", True), _cell(len(rates))]
        cells.append(_cell(f"{min(rates):.3f}–{max(rates):.3f}" if len(rates) > 1 else f"{rates[0]:.3f}", True))
        row = bd_by_codec.get(codec, {})
        cells += [_cell(row.get(f"bd_rate_{c}")) for c in bd_columns] + [_cell(row.get("bd_rate_mean"))]
        cells += [_cell(speed[codec]["encode_mps"]), _cell(speed[codec]["decode_mps"])]
        cells.append(_cell(meta.get("description", ""), True))
        body.append("<tr>" + "".join(cells) + "</tr>")
    notes = [
        f"{escape(row['codec'])} / {escape(c)}: {escape(row[f'note_{c}'])}"
        for row in bd
        for c in bd_columns
        if row.get(f"note_{c}")
    ]
    figures = [
        f'<figure><img alt="{escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"><figcaption>{escape(p.stem)}</figcaption></figure>'
        for p in plots
    ]
    versions = "".join(
        f"<tr><td class=text>{escape(codec)}</td><td class=text>"
        f"{escape(', '.join(f'{k} {v}' for k, v in meta.get('versions', {}).items()))}</td></tr>"
        for codec, meta in sorted(group.codecs.items())
    )
    failed = failure_rows(group)
    title = f"codecbench leaderboard: {group.dataset} ({group.crop})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>Machine: {escape(group.machine)}, Python {escape(group.python)}. {len(group.items)} items from
{escape(", ".join(group.sources))}. Made by <code>{escape(command)}</code>.</p>
<p class="note">BD-rate: bits saved (negative) or spent against {escape(anchor)} at equal quality, on the mean
RD curves; lossless codecs have no BD-rate. MP/s: median over the codec's items. Click a header to sort.</p>
<table class="sortable" id="leaderboard"><thead><tr>
{"".join(f'<th title="{escape(tip)}">{escape(h)}</th>' for h, tip in headers)}</tr></thead>
<tbody>{"".join(body)}</tbody></table>
{"<p class=note>Flagged BD values: " + "<br>".join(notes) + "</p>" if notes else ""}
{f"<h2>Failed items</h2><p class=note>{escape(FAILED)}</p>" + _table(failed) if failed else ""}
<h2>Rate–distortion</h2>
{"".join(figures)}
{"<h2>Multiply-accumulates (MACs) and parameters (fvcore)</h2>" + _table(counts) if counts else ""}
<h2>Library versions</h2>
<table><thead><tr><th>codec</th><th>versions</th></tr></thead><tbody>{versions}</tbody></table>
<script>{SCRIPT}</script>
</body></html>
"""
