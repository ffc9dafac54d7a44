"""The leaderboard: one HTML page per group, interactive, with no network at view time.

The rate–distortion chart is drawn by plotly.js (the ``plotly`` package's own copy, written
once beside the pages as ``plotly.min.js``): hover a point for codec, quality, bpp and
metric; click a legend entry to hide or show a codec; pick the metric and the image (mean
or one image, to find outliers). The BD-rate table switches among anchors computed in
advance; flagged cells carry their reason on hover. Tables sort by a click on a header.
"""

from __future__ import annotations

import json
from html import escape

from .files import fmt, readable
from .load import Group
from .tables import FAILED, HEADLINE, MATRIX, MIN_POINTS, borrowed_notes, failure_rows, startup_note

PLOTLY_FILE = "plotly.min.js"
FLAG = "†"

# Sorting of .sortable tables: cells carry their sort value in data-v.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(th => {
  th.addEventListener("click", () => {
    const col = Array.from(th.parentNode.children).indexOf(th);
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
# The anchor and the chart's controls; the chart's data sits in the page as JSON (#rd-data).
PAGE_SCRIPT = """
const anchorChoice = document.getElementById("anchor");
function showAnchor() {
  document.querySelectorAll("[data-anchor]").forEach(t => { t.hidden = t.dataset.anchor !== anchorChoice.value; });
}
if (anchorChoice) { anchorChoice.addEventListener("change", showAnchor); showAnchor(); }

const data = JSON.parse(document.getElementById("rd-data").textContent);
const chart = document.getElementById("rd-chart");
const metricChoice = document.getElementById("metric"), imageChoice = document.getElementById("image");
function draw() {
  if (!chart || typeof Plotly === "undefined") return;
  const column = metricChoice.value, image = imageChoice.value, label = data.metrics[column].label;
  const rows = image === "" ? data.mean : data.images.filter(r => r.image === image);
  const curves = new Map();
  rows.filter(r => r[column] !== null && r[column] !== undefined).forEach(r => {
    if (!curves.has(r.codec)) curves.set(r.codec, []);
    curves.get(r.codec).push(r);
  });
  const traces = Array.from(data.codecs, (codec, index) => {
    const points = (curves.get(codec) || []).sort((a, b) => a.bpp - b.bpp);
    return {
      type: "scatter", mode: "lines+markers", name: codec, uid: codec,
      visible: data.shown.includes(codec) ? true : "legendonly",  // many codecs: the plots' selection first
      x: points.map(p => p.bpp), y: points.map(p => p[column]), customdata: points.map(p => p.quality),
      marker: {symbol: index < 10 ? "circle" : index < 20 ? "square" : "diamond", size: 6},
      line: {dash: index < 10 ? "solid" : index < 20 ? "dash" : "dot", width: 1.5},
      hovertemplate: `<b>${codec}</b> quality %{customdata}<br>%{x:.4f} bpp<br>${label}: %{y:.4f}<extra></extra>`,
    };
  });
  Plotly.react(chart, traces, {
    uirevision: "codecs",  // hidden codecs stay hidden when the metric or image changes
    xaxis: {title: {text: data.xtitle}, type: data.logx ? "log" : "linear", uirevision: column + image},
    yaxis: {title: {text: label}, uirevision: column + image},
    hovermode: "closest", height: 560, margin: {t: 30},
    legend: {title: {text: "click: hide/show"}},
  }, {displaylogo: false, responsive: true});
}
if (metricChoice) { metricChoice.addEventListener("change", draw); imageChoice.addEventListener("change", draw); }
draw();
"""

STYLE = """
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; white-space: nowrap; }
td:first-child, th:first-child, td.text { text-align: left; }
td.wrap { white-space: normal; min-width: 28em; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
.scroll th { position: sticky; top: 0; z-index: 2; }
.scroll td:first-child, .scroll th:first-child { position: sticky; left: 0; z-index: 1; background: #fff; }
.scroll th:first-child { background: #f0f0f0; z-index: 3; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.flag { background: #fff3cd; cursor: help; }
.scroll { max-height: 32em; overflow: auto; display: inline-block; max-width: 100%; }
.scroll.board { max-height: none; }
.note { color: #555; font-size: 12px; max-width: 70em; }
label { margin-right: 1.5em; }
"""


def _cell(value, text: bool = False, flag: str = "", wrap: bool = False) -> str:
    """A cell that shows 4 significant digits and sorts by the full value. ``flag``: why the
    value is doubtful (marked, shown on hover), or why there is none (on hover only)."""
    shown = escape(readable(value))
    marked = bool(flag) and value is not None
    classes = " ".join(c for c, on in (("text", text), ("wrap", wrap), ("flag", marked)) if on)
    attributes = (f' class="{classes}"' if classes else "") + (f' title="{escape(flag)}"' if flag else "")
    return f'<td data-v="{escape(fmt(value))}"{attributes}>{shown}{f" {FLAG}" if marked else ""}</td>'


def _table(rows: list[dict], table_id: str = "", wrap: tuple[str, ...] = ()) -> str:
    """A sortable table of rows of dicts (the CSV's columns)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    body = "".join(
        "<tr>"
        + "".join(_cell(row.get(c), not isinstance(row.get(c), (int, float)), wrap=c in wrap) for c in columns)
        + "</tr>"
        for row in rows
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    ident = f' id="{table_id}"' if table_id else ""
    return f'<table class="sortable"{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _leaderboard_table(group: Group, rd: list[dict], bd: list[dict], stage_times: list[dict], anchor: str) -> str:
    bd_by_codec = {row["codec"]: row for row in bd}
    speed = {row["codec"]: row for row in stage_times}
    bd_columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    bd_columns = [c for c in bd_columns if any(row.get(f"bd_rate_{c}") is not None for row in bd)]
    # the summary's columns first (headline BD-rates, their mean, speed): one screen answers who wins
    headline = [c for c in HEADLINE if c in bd_columns]
    others = [c for c in bd_columns if c not in headline]
    headers = [("codec", ""), ("kind", ""), ("points", "RD points"), ("bpp range", "")]
    headers += [(f"BD-rate {HEADLINE[c]} (%)", f"{group.metrics[c]['label']}, against {anchor}") for c in headline]
    headers += [
        ("mean BD-rate (%)", "mean over the metrics the anchor and every other codec have"),
        ("encode MP/s", ""),
        ("decode MP/s", ""),
    ]
    headers += [(f"BD-rate {c} (%)", f"{group.metrics[c]['label']}, against {anchor}") for c in others]
    headers += [("description", "")]
    body = []
    ranked = sorted(group.codecs.items(), key=lambda kv: _rank(group, kv[0], bd_by_codec))
    for codec, meta in ranked:
        rates = [r["bpp"] for r in rd if r["codec"] == codec]
        if not rates:
            continue
        cells = [_cell(codec, True), _cell("lossless" if meta.get("lossless") else "lossy", True), _cell(len(rates))]
        cells.append(_cell(f"{min(rates):.3f}–{max(rates):.3f}" if len(rates) > 1 else f"{rates[0]:.3f}", True))
        row = bd_by_codec.get(codec, {})
        cells += [_cell(row.get(f"bd_rate_{c}"), flag=row.get(f"note_{c}") or "") for c in headline]
        times = speed.get(codec, {})  # none for a codec borrowed from another machine's run
        cells += [_cell(row.get("bd_rate_mean")), _cell(times.get("encode_mps")), _cell(times.get("decode_mps"))]
        cells += [_cell(row.get(f"bd_rate_{c}"), flag=row.get(f"note_{c}") or "") for c in others]
        cells.append(_cell(meta.get("description", ""), True))
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f'<th title="{escape(tip)}">{escape(h)}</th>' for h, tip in headers)
    return (
        f'<table class="sortable leaderboard" data-anchor="{escape(anchor)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _rank(group: Group, codec: str, bd_by_codec: dict) -> tuple:
    """The summary's order: lossy codecs by their mean BD-rate (best first), those without one, lossless last."""
    mean = bd_by_codec.get(codec, {}).get("bd_rate_mean")
    return not group.lossy(codec), mean is None, mean or 0, codec


def _chart_data(group: Group, rd: list[dict], images: list[dict], axis: dict, shown: list[str]) -> str:
    """The chart's data; ``shown``: the codecs drawn at first (the others a click on the legend away)."""
    lossy = sorted(c for c in group.codecs if group.lossy(c))
    keep = ("codec", "quality", "image", "bpp", *group.metrics)
    data = {
        "metrics": {c: {"label": meta["label"]} for c, meta in group.metrics.items()},
        "codecs": [c for c in lossy if any(r["codec"] == c for r in rd)],
        "mean": [{k: r.get(k) for k in keep if k in r} for r in rd if r["codec"] in lossy],
        "images": [{k: r.get(k) for k in keep} for r in images if r["codec"] in lossy],
        "shown": shown,
        "logx": axis["log"],
        "xtitle": axis["title"],
    }
    return json.dumps(data, allow_nan=False).replace("</", "<\\/")  # safe inside <script>


def _options(values: list[tuple[str, str]], chosen: str = "") -> str:
    return "".join(
        f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(text)}</option>' for v, text in values
    )


def leaderboard(
    group: Group,
    tables: dict,
    bd_by_anchor: dict[str, list[dict]],
    anchor: str,
    axis: dict,
    plots: list,
    command: str,
) -> str:
    """The page. ``tables``: rd, images, stage_times, complexity, counts, unmeasured rows, and the codecs
    the chart shows at first (``shown``);
    ``bd_by_anchor``: BD rows against each anchor offered, ``anchor`` the one shown first;
    ``axis``: log (bool), title and the reason for the bpp axis; ``plots``: (metric label, PNG path)."""
    rd, failed, unmeasured, counts = tables["rd"], failure_rows(group), tables["unmeasured"], tables["counts"]
    boards = "".join(_leaderboard_table(group, rd, bd, tables["stage_times"], a) for a, bd in bd_by_anchor.items())
    choices = _options([(a, a) for a in bd_by_anchor], anchor)
    anchor_choice = f'<label>BD-rate against <select id="anchor">{choices}</select></label>'
    if not bd_by_anchor:
        anchor_choice = "<p class=note>No BD-rate: no lossy codec has two or more RD points here.</p>"
    flagged = any(
        row.get(f"note_{c}") and row.get(f"bd_rate_{c}") is not None
        for bd in bd_by_anchor.values()
        for row in bd
        for c in group.metrics
    )
    flag_legend = (
        f"{FLAG} flagged: fewer than {MIN_POINTS} points of the anchor's or the codec's curve lie where their ranges "
        "overlap, the interval the value covers (hover the cell for the counts)."
        if flagged
        else ""
    )
    notes = [startup_note(group), *borrowed_notes(group)]
    caveats = "".join(f"<p class=note>{escape(note)}</p>" for note in notes if note)
    metric_choice = _options([(c, meta["label"]) for c, meta in group.metrics.items()])
    image_names = sorted({r["image"] for r in tables["images"]})
    image_choice = _options([("", "mean over images")] + [(i, i) for i in image_names])
    sections = {
        "unmeasured": "<h2>Codecs without rate–distortion points</h2>"
        + _table(unmeasured, "unmeasured", ("reason", "names")),
        "failed": f"<h2>Failed items</h2><p class=note>{escape(FAILED)}</p>"
        + _table(failed, "failed", ("first reason",)),
        "matrix": f"<h2>Transforms × entropy coders</h2><p class=note>{escape(MATRIX)}</p><div class=scroll>"
        + _table(tables["matrix"], "matrix")
        + "</div>",
        "counts": "<details><summary>MACs and parameters per quality (fvcore)</summary><div class=scroll>"
        + _table(counts, "macs", ("not_counted",))
        + "</div></details>",
    }
    present = {"unmeasured": unmeasured, "failed": failed, "counts": counts, "matrix": tables["matrix"]}
    shown = {name: html if present[name] else "" for name, html in sections.items()}
    versions = "".join(
        f"<tr><td class=text>{escape(codec)}</td><td class='text wrap'>"
        f"{escape(', '.join(f'{k} {v}' for k, v in meta.get('versions', {}).items()))}</td></tr>"
        for codec, meta in sorted(group.codecs.items())
    )
    static = ", ".join(
        f'<a href="{escape(path.name)}">{escape(label)}</a> (<a href="{escape(path.with_suffix(".svg").name)}">SVG</a>)'
        for label, path in plots
    )
    lossy = {r["codec"] for r in rd if group.lossy(r["codec"])}
    selection = (
        f" {len(tables['shown'])} of the {len(lossy)} codecs are drawn at first (the anchor and each family's best); "
        "the others are greyed in the legend, a click away."
        if len(tables["shown"]) < len(lossy)
        else ""
    )
    title = f"codecbench leaderboard: {group.dataset} ({group.crop})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{STYLE}</style>
<script src="../{PLOTLY_FILE}"></script></head>
<body>
<h1>{escape(title)}</h1>
<p>Machine: {escape(group.machine)}, Python {escape(group.python)}. {len(group.items)} items.</p>
<details><summary>From {len(group.sources)} files, made by codecbench report</summary>
<p class=note>{escape(", ".join(group.sources))}</p><p class=note><code>{escape(command)}</code></p></details>
<h2>Leaderboard</h2>
{anchor_choice}
<p class="note">BD-rate: bits saved (negative) or spent against the anchor at equal quality, on the mean RD
curves; rows by the mean BD-rate, best first; lossless codecs have none. MP/s: median over the codec's items.
Click a header to sort.
{flag_legend}</p>
{caveats}
<div class="scroll board">{boards}</div>
{shown["unmeasured"]}
{shown["failed"]}
<h2>Rate–distortion</h2>
<label>Metric <select id="metric">{metric_choice}</select></label>
<label>Image <select id="image">{image_choice}</select></label>
<p class="note">{escape(axis["reason"])} Hover a point for its values; click a codec in the legend to hide or
show it; drag to zoom, double-click to reset.{selection} The same plots as files: {static or "none"}.</p>
<div id="rd-chart"></div>
<script type="application/json" id="rd-data">{_chart_data(group, rd, tables["images"], axis, tables["shown"])}</script>
<h2>Complexity</h2>
<p class="note">Per codec: median wall time of encode and decode over its items (ms), MP/s, the largest peak
memory of an item, and for learned codecs fvcore's multiply-accumulates per pixel and parameters (median over
qualities; per quality below).</p>
<div class="scroll">{_table(tables["complexity"], "complexity")}</div>
{shown["counts"]}
{shown["matrix"]}
<h2>Library versions</h2>
<table><thead><tr><th>codec</th><th>versions</th></tr></thead><tbody>{versions}</tbody></table>
<script>{SORT_SCRIPT}{PAGE_SCRIPT}</script>
</body></html>
"""
