"""Human units for table cells: bytes, rates, seconds, ratios. Pure functions."""

from __future__ import annotations

import math

DASH = "–"


def _nan(v: float) -> bool:
    return isinstance(v, float) and math.isnan(v)


def bytes_(v: float | None) -> str:
    if v is None or _nan(v):
        return DASH
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            # Three significant figures at most: cells stay narrow enough for 80 columns.
            return f"{v:.0f} {unit}" if unit == "B" or abs(v) >= 10 else f"{v:.1f} {unit}"
        v /= 1024
    return DASH  # pragma: no cover


def bytes_rate(v: float | None) -> str:
    return DASH if v is None or _nan(v) else f"{bytes_(v)}/s"


def seconds(v: float | None) -> str:
    """Latency: 0.0123 -> '12.3 ms', 1.5 -> '1.50 s'; +Inf when the top bucket was hit."""
    if v is None or _nan(v):
        return DASH
    if math.isinf(v):
        return "> max bucket"
    if v < 1:
        return f"{v * 1000:.1f} ms" if v < 0.1 else f"{v * 1000:.0f} ms"
    return f"{v:.2f} s"


def per_second(v: float | None) -> str:
    if v is None or _nan(v):
        return DASH
    return f"{v:.2f}/s" if v < 10 else f"{v:,.0f}/s"


def cores(v: float | None) -> str:
    if v is None or _nan(v):
        return DASH
    return f"{v * 1000:.0f} m" if v < 1 else f"{v:.2f}"


def percent(v: float | None, digits: int = 1) -> str:
    return DASH if v is None or _nan(v) else f"{v * 100:.{digits}f}%"


def number(v: float | None) -> str:
    """A figure of unknown unit (an alert's expression): three significant digits, k/M/G above
    a thousand. 0.29333 -> '0.293', 1234 -> '1.23k'."""
    if v is None or _nan(v):
        return DASH
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.3g}{suffix}"
    return f"{v:.3g}"


def count(v: float | None) -> str:
    return DASH if v is None or _nan(v) else f"{round(v):,}"
