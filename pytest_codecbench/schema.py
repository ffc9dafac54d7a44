"""The kinds of item a codecbench JSON holds, told apart in one place.

Every item's ``extra_info`` says its kind (``"kind"``); JSONs written before that key existed are
told apart by their fields: a count has ``complexity`` and no ``bpp``.
"""

from __future__ import annotations

RD = "rd"  # a rate–distortion measurement (benchmarks/test_rd.py): bpp, metrics, stage times
COUNT = "count"  # a complexity count (benchmarks/test_complexity.py): MACs and parameters


def kind(extra_info: dict) -> str:
    if extra_info.get("kind") in (RD, COUNT):
        return extra_info["kind"]
    return COUNT if "complexity" in extra_info and "bpp" not in extra_info else RD
