"""Trace durations over time as a few lines of text: one mark per trace (pure, unit-tested).

x is the trace's start within the window, y its duration on a log scale (a 10 ms trace and a
10 s one both stay readable). ``•`` is a trace, ``✖`` one with errors (text, not colour); a
cell holding several traces shows the worst: errors first, then the slowest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from zeta_tui.models.traces import TraceSummary, format_duration_ns


def duration_scatter(traces: Sequence[TraceSummary], start_ns: int, end_ns: int, width: int, height: int) -> list[str]:
    """``height`` lines of ``width`` characters, slowest at the top; the first line is labelled
    with the longest duration and the last with the shortest (in a left margin)."""
    if width < 12 or height < 2:
        return []
    durations = [max(1, t.duration_ns) for t in traces]
    if not durations:
        return [" " * width for _ in range(height)]
    lo, hi = math.log10(min(durations)), math.log10(max(durations))
    margin = 9
    plot = width - margin
    grid = [[" "] * plot for _ in range(height)]
    rank = [[-1.0] * plot for _ in range(height)]
    span = max(1, end_ns - start_ns)
    for t, d in zip(traces, durations):
        x = min(plot - 1, max(0, (t.start_ns - start_ns) * plot // span))
        level = 0.0 if hi == lo else (math.log10(d) - lo) / (hi - lo)
        y = height - 1 - min(height - 1, int(level * height))
        score = (1e18 if t.error_count else 0) + d
        if score > rank[y][x]:
            rank[y][x] = score
            grid[y][x] = "✖" if t.error_count else "•"
    labels = {0: format_duration_ns(max(durations)), height - 1: format_duration_ns(min(durations))}
    return [labels.get(y, "").rjust(margin - 1)[: margin - 1] + "┤" + "".join(row) for y, row in enumerate(grid)]
