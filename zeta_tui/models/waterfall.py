"""Waterfall layout: which rows show, where each span's bar goes, the time axis, search.

Pure functions over a TraceTree. ``visible_rows`` walks the depth-first order and jumps over a
collapsed span's subtree in one step (``size``), so it costs the number of rows shown, and a
screen only renders the rows in its viewport.
"""

from __future__ import annotations

from zeta_tui.models.trace_tree import TraceTree
from zeta_tui.models.traces import format_duration_ns


def visible_rows(tree: TraceTree, collapsed: set[int] | frozenset[int]) -> list[int]:
    """Span indices shown, top to bottom, when the spans in ``collapsed`` hide their subtrees."""
    order, size = tree.order, tree.size
    if not collapsed:
        return list(order)
    rows: list[int] = []
    at, end = 0, len(order)
    while at < end:
        i = order[at]
        rows.append(i)
        at += size[i] if i in collapsed else 1
    return rows


def collapse_all(tree: TraceTree) -> set[int]:
    """Every span with children collapsed: only the roots show."""
    return {i for i, kids in enumerate(tree.children) if kids}


def expand_to_depth(tree: TraceTree, depth: int) -> set[int]:
    """Collapsed set that shows spans down to ``depth`` (roots are depth 0)."""
    return {i for i, kids in enumerate(tree.children) if kids and tree.depth[i] >= depth}


def reveal(tree: TraceTree, collapsed: set[int], i: int) -> set[int]:
    """``collapsed`` with span i's ancestors expanded, so that i shows."""
    return collapsed - set(tree.ancestors(i))


def bar_columns(start_ns: int, end_ns: int, t0: int, t1: int, width: int) -> tuple[int, int]:
    """[first, last) columns of a bar for [start, end) on an axis of ``width`` columns for
    [t0, t1]. At least one column, so that a 1 µs span in a 10 s trace is still seen; a span
    outside the axis (clock skew) is clamped to its edge."""
    if width <= 0:
        return 0, 0
    total = max(1, t1 - t0)
    first = (start_ns - t0) * width // total
    last = -((t0 - end_ns) * width // total)  # ceil
    first = min(max(first, 0), width - 1)
    last = min(max(last, first + 1), width)
    return first, last


def axis_ticks(t0: int, t1: int, width: int, every: int = 16) -> list[tuple[int, str]]:
    """(column, label) of time-axis ticks about every ``every`` columns, offsets from t0."""
    if width < 8:
        return []
    count = max(1, width // every)
    out = []
    for n in range(count + 1):
        col = min(width - 1, n * width // count)
        out.append((col, format_duration_ns((t1 - t0) * n // count) if n else "0"))
    return out


def matches(tree: TraceTree, text: str) -> list[int]:
    """Spans whose operation, service, id, status message or any attribute value contains
    ``text`` (case-blind), in row order (depth-first)."""
    needle = text.strip().lower()
    if not needle:
        return []
    out = []
    for i in tree.order:
        s = tree.spans[i]
        haystack = [s.name, s.service, s.span_id, s.status_message]
        haystack += [f"{k}={v}" for k, v in s.attributes.items()]
        if any(needle in str(h).lower() for h in haystack):
            out.append(i)
    return out
