"""The index of a report over several groups (machines, datasets, crops): links to each
group's leaderboard, and each dataset's codec speeds with the machines side by side."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from .files import markdown, write_csv
from .load import Group
from .page import SORT_SCRIPT, STYLE, _table
from .tables import stage_time_rows


def _speed_rows(groups: list[Group]) -> list[dict]:
    """One row per codec: encode and decode MP/s (median over its items) on each machine."""
    rows = defaultdict(dict)
    for group in groups:
        for row in stage_time_rows(group):
            for stage in ("encode", "decode"):
                rows[row["codec"]][f"{stage} MP/s, {group.machine}"] = row[f"{stage}_mps"]
    return [{"codec": codec, **speeds} for codec, speeds in sorted(rows.items())]


HASHES = {"bitstream": "bitstream_sha256", "decoded image": "decoded_sha256"}


def disagreements(groups: list[Group]) -> tuple[int, list[dict]]:
    """How many items (codec, quality, image) of one dataset and crop were measured on several machines,
    and those that did not give the same bitstream or the same decoded image on all of them (entropy
    coders that decode differently on another device, encoders with machine-dependent paths). Records
    without a hash (older JSONs) take no part."""
    by_item = defaultdict(dict)
    for group in groups:
        for key, item in group.items.items():
            if group.timed(item.codec):  # a borrowed item is the other machine's record
                by_item[group.dataset, group.crop, *key][group.machine] = item.record
    rows, shared = [], sum(len(records) > 1 for records in by_item.values())
    for (dataset, crop, codec, quality, image), records in sorted(by_item.items()):
        differs = [what for what, key in HASHES.items() if len({r[key] for r in records.values() if r.get(key)}) > 1]
        if len(records) < 2 or not differs:
            continue
        hashes = {
            machine: " / ".join((r.get(key) or "?")[:12] for key in HASHES.values()) for machine, r in records.items()
        }
        row = {"dataset": dataset, "crop": crop, "codec": codec, "quality": quality, "image": image}
        row["differs"] = " and ".join(differs)
        row["machines (bitstream / decoded SHA-256)"] = "; ".join(f"{m}: {h}" for m, h in sorted(hashes.items()))
        rows.append(row)
    return shared, rows


def _agreement(shared: int, differing: list[dict]) -> str:
    if not differing:
        return f"All {shared} items measured on more than one machine gave the same bitstream and decoded image."
    return (
        f"{len(differing)} of the {shared} items measured on more than one machine gave another bitstream or decoded "
        "image on another machine (cross-machine.csv; hashes shortened to 12 hex digits):"
    )


def write_index(groups: list[Group], out: Path, command: str) -> None:
    listing = [
        {
            "dataset": g.dataset,
            "crop": g.crop,
            "machine": g.machine,
            "items": len(g.items),
            "codecs": len({i.codec for i in g.items.values()}),
            "report": g.name,
        }
        for g in sorted(groups, key=lambda g: (g.dataset, g.crop, g.machine))
    ]
    by_dataset = defaultdict(list)
    for group in groups:
        by_dataset[group.dataset, group.crop].append(group)
    speeds = {key: _speed_rows(alike) for key, alike in sorted(by_dataset.items())}
    note = (
        "Speed: megapixels per second, the median over a codec's items, measured on each machine with its own "
        "settings (see each report's sweep commands); compare machines, not codecs across datasets."
    )
    md = f"# codecbench results\n\nMade by `{command}`.\n\n" + markdown(
        [{**row, "report": f"[{row['report']}]({row['report']}/README.md)"} for row in listing]
    )
    for (dataset, crop), rows in speeds.items():
        md += f"\n## Speed on {dataset} ({crop})\n\n{note}\n\n{markdown(rows)}"
    shared, differing = disagreements(groups)
    if shared:
        md += f"\n## The same items on several machines\n\n{_agreement(shared, differing)}\n\n"
        md += markdown(differing) if differing else ""
        write_csv(out / "cross-machine.csv", differing)
    (out / "index.md").write_text(md)
    links = "".join(
        f"<tr><td class=text>{escape(r['dataset'])}</td><td class=text>{escape(r['crop'])}</td>"
        f"<td class=text>{escape(r['machine'])}</td><td>{r['items']}</td><td>{r['codecs']}</td>"
        f'<td class=text><a href="{escape(r["report"])}/index.html">leaderboard</a> · '
        f'<a href="{escape(r["report"])}/README.md">tables</a></td></tr>'
        for r in listing
    )
    if shared:
        sections_cross = f"<h2>The same items on several machines</h2><p>{escape(_agreement(shared, differing))}</p>"
        sections_cross += f"<div class=scroll>{_table(differing, 'cross')}</div>" if differing else ""
    else:
        sections_cross = ""
    sections = "".join(
        f"<h2>Speed on {escape(dataset)} ({escape(crop)})</h2><div class=scroll>{_table(rows, 'speed')}</div>"
        for (dataset, crop), rows in speeds.items()
    )
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>codecbench results</title><style>{STYLE}</style></head>
<body>
<h1>codecbench results</h1>
<p>Made by <code>{escape(command)}</code>. One leaderboard per dataset, crop and machine.</p>
<table id="reports"><thead><tr><th>dataset</th><th>crop</th><th>machine</th><th>items</th><th>codecs</th>
<th>report</th></tr></thead><tbody>{links}</tbody></table>
<p class="note">{escape(note)}</p>
{sections}
{sections_cross}
<script>{SORT_SCRIPT}</script>
</body></html>
""")
