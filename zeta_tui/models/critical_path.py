"""The critical path of a trace: the chain of work the request actually waited on.

Walking back from the end of a span: the child that finished last (before the point reached so
far) is what the span was waiting for, so its interval is on the path (and, inside it, its own
critical path); the gaps between such children are the span's own work. A child that overlaps a
later-finishing sibling ran in parallel and was not waited for. Children are clipped to their
parent (clock skew must not stretch the path beyond the parent).

The result is a list of segments, in time order, each a part of one span: stepping along them
shows where the time went. Iterative, so a 50,000-deep trace needs no recursion.
"""

from __future__ import annotations

from dataclasses import dataclass

from zeta_tui.models.bulk import gc_paused
from zeta_tui.models.trace_tree import TraceTree


@dataclass(frozen=True, slots=True)
class Segment:
    """[start_ns, end_ns) of span ``index`` is on the critical path."""

    index: int
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def critical_path(tree: TraceTree) -> list[Segment]:
    """The critical path from the root that ends last (the one the request finished with)."""
    with gc_paused():
        return _walk(tree)


def _walk(tree: TraceTree) -> list[Segment]:
    if not tree.roots:
        return []
    spans = tree.spans
    root = max(tree.roots, key=lambda i: (spans[i].end_ns, -spans[i].start_ns, -i))
    segments: list[Segment] = []  # collected from the end backwards
    # Each frame: (span, lo, hi, cursor, children still to consider, latest end first).
    stack: list[tuple[int, int, int, int, list[int]]] = []

    def open_frame(i: int, lo: int, hi: int) -> None:
        kids = [k for k in tree.children[i] if min(spans[k].end_ns, hi) > lo and spans[k].start_ns < hi]
        kids.sort(key=lambda k: (min(spans[k].end_ns, hi), spans[k].start_ns, k))
        stack.append((i, lo, hi, hi, kids))

    open_frame(root, spans[root].start_ns, spans[root].end_ns)
    while stack:
        i, lo, hi, cursor, kids = stack.pop()
        while kids:
            k = kids.pop()  # the latest-ending child left
            k_end = min(spans[k].end_ns, hi)
            if k_end > cursor:
                continue  # overlaps the child already on the path: it ran in parallel
            if k_end <= lo:
                kids.clear()  # the rest end earlier still: the span's own work fills the start
                continue
            if cursor > k_end:
                segments.append(Segment(i, k_end, cursor))
            k_start = max(spans[k].start_ns, lo)
            stack.append((i, lo, hi, k_start, kids))
            open_frame(k, k_start, k_end)
            break
        else:
            if cursor > lo:
                segments.append(Segment(i, lo, cursor))
    segments.reverse()
    return _merged(segments)


def _merged(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments of the same span joined into one."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].index == seg.index and out[-1].end_ns == seg.start_ns:
            out[-1] = Segment(seg.index, out[-1].start_ns, seg.end_ns)
        else:
            out.append(seg)
    return out


def on_path(segments: list[Segment]) -> dict[int, int]:
    """Span index -> nanoseconds it contributes to the critical path."""
    out: dict[int, int] = {}
    for seg in segments:
        out[seg.index] = out.get(seg.index, 0) + seg.duration_ns
    return out
