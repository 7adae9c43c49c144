"""A sparkline as a plain string of block characters, for table cells (pure, unit-tested)."""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = " "


def resample(values: Sequence[float], width: int) -> list[float]:
    """Squeeze or stretch to ``width`` points; each bucket keeps its maximum (peaks stay visible)."""
    if width <= 0 or not values:
        return []
    n = len(values)
    out = []
    for i in range(width):
        lo = i * n // width
        hi = max(lo + 1, (i + 1) * n // width)
        bucket = [v for v in values[lo:hi] if not math.isnan(v)]
        out.append(max(bucket) if bucket else math.nan)
    return out


def sparkline(values: Sequence[float], width: int, lo: float | None = None, hi: float | None = None) -> str:
    """``width`` block characters scaled between lo and hi (default: the data's min and max).

    NaN (no data) is a space. A flat line sits on the lowest block, so "no change" and
    "no data" look different.
    """
    points = resample(values, width)
    finite = [v for v in points if not math.isnan(v) and not math.isinf(v)]
    if not finite:
        return GAP * len(points)
    lo = min(finite) if lo is None else lo
    hi = max(finite) if hi is None else hi
    span = hi - lo
    chars = []
    for v in points:
        if math.isnan(v):
            chars.append(GAP)
        elif span <= 0:
            chars.append(BLOCKS[0])
        else:
            level = (min(max(v, lo), hi) - lo) / span
            chars.append(BLOCKS[min(len(BLOCKS) - 1, int(level * (len(BLOCKS) - 1) + 0.5))])
    return "".join(chars)
