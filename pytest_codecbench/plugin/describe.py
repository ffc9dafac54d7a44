"""What a sweep says about itself: the JSON report's ``codecbench`` section, and the header's forecast of skips."""

from __future__ import annotations

import shlex
from collections import defaultdict

from .. import metrics
from ..measure import timing
from .sweep import Sweep


def describe(sweep: Sweep) -> dict:
    """What the numbers were measured on, for the JSON report."""
    return {
        "command": shlex.join(["pytest", *sweep.config.invocation_params.args]),
        "dataset": {"name": sweep.dataset.name, "source": sweep.dataset.source, "images": len(sweep.dataset.images)},
        "crop": list(sweep.crop) if sweep.crop else None,
        "timing": {  # when an item's rounds stop (measure._time)
            "median_ci_half_width": sweep.time_precision,
            "confidence": timing.CONFIDENCE,
            "min_rounds": sweep.config.option.benchmark_min_rounds,
            "max_time_s": float(sweep.config.option.benchmark_max_time),
        },
        "metrics": {
            key: {"label": column.label, "higher_is_better": column.higher_is_better, "bd_rate": column.bd_rate}
            for metric in metrics.available().values()
            if metric.name in sweep.metric_names
            for key, column in metric.columns.items()
        },
        "metric_notes": sweep.metric_notes,  # metrics left out, and why
        "metric_versions": {
            metric.name: metric.versions()
            for metric in metrics.available().values()
            if metric.name in sweep.metric_names and metric.versions
        },
        "codecs": {
            codec.name: {
                "description": codec.description,
                "lossless": codec.lossless,
                "qualities": list(sweep.qualities[codec.name]),
                "source": codec.source,
                "versions": sweep.versions(codec),
                **({"baseline": codec.baseline} if codec.baseline else {}),
            }
            for codec in sweep.selected
        },
    }


FORECAST_NAMES = 3  # codecs named per line of the header's skip forecast; -v names them all


def skip_forecast(sweep: Sweep) -> list[str]:
    """One line per reason for which some selected codecs' items will skip: a library that does
    not import, or weights that are not in their cache (their items try to download them first)."""
    lines = []
    missing_weights: dict[str, list[str]] = defaultdict(list)  # cache folder -> codecs
    for codec in sweep.selected:
        missing = codec.missing_requirement()
        if missing:
            lines.append(f"its items skip: {missing}")
            continue
        folders = {
            c.cache_folder for q in sweep.qualities[codec.name] for c in codec.weights(q) if not c.path.is_file()
        }
        for folder in folders:
            missing_weights[str(folder)].append(codec.name)
    for folder, names in missing_weights.items():
        shown = names if sweep.config.option.verbose > 0 else names[:FORECAST_NAMES]
        more = f" … and {len(names) - len(shown)} more (-v lists them)" if len(shown) < len(names) else ""
        lines.append(
            f"rate–distortion items of {len(names)} codecs skip unless their weights download into {folder} "
            f"(`codecbench weights --download`; complexity items run): {', '.join(shown)}{more}"
        )
    return lines
