"""The world as text: OpenMetrics for promtool's backfill, Prometheus text format for scraping.

Both spell every series the same way (``WorldSeries.selector``), so a backfilled series and
the live one are the same series in Prometheus.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import IO

from zeta_tui.demo.series import Family
from zeta_tui.demo.world import TeamZetaWorld

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def format_value(v: float) -> str:
    """Shortest text that parses back to exactly ``v`` (integers without a decimal point)."""
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def sample_times(start: float, end: float, step: int) -> list[int]:
    """Multiples of ``step`` in [start, end]: aligned, so separate runs write the same timestamps."""
    first = math.ceil(start / step) * step
    return list(range(int(first), math.floor(end) + 1, step))


def merge_times(*segments: Iterable[int]) -> list[int]:
    return sorted(set().union(*map(set, segments)))


def _openmetrics_type_header(family: Family) -> str:
    return f"# TYPE {family.name} {family.kind}\n# HELP {family.name} {family.help}\n"


def write_openmetrics(world: TeamZetaWorld, out: IO[str], times: list[int]) -> int:
    """Write every series at ``times`` (ascending) as OpenMetrics with timestamps; return the sample count.

    Families are contiguous and each series' samples are in time order, which is what
    ``promtool tsdb create-blocks-from openmetrics`` needs (it appends series by series).
    """
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise ValueError("times must be strictly ascending")
    stamps = [str(t) for t in times]
    written = 0
    current = None
    for family, series, values in world.columns([float(t) for t in times]):
        if family is not current:
            out.write(_openmetrics_type_header(family))
            current = family
        prefix = series.selector() + " "
        # One join per series keeps the per-sample Python work to a format call.
        # A NaN is a series absent at that time (ml_catalog.ABSENT): no sample.
        lines = [f"{prefix}{format_value(v)} {ts}\n" for v, ts in zip(values, stamps) if v == v]
        out.write("".join(lines))
        written += len(lines)
    out.write("# EOF\n")
    return written


def exposition_text(world: TeamZetaWorld, t: float) -> str:
    """The world at time ``t`` in the Prometheus text format (no timestamps: the scraper stamps them)."""
    values = world.values_at(t)
    lines: list[str] = []
    i = 0
    for family in world.families:
        # The text format names a counter family by its sample name (with _total).
        name = family.series[0].name if family.kind == "counter" else family.name
        lines.append(f"# HELP {name} {family.help}")
        lines.append(f"# TYPE {name} {family.kind}")
        for series in family.series:
            if values[i] == values[i]:  # NaN: absent now (ml_catalog.ABSENT)
                lines.append(f"{series.selector()} {format_value(values[i])}")
            i += 1
    lines.append("")
    return "\n".join(lines)
