"""A trace's spans as a tree, with what is odd about it: the maths under the waterfall.

Real traces are messy, and every case still gives a tree:

- a span whose parent is not in the trace hangs under a placeholder row, one per missing
  parent id, spanning its children ("missing parent");
- a span id seen twice keeps both rows (the second is flagged ``duplicate``); children of that
  id hang under the first;
- a child that starts before its parent or ends after it is flagged (clock skew);
- parent chains that loop (a -> b -> a) are cut at the earliest span of the loop, flagged;
- several roots are fine (each is a top-level row).

Everything is index based (``spans[i]``) and iterative, so a 50,000-span trace, wide or 50,000
deep, builds in a fraction of a second without recursion limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from zeta_tui.models.bulk import gc_paused
from zeta_tui.models.traces import Span, Trace, format_duration_ns

MISSING_PARENT = "missing parent"


@dataclass(frozen=True, slots=True)
class TraceTree:
    """The tree of one trace. Row ``i`` is ``spans[i]``; placeholders follow the real spans."""

    trace: Trace
    spans: tuple[Span, ...]
    parent: tuple[int, ...]  # -1 for a root
    children: tuple[tuple[int, ...], ...]  # by start time
    roots: tuple[int, ...]  # by start time
    depth: tuple[int, ...]
    order: tuple[int, ...]  # depth-first, children by start time: the fully expanded rows
    position: tuple[int, ...]  # position[i]: where span i is in ``order``
    size: tuple[int, ...]  # rows in the subtree of i, itself included
    self_ns: tuple[int, ...]  # time of span i not covered by any child (within the span)
    flags: dict[int, tuple[str, ...]]  # span index -> what is odd about it, in words
    placeholders: frozenset[int]
    start_ns: int  # the earliest span start (0 for no spans): computed once, read on every row drawn
    end_ns: int  # the latest span end

    def subtree(self, i: int) -> tuple[int, ...]:
        """Span i and everything under it, in row order."""
        at = self.position[i]
        return self.order[at : at + self.size[i]]

    def ancestors(self, i: int) -> list[int]:
        """Parents of span i, nearest first."""
        out = []
        p = self.parent[i]
        while p >= 0:
            out.append(p)
            p = self.parent[p]
        return out

    def is_placeholder(self, i: int) -> bool:
        return i in self.placeholders


def build_tree(trace: Trace) -> TraceTree:
    """The tree of ``trace`` (see the module docstring for how odd traces are handled)."""
    with gc_paused():
        return _build(trace)


def _build(trace: Trace) -> TraceTree:
    spans = list(trace.spans)
    flags: dict[int, list[str]] = {}
    first_of: dict[str, int] = {}
    for i, s in enumerate(spans):
        if s.span_id in first_of:
            flags.setdefault(i, []).append("duplicate span id")
        else:
            first_of[s.span_id] = i

    # Parents by id; a missing parent id gets one placeholder row for all its children.
    parent = [-1] * len(spans)
    missing: dict[str, list[int]] = {}
    for i, s in enumerate(spans):
        if not s.parent_id:
            continue
        p = first_of.get(s.parent_id)
        if p is None:
            missing.setdefault(s.parent_id, []).append(i)
        elif p != i:
            parent[i] = p
    for parent_id, kids in missing.items():
        start = min(spans[k].start_ns for k in kids)
        end = max(spans[k].end_ns for k in kids)
        spans.append(Span(trace.trace_id, parent_id, "", MISSING_PARENT, "", start, end - start))
        parent.append(-1)
        for k in kids:
            parent[k] = len(spans) - 1
    placeholders = frozenset(range(len(trace.spans), len(spans)))
    n = len(spans)

    children_lists: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(parent):
        if p >= 0:
            children_lists[p].append(i)
    _cut_loops(spans, parent, children_lists, flags)

    starts = [s.start_ns for s in spans]
    ends = [s.start_ns + s.duration_ns for s in spans]
    for kids in children_lists:
        if len(kids) > 1:
            kids.sort(key=lambda k: (starts[k], k))
    roots = sorted((i for i in range(n) if parent[i] < 0), key=lambda k: (starts[k], k))

    # Depth-first order without recursion; sizes from the order walked backwards.
    order: list[int] = []
    depth = [0] * n
    stack = list(reversed(roots))
    while stack:
        i = stack.pop()
        order.append(i)
        kids = children_lists[i]
        if kids:
            d = depth[i] + 1
            for k in kids:
                depth[k] = d
            stack.extend(reversed(kids))
    position = [0] * n
    for at, i in enumerate(order):
        position[i] = at
    size = [1] * n
    for i in reversed(order):
        if parent[i] >= 0:
            size[parent[i]] += size[i]

    self_ns = [0] * n
    for i in range(n):
        kids = children_lists[i]
        lo, hi = starts[i], ends[i]
        if not kids:
            self_ns[i] = hi - lo
            continue
        # Time covered by the children's union (they are sorted by start), clipped to the span.
        covered, cursor = 0, lo
        for k in kids:
            a, b = max(starts[k], cursor), min(ends[k], hi)
            if b > a:
                covered += b - a
                cursor = b
        self_ns[i] = hi - lo - covered
        if i in placeholders:
            continue
        for k in kids:
            if starts[k] < lo:
                flags.setdefault(k, []).append(
                    f"starts {format_duration_ns(lo - starts[k])} before its parent (clock skew?)"
                )
            if ends[k] > hi:
                flags.setdefault(k, []).append(
                    f"ends {format_duration_ns(ends[k] - hi)} after its parent (clock skew?)"
                )
    for i in placeholders:
        flags.setdefault(i, []).append(f"span {spans[i].span_id} is not in the trace")

    return TraceTree(
        trace=trace,
        spans=tuple(spans),
        parent=tuple(parent),
        children=tuple(tuple(k) for k in children_lists),
        roots=tuple(roots),
        depth=tuple(depth),
        order=tuple(order),
        position=tuple(position),
        size=tuple(size),
        self_ns=tuple(self_ns),
        flags={i: tuple(v) for i, v in flags.items()},
        placeholders=placeholders,
        start_ns=min(starts, default=0),
        end_ns=max(ends, default=0),
    )


def _cut_loops(spans: list[Span], parent: list[int], children: list[list[int]], flags: dict[int, list[str]]) -> None:
    """Make every span reachable from a root: a parent chain that loops is cut at its earliest span."""
    reached = [False] * len(spans)
    stack = [i for i, p in enumerate(parent) if p < 0]
    while True:
        while stack:
            i = stack.pop()
            reached[i] = True
            stack.extend(children[i])
        stranded = [i for i, r in enumerate(reached) if not r]
        if not stranded:
            return
        cut = min(stranded, key=lambda i: (spans[i].start_ns, i))
        children[parent[cut]].remove(cut)
        parent[cut] = -1
        flags.setdefault(cut, []).append("its parent chain loops back to it; shown as a root")
        stack = [cut]
