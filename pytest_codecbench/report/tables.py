"""Rate–distortion, per-image, BD-rate, stage-time and MAC tables of one group, as rows of dicts."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import defaultdict

import bjontegaard
import numpy as np

from ..metrics import distribution
from .load import Group, Item

MIN_POINTS = 3  # of each curve inside the interval a BD value covers, or it is flagged
AVERAGING = (
    "Each point averages the images of the dataset: bpp and every metric are arithmetic means over images "
    "(PSNR is averaged in dB per image, the usual convention, not computed from the mean MSE); "
    "times are medians over images of each item's median wall time; MP/s = megapixels / that time; "
    "±% is the median over images of the half-width of each item's 95 % confidence interval of its median, "
    "in % of it (none: too few rounds for one)."
)


FAILED = (
    "These items failed (a lossless codec not bit-exact, an error, a crash or a time limit): they are in no "
    "table, plot or BD-rate below."
)


MATRIX = (
    "Each transform with each entropy coder (codecs/matrix.py): mean bpp; overhead_pct, the coder's bytes against "
    "the symbols' ideal information content (Σ −log2 p under the transform's model where it gives one, else under "
    "a static model per plane, no table), median over "
    "items; the coder's own encode and decode time (ms) and millions of symbols per second, apart from the "
    "transform's time (analysis + synthesis + computing its probability models, ms); and BD-rate (%) per metric "
    "against the baseline, the transform with its default coder."
)


def failure_rows(group: Group) -> list[dict]:
    """Per codec: how many items failed, and the first one's reason."""
    by_codec = defaultdict(list)
    for failure in group.failed:
        by_codec[failure["codec"]].append(failure)
    return [
        {"codec": codec, "failed items": len(items), "first reason": str(items[0].get("reason", ""))}
        for codec, items in sorted(by_codec.items())
    ]


def unmeasured_rows(group: Group) -> list[dict]:
    """One row per reason for which codecs whose items were collected (skipped or failed: the JSON names
    them) have not a single rate–distortion point, with the codecs it holds; a codec of which no item was
    collected (not selected by -k or -m, say) is no row."""
    measured = {item.codec for item in group.items.values()}
    reasons = defaultdict(list)  # codec -> why
    for skip in group.skipped:
        if skip.get("test") in (None, "test_rd") and skip["reason"] not in reasons[skip["codec"]]:
            reasons[skip["codec"]].append(skip["reason"])
    for failure in group.failed:
        if failure.get("test") in (None, "test_rd") and failure["codec"] not in reasons:
            reasons[failure["codec"]].append("every item failed (see Failed items)")
    by_reason = defaultdict(list)
    for codec in sorted(set(reasons) - measured):
        by_reason["; ".join(reasons[codec])].append(codec)
    rows = [
        {"codecs": len(codecs), "reason": reason, "names": ", ".join(codecs)} for reason, codecs in by_reason.items()
    ]
    return sorted(rows, key=lambda row: (-row["codecs"], row["reason"]))


def _mean(values: list) -> float | None:
    """Mean of the values; None if any is null (an infinite metric, e.g. PSNR of an exact copy)."""
    return None if any(v is None for v in values) else statistics.fmean(values)


def _stage_ms(item: Item, stage: str) -> float | None:
    timing = item.record["timing"].get(stage)
    return timing["wall_median_s"] * 1e3 if timing else None


def _interval_pct(item: Item, stage: str) -> float | None:
    """The half-width of the 95 % confidence interval of an item's median stage time, in % of it."""
    timing = item.record["timing"].get(stage) or {}
    interval, median = timing.get("wall_median_ci_s"), timing.get("wall_median_s")
    if not interval or not median:
        return None
    return 100 * max(interval[1] - median, median - interval[0]) / median


def _median_or_none(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _mps(item: Item, stage: str) -> float:
    """Megapixels per second of one item's stage."""
    return item.pixels / 1e3 / _stage_ms(item, stage)


def _points(group: Group) -> dict[tuple[str, str], list[Item]]:
    points = defaultdict(list)
    for item in group.items.values():
        points[item.codec, str(item.quality)].append(item)
    return points


def rd_rows(group: Group) -> list[dict]:
    """One row per codec and quality, sorted by codec then bpp."""
    rows = []
    for (codec, quality), items in _points(group).items():
        row = {"codec": codec, "quality": quality, "images": len(items), "bpp": _mean([i.record["bpp"] for i in items])}
        estimates = [
            i.record["estimates"]["bpp_likelihood"]
            for i in items
            if "bpp_likelihood" in (i.record.get("estimates") or {})
        ]
        if estimates:
            row["bpp_likelihood"] = _mean(estimates)  # the entropy model's prediction, next to the real bpp
        for column in group.metrics:
            row[column] = _mean([i.record["metrics"].get(column) for i in items])
        row.update(set_metrics(group, items))
        timed = group.timed(codec)
        for stage in ("encode", "decode"):
            row[f"{stage}_ms"] = statistics.median(_stage_ms(i, stage) for i in items) if timed else None
            row[f"{stage}_ms_ci_pct"] = _median_or_none(_interval_pct(i, stage) for i in items) if timed else None
            row[f"{stage}_mps"] = statistics.median(_mps(i, stage) for i in items) if timed else None
        rows.append(row)
    return sorted(rows, key=lambda r: (r["codec"], r["bpp"]))


def set_metrics(group: Group, items: list[Item]) -> dict:
    """FID and KID of the group's metric columns over the items of one (codec, quality) (distribution.py),
    from the features each item stored; None where an item has none (measured without them)."""
    names = [name for name in distribution.COLUMNS if name in group.metrics]
    if not names:
        return {}
    empty = dict.fromkeys(distribution.columns(names))
    stored = [item.record.get("set_features") for item in items]
    if not all(stored):
        return empty
    try:
        return empty | distribution.aggregate(stored, names, group.set_references)
    except (ValueError, KeyError, TypeError):  # under two patches, an original's features not in the files, …
        return empty


def image_rows(group: Group) -> list[dict]:
    """One row per item, so outliers can be found."""
    rows = []
    for item in group.items.values():
        row = {"codec": item.codec, "quality": str(item.quality), "image": item.image, "bytes": item.record["bytes"]}
        row["bpp"] = item.record["bpp"]
        per_item = [c for c in group.metrics if c not in distribution.SET_COLUMNS]  # set metrics have no value per item
        row.update({column: item.record["metrics"].get(column) for column in per_item})
        timed = group.timed(item.codec)
        for stage in ("encode", "decode"):
            row[f"{stage}_ms"] = _stage_ms(item, stage) if timed else None
            row[f"{stage}_ms_ci_pct"] = _interval_pct(item, stage) if timed else None
        rows.append(row)
    return sorted(rows, key=lambda r: (r["codec"], r["bpp"], r["image"]))


def stage_time_rows(group: Group) -> list[dict]:
    """Per codec: the median over all its items of every timed stage, and the largest peak memory
    of an item (process and CUDA) where it was recorded."""
    by_codec = defaultdict(list)
    for item in group.items.values():
        if group.timed(item.codec):
            by_codec[item.codec].append(item)
    rows = []
    for codec, items in sorted(by_codec.items()):
        stages = sorted({stage for i in items for stage in i.record["timing"]})
        row = {"codec": codec, "items": len(items)}
        row.update(
            {f"{s}_ms": statistics.median(_stage_ms(i, s) for i in items if s in i.record["timing"]) for s in stages}
        )
        for stage in ("encode", "decode"):
            row[f"{stage}_mps"] = statistics.median(_mps(i, stage) for i in items)
        for kind in ("rss_above_start_mb", "cuda_max_allocated_mb", "child_process_mb"):
            peaks = [(i.record.get("peak_memory") or {}).get(kind) for i in items]
            peaks = [p for p in peaks if isinstance(p, (int, float))]
            if peaks:
                row[f"peak_{kind}"] = max(peaks)
        rows.append(row)
    return rows


def borrowed_notes(group: Group) -> list[str]:
    """One sentence per codec whose points were borrowed from another machine's run (``load.borrow``)."""
    own = {item.codec for item in group.items.values() if item.record.get("machine", group.machine) == group.machine}
    return [
        f"{codec}: {'some ' if codec in own else ''}rate–distortion points measured on {machine} (its times are "
        "in that machine's report, not here)."
        for codec, machine in sorted(group.borrowed.items())
    ]


def startup_note(group: Group) -> str:
    """A sentence naming what command-line codecs' times include: starting their program once per encode
    and per decode (``*_startup_ms`` estimates, median over items); "" where no codec has one."""
    costs = defaultdict(lambda: defaultdict(list))
    for item in group.items.values():
        for key, value in (item.record.get("estimates") or {}).items():
            if key.endswith("_startup_ms") and group.timed(item.codec):
                costs[item.codec][key.removesuffix("_startup_ms").replace("_", " ")].append(value)
    if not costs:
        return ""
    parts = [
        f"{codec} ({', '.join(f'{what} {statistics.median(v):.3g} ms' for what, v in sorted(kinds.items()))})"
        for codec, kinds in sorted(costs.items())
    ]
    return (
        "Times and MP/s of command-line codecs include starting their program once per encode and per decode: "
        + "; ".join(parts)
        + "."
    )


def macs_rows(group: Group) -> list[dict]:
    """Per codec and quality: fvcore's counts (median over images, which differ only in size),
    and the operators it did not count."""
    points = defaultdict(list)
    for item in group.counts.values():
        points[item.codec, str(item.quality)].append(item)
    rows = []
    for (codec, quality), items in points.items():
        row = {"codec": codec, "quality": quality, "images": len(items)}
        for part in ("encoder", "decoder"):
            row[f"{part}_kmacs_per_pixel"] = statistics.median(
                i.record["complexity"][f"{part}_kmacs_per_pixel"] for i in items
            )
            row[f"{part}_gmacs"] = statistics.median(i.record["complexity"][f"{part}_macs"] for i in items) / 1e9
            row[f"{part}_params"] = statistics.median_low(i.record["complexity"][f"{part}_params"] for i in items)
        skipped = defaultdict(set)
        for item in items:
            for part, ops in item.record["not_counted"].items():
                skipped[part].update(ops)
        row["not_counted"] = "; ".join(f"{part}: {', '.join(sorted(ops))}" for part, ops in skipped.items() if ops)
        row["counter"] = items[0].record["counter"]
        rows.append(row)
    return sorted(rows, key=lambda r: (r["codec"], _number(r["quality"])))


def complexity_rows(stage_times: list[dict], counts: list[dict]) -> list[dict]:
    """Per codec: encode/decode time and speed, peak memory, and (counted codecs) MACs per pixel
    and parameters, the median over qualities; codecs with counts but no timed item too."""
    rows = {}
    for row in stage_times:
        rows[row["codec"]] = {
            "codec": row["codec"],
            **{
                k: row.get(k)
                for k in (
                    "encode_ms",
                    "decode_ms",
                    "encode_mps",
                    "decode_mps",
                    "peak_rss_above_start_mb",
                    "peak_cuda_max_allocated_mb",
                    "peak_child_process_mb",
                )
            },
        }
    by_codec = defaultdict(list)
    for row in counts:
        by_codec[row["codec"]].append(row)
    for codec, points in by_codec.items():
        row = rows.setdefault(codec, {"codec": codec})
        for key in ("encoder_kmacs_per_pixel", "decoder_kmacs_per_pixel"):
            row[key] = statistics.median(p[key] for p in points)
        row["params"] = statistics.median_low(p["encoder_params"] + p["decoder_params"] for p in points)
    return [{k: v for k, v in row.items() if v is not None} for _, row in sorted(rows.items())]


def matrix_rows(group: Group, method: str = "pchip", rd: list[dict] | None = None) -> list[dict]:
    """Per transform × coder codec (its items carry a symbol count): bpp, the coder's overhead
    against the symbols' ideal information content, the coder's times and symbols per second
    apart from the transform's, and BD-rate per metric against its baseline (the transform
    with its default coder)."""
    curves = defaultdict(list)
    for row in rd_rows(group) if rd is None else rd:
        curves[row["codec"]].append(row)
    by_codec = defaultdict(list)
    for item in group.items.values():
        if "symbols" in (item.record.get("estimates") or {}):
            by_codec[item.codec].append(item)
    columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    rows = []
    for codec, items in sorted(by_codec.items()):
        transform, _, coder = codec.partition("+")
        baseline = group.codecs.get(codec, {}).get("baseline", "")
        overhead = _median_or_none(i.record["estimates"].get("coder_overhead_pct") for i in items)
        row = {
            "transform": transform,
            "coder": coder,
            "baseline": baseline,
            "items": len(items),
            "bpp": _mean([i.record["bpp"] for i in items]),
            "overhead_pct": overhead,
        }
        for stage, side in (("encode/entropy-coding", "encode"), ("decode/entropy-decoding", "decode")):
            # a learned transform's models (e.g. its hyper-synthesis) are computed inside the coder's stage
            times = [
                (i, _stage_ms(i, stage) - (_stage_ms(i, f"{stage}/model") or 0)) for i in items if _stage_ms(i, stage)
            ]
            row[f"coder_{side}_ms"] = _median_or_none(ms for _, ms in times)
            row[f"coder_{side}_msymbols_s"] = _median_or_none(
                i.record["estimates"]["symbols"] / ms / 1e3 for i, ms in times
            )
        row["transform_ms"] = _median_or_none(
            sum(
                _stage_ms(i, stage) or 0
                for stage in (
                    "encode/analysis",
                    "decode/synthesis",
                    "encode/entropy-coding/model",
                    "decode/entropy-decoding/model",
                )
            )
            for i in items
        )
        for column in columns:
            rate = None
            if baseline in curves and codec in curves:
                rate = (
                    0.0
                    if codec == baseline
                    else bd_value(curves[baseline], curves[codec], column, group.metrics[column], method)[0]
                )
            row[f"bd_rate_{column}"] = rate
        rows.append(row)
    return rows


def _number(quality: str):
    try:
        return float(quality)
    except ValueError:
        return quality


def bd_anchors(rd: list[dict], group: Group) -> list[str]:
    """Codecs that can be a BD-rate anchor: lossy, with two or more RD points."""
    points = defaultdict(int)
    for row in rd:
        if group.lossy(row["codec"]):
            points[row["codec"]] += 1
    return sorted(codec for codec, count in points.items() if count >= 2)


def in_window(rows: list[dict], bpp_range: tuple[float, float] | None) -> list[dict]:
    """The points whose bpp lies in ``bpp_range`` (inclusive; None: all), as JPEG AI's BD-rate takes
    only points between 0.06 and 1.00 bpp."""
    return rows if bpp_range is None else [r for r in rows if bpp_range[0] <= r["bpp"] <= bpp_range[1]]


def lossy_curves(group: Group, rows: list[dict], bpp_range: tuple[float, float] | None = None) -> dict[str, list]:
    """The mean RD points of each lossy codec (``rd_rows``), those in ``bpp_range`` only."""
    curves = defaultdict(list)
    for row in in_window(rows, bpp_range):
        if group.lossy(row["codec"]):
            curves[row["codec"]].append(row)
    return curves


def bd_rows(
    group: Group,
    anchor: str,
    method: str = "pchip",
    rd: list[dict] | None = None,
    bpp_range: tuple[float, float] | None = None,
) -> list[dict]:
    """BD-rate (%) and BD-metric of every lossy codec against ``anchor``, per metric, on the mean RD curves.

    A curve needs at least two points and a metric that rises with rate. Each value covers the interval
    where both curves' metric (BD-rate) or log-rate (BD-metric) ranges overlap, as the bjontegaard
    package computes it; a pair with fewer than MIN_POINTS points of either curve inside one of those
    intervals is flagged, the value then resting on too few points to mean much. ``rd``: the
    group's ``rd_rows``, where they were computed already; ``bpp_range``: only the points in it.
    """
    curves = lossy_curves(group, rd_rows(group) if rd is None else rd, bpp_range)
    if anchor not in curves:
        raise ValueError(f"anchor codec {anchor!r} has no lossy points here; codecs: {', '.join(sorted(curves))}")
    columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    averaged = mean_metrics(curves, anchor, columns)
    rows = []
    for codec in sorted(curves):
        row = {"codec": codec, "points": len(curves[codec])}
        for column in columns:
            rate, delta, note = bd_value(curves[anchor], curves[codec], column, group.metrics[column], method)
            row[f"bd_rate_{column}"], row[f"bd_{column}"], row[f"note_{column}"] = rate, delta, note
            if codec == anchor:  # exactly 0 against itself, not the interpolation's ±1e-15
                row[f"bd_rate_{column}"], row[f"bd_{column}"] = (0.0, 0.0) if rate is not None else (None, None)
        valid = [row[f"bd_rate_{c}"] for c in averaged if row[f"bd_rate_{c}"] is not None]
        row["bd_rate_mean"] = statistics.fmean(valid) if valid and len(valid) == len(averaged) else None
        rows.append(row)
    return rows


# JPEG AI's common test conditions: BD-rate on these seven, averaged (NLPD, lower is better, counts as
# 1 − NLPD there: the same BD-rate); MS-SSIM on Y' as a value, not in dB.
BD_PRESETS = {"jpeg-ai": ("ms_ssim_y", "vif", "fsim", "nlpd", "iw_ssim", "vmaf", "psnr_hvs")}


def select_bd_metrics(groups: list[Group], columns: tuple[str, ...]) -> list[str]:
    """Make ``columns`` the metrics of every group's BD-rate tables and their mean (none given: the
    columns' own ``bd_rate``); returns those that no group measured."""
    if not columns:
        return []
    for group in groups:
        group.metrics = {c: {**meta, "bd_rate": c in columns} for c, meta in group.metrics.items()}
    return [c for c in columns if not any(c in group.metrics for group in groups)]


def mean_metrics(curves: dict[str, list[dict]], anchor: str, columns: list[str]) -> list[str]:
    """The metrics the mean BD-rate covers: those the anchor has a curve of and every other curve
    (two points or more) has values of, so that each row's mean covers the same metrics (PSNR-YCbCr,
    opt-in, is often measured for the FFmpeg anchors only)."""
    return [
        c
        for c in columns
        if sum(r[c] is not None for r in curves[anchor]) >= 2
        and all(any(r[c] is not None for r in rows) for rows in curves.values() if len(rows) >= 2)
    ]


def bd_image_rows(
    group: Group,
    anchor: str,
    method: str = "pchip",
    bpp_range: tuple[float, float] | None = None,
    images: list[dict] | None = None,
) -> list[dict]:
    """BD-rate per image, then the mean over images (JPEG AI's way), per codec and metric: each image's
    curve of the codec against the anchor's curve on the same image, with ``bd_value``; an image where
    either curve has fewer than two points in ``bpp_range`` or they do not overlap gives no value, and
    ``images_*`` counts those that did. ``bd_rate_mean``: over ``mean_metrics`` of the images' points.
    ``images``: the group's ``image_rows``, where they were computed already."""
    curves = defaultdict(list)
    for row in in_window(image_rows(group) if images is None else images, bpp_range):
        if group.lossy(row["codec"]):
            curves[row["codec"], row["image"]].append(row)
    columns = [c for c, meta in group.metrics.items() if meta.get("bd_rate", True)]
    images = sorted({image for codec, image in curves if codec == anchor})
    pooled = defaultdict(list)
    for (codec, _), points in curves.items():
        pooled[codec] += points
    averaged = mean_metrics(pooled, anchor, columns) if anchor in pooled else []
    rows = []
    for codec in sorted(pooled):
        row = {"codec": codec}
        for column in columns:
            values = [
                bd_value(curves[anchor, image], curves[codec, image], column, group.metrics[column], method)[0]
                for image in images
                if (codec, image) in curves
            ]
            values = [0.0 if codec == anchor else v for v in values if v is not None]
            row[f"bd_rate_{column}"] = statistics.fmean(values) if values else None
            row[f"images_{column}"] = len(values)
        means = [row[f"bd_rate_{c}"] for c in averaged]
        row["bd_rate_mean"] = statistics.fmean(means) if means and None not in means else None
        rows.append(row)
    return rows


def _curve(rows: list[dict], column: str, higher_is_better: bool):
    points = sorted((r["bpp"], r[column]) for r in rows if r[column] is not None)
    rate = [p[0] for p in points]
    quality = [p[1] if higher_is_better else -p[1] for p in points]  # BD needs quality rising with rate
    return rate, quality


def bd_value(anchor_rows, test_rows, column, meta, method):
    """BD-rate, BD-metric and the flag's reason ("" if none) of one curve against another, on ``column``."""
    a_rate, a_quality = _curve(anchor_rows, column, meta.get("higher_is_better", True))
    t_rate, t_quality = _curve(test_rows, column, meta.get("higher_is_better", True))
    if min(len(a_rate), len(t_rate)) < 2:
        return None, None, "fewer than 2 points"
    for quality in (a_quality, t_quality):
        if any(b <= a for a, b in itertools.pairwise(quality)):
            return None, None, "metric not monotonic in rate"
    quality_overlap = _overlap(a_quality, t_quality)
    rate_overlap = _overlap(np.log(a_rate), np.log(t_rate))
    if quality_overlap == 0 or rate_overlap == 0:
        return None, None, "curves do not overlap"
    kw = {"method": method, "require_matching_points": False, "min_overlap": 0}  # overlap is flagged below
    rate = bjontegaard.bd_rate(a_rate, a_quality, t_rate, t_quality, **kw)
    delta = bjontegaard.bd_psnr(a_rate, a_quality, t_rate, t_quality, **kw)
    notes = [_too_few("metric", a_quality, t_quality), _too_few("log-rate", np.log(a_rate), np.log(t_rate))]
    return rate, delta if meta.get("higher_is_better", True) else -delta, "; ".join(n for n in notes if n)


def _too_few(what: str, anchor, test) -> str:
    """Why a BD value over the interval where both curves' ``what`` ranges overlap means little: fewer
    than MIN_POINTS points of either curve inside it (the value is an extrapolation of two); else ""."""
    low, high = max(min(anchor), min(test)), min(max(anchor), max(test))
    inside = [sum(low - 1e-12 <= v <= high + 1e-12 for v in values) for values in (anchor, test)]
    if min(inside) >= MIN_POINTS:
        return ""
    return f"{what} ranges overlap on {inside[0]} anchor and {inside[1]} codec points (fewer than {MIN_POINTS})"


def _overlap(a, b) -> float:
    """The share of the union of two ranges that both cover."""
    shared = min(max(a), max(b)) - max(min(a), min(b))
    return max(shared, 0) / (max(max(a), max(b)) - min(min(a), min(b)))


HEADLINE = {"psnr": "PSNR", "ms_ssim_db": "MS-SSIM dB", "lpips_alex": "LPIPS"}  # the summary's BD-rate columns
SUMMARY = (
    "One row per codec with rate–distortion points, sorted by the mean BD-rate (bits saved, negative, or spent "
    "against the anchor at equal quality, mean over the metrics the anchor and every other codec have); bpp: the "
    "range of its mean points; "
    "MP/s: median over its items; kMAC/px: fvcore's encoder/decoder count, median over qualities (learned codecs); "
    "settings: the first clause of the codec's description, and more where that does not tell it from another "
    "(chroma format, speed, bit depth, colour transform; the whole description is on the page). "
    "Per-metric BD-rates, per-quality points and stage times follow below."
)


def short_settings(descriptions: dict[str, str]) -> dict[str, str]:
    """What tells codecs apart, in few words: each description's first clause (up to ";"), without its
    parenthesised asides, and as many clauses more as it takes to differ from every other codec's."""
    clauses = {
        codec: [re.sub(r"\s*\([^()]*\)", "", part).strip() for part in text.split(";")]
        for codec, text in descriptions.items()
    }
    short = {}
    for codec, parts in clauses.items():
        count = 1
        while count < len(parts) and any(o != codec and clauses[o][:count] == parts[:count] for o in clauses):
            count += 1
        short[codec] = "; ".join(parts[:count])
    return short


def summary_rows(group: Group, rd: list[dict], bd: list[dict], complexity: list[dict]) -> list[dict]:
    """The first table: who wins, by how much, at what cost (see SUMMARY). Each BD value keeps its
    ``note_*`` (the flag's reason)."""
    bd_by_codec = {row["codec"]: row for row in bd}
    cost = {row["codec"]: row for row in complexity}
    rates = defaultdict(list)
    for row in rd:
        rates[row["codec"]].append(row["bpp"])
    settings = short_settings({codec: group.codecs.get(codec, {}).get("description", "") for codec in rates})
    rows = []
    for codec, bpp in rates.items():
        row = {"codec": codec, "bpp": f"{min(bpp):.3g}–{max(bpp):.3g}" if len(bpp) > 1 else f"{bpp[0]:.3g}"}
        scores = bd_by_codec.get(codec, {})
        for column in HEADLINE:
            if column in group.metrics and group.metrics[column].get("bd_rate", True):  # in the BD-rate tables
                row[f"bd_rate_{column}"] = scores.get(f"bd_rate_{column}")
                row[f"note_{column}"] = scores.get(f"note_{column}") or ""
        row["bd_rate_mean"] = scores.get("bd_rate_mean")
        speed = cost.get(codec, {})
        row["encode_mps"], row["decode_mps"] = speed.get("encode_mps"), speed.get("decode_mps")
        if speed.get("encoder_kmacs_per_pixel") is not None:
            row["kmac_per_px"] = f"{speed['encoder_kmacs_per_pixel']:.4g} / {speed['decoder_kmacs_per_pixel']:.4g}"
        row["settings"] = settings.get(codec, "")
        rows.append(row)
    return sorted(rows, key=lambda r: (not group.lossy(r["codec"]), r["bd_rate_mean"] is None, r["bd_rate_mean"] or 0))


def summary_labels(anchor: str) -> dict[str, str]:
    labels = {f"bd_rate_{c}": f"BD-rate {name} vs {anchor} (%)" for c, name in HEADLINE.items()}
    labels["bd_rate_mean"] = f"mean BD-rate vs {anchor} (%)"
    return {**labels, "encode_mps": "encode MP/s", "decode_mps": "decode MP/s", "kmac_per_px": "kMAC/px enc / dec"}
