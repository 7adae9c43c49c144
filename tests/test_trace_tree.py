"""Trace tree, critical path and waterfall layout on small hand-built traces.

Every expectation here was worked out by hand from the span times written in the test (in ms),
not read from the program's output.
"""

from __future__ import annotations

from zeta_tui.models.critical_path import Segment, critical_path, on_path
from zeta_tui.models.trace_tree import MISSING_PARENT, build_tree
from zeta_tui.models.traces import Span, Trace
from zeta_tui.models.waterfall import (
    axis_ticks,
    bar_columns,
    collapse_all,
    expand_to_depth,
    matches,
    reveal,
    visible_rows,
)

MS = 1_000_000


def span(
    sid: str, parent: str, start_ms: float, end_ms: float, name: str = "", service: str = "svc", **attributes
) -> Span:
    return Span(
        "t1",
        sid,
        parent,
        name or sid,
        service,
        int(start_ms * MS),
        int((end_ms - start_ms) * MS),
        attributes=attributes,
    )


# The seed's POST /api/v1/recommendations, 150 ms (times in ms from the request's start).
SEED = Trace(
    "t1",
    (
        span("R", "", 0, 150, "POST /api/v1/recommendations", "backend-api"),
        span("A", "R", 2, 12, "authenticate", "auth"),
        span("M", "R", 14, 120, "ml_engine_call", "ml-engine"),
        span("E", "M", 16, 40, "get_user_embedding", "ml-engine"),
        span("RG", "E", 18, 22, "redis_get", "redis"),
        span("S", "M", 42, 95, "ann_search", "ml-engine"),
        span("F", "S", 44, 90, "faiss_search", "ml-engine"),
        span("RR", "M", 96, 115, "rerank", "ml-engine"),
        span("L", "R", 122, 145, "log_usage", "backend-api"),
        span("P", "L", 124, 140, "postgres_insert", "postgres"),
    ),
)


def ids(tree, rows):
    return [tree.spans[i].span_id for i in rows]


def test_seed_tree_shape_depth_and_self_time():
    tree = build_tree(SEED)
    assert ids(tree, tree.order) == ["R", "A", "M", "E", "RG", "S", "F", "RR", "L", "P"]
    assert dict(zip(ids(tree, tree.order), (tree.depth[i] for i in tree.order))) == {
        "R": 0,
        "A": 1,
        "M": 1,
        "E": 2,
        "RG": 3,
        "S": 2,
        "F": 3,
        "RR": 2,
        "L": 1,
        "P": 2,
    }
    self_ms = {tree.spans[i].span_id: tree.self_ns[i] / MS for i in tree.order}
    # R: 150 - (10 + 106 + 23); M: 106 - (24 + 53 + 19); E: 24 - 4; S: 53 - 46; L: 23 - 16.
    assert self_ms == {"R": 11, "A": 10, "M": 10, "E": 20, "RG": 4, "S": 7, "F": 46, "RR": 19, "L": 7, "P": 16}
    assert tree.flags == {} and tree.placeholders == frozenset()
    assert tree.size[tree.order[0]] == 10 and ids(tree, tree.subtree(2)) == ["M", "E", "RG", "S", "F", "RR"]


def test_seed_critical_path():
    tree = build_tree(SEED)
    path = [(tree.spans[s.index].span_id, s.start_ns / MS, s.end_ns / MS) for s in critical_path(tree)]
    assert path == [
        ("R", 0, 2),
        ("A", 2, 12),
        ("R", 12, 14),
        ("M", 14, 16),
        ("E", 16, 18),
        ("RG", 18, 22),
        ("E", 22, 40),
        ("M", 40, 42),
        ("S", 42, 44),
        ("F", 44, 90),
        ("S", 90, 95),
        ("M", 95, 96),
        ("RR", 96, 115),
        ("M", 115, 120),
        ("R", 120, 122),
        ("L", 122, 124),
        ("P", 124, 140),
        ("L", 140, 145),
        ("R", 145, 150),
    ]
    share = {tree.spans[i].span_id: ns / MS for i, ns in on_path(critical_path(tree)).items()}
    assert share["F"] == 46 and share["R"] == 2 + 2 + 2 + 5 and sum(share.values()) == 150


def test_parallel_children_only_the_last_to_finish_is_waited_for():
    tree = build_tree(Trace("t1", (span("r", "", 0, 100), span("a", "r", 0, 80), span("b", "r", 10, 90))))
    path = [(tree.spans[s.index].span_id, s.start_ns / MS, s.end_ns / MS) for s in critical_path(tree)]
    assert path == [("r", 0, 10), ("b", 10, 90), ("r", 90, 100)]
    # Sequential after the parallel pair: c waited for a, which finished after b.
    tree = build_tree(
        Trace("t1", (span("r", "", 0, 100), span("a", "r", 0, 60), span("b", "r", 5, 50), span("c", "r", 60, 100)))
    )
    assert [tree.spans[s.index].span_id for s in critical_path(tree)] == ["a", "c"]


def test_clock_skew_is_flagged_and_clipped_on_the_path():
    tree = build_tree(Trace("t1", (span("p", "", 10, 50), span("c", "p", 5, 60))))
    c = next(i for i, s in enumerate(tree.spans) if s.span_id == "c")
    assert tree.flags[c] == ("starts 5 ms before its parent (clock skew?)", "ends 10 ms after its parent (clock skew?)")
    assert critical_path(tree) == [Segment(c, 10 * MS, 50 * MS)]
    assert tree.self_ns[0] == 0


def test_missing_parent_gets_one_placeholder_spanning_its_children():
    trace = Trace("t1", (span("x", "gone", 20, 30), span("y", "gone", 25, 50), span("z", "", 0, 10)))
    tree = build_tree(trace)
    (ph,) = tree.placeholders
    assert tree.spans[ph].name == MISSING_PARENT and tree.spans[ph].span_id == "gone"
    assert (tree.spans[ph].start_ns, tree.spans[ph].end_ns) == (20 * MS, 50 * MS)
    assert ids(tree, tree.order) == ["z", "gone", "x", "y"] and ids(tree, tree.roots) == ["z", "gone"]
    assert tree.flags[ph] == ("span gone is not in the trace",)
    assert len(trace.spans) == 3 and len(tree.spans) == 4  # every real span kept, the placeholder added


def test_duplicate_ids_keep_both_rows_and_children_go_to_the_first():
    tree = build_tree(Trace("t1", (span("a", "", 0, 10), span("a", "", 0, 10), span("k", "a", 2, 4))))
    assert ids(tree, tree.order) == ["a", "k", "a"]
    assert tree.flags == {1: ("duplicate span id",)}
    assert tree.parent[2] == 0


def test_a_parent_loop_is_cut_at_its_earliest_span():
    tree = build_tree(Trace("t1", (span("a", "b", 5, 10), span("b", "a", 0, 20), span("c", "b", 1, 2))))
    assert ids(tree, tree.order) == ["b", "c", "a"]  # children by start: c (1 ms), a (5 ms)
    assert ids(tree, tree.roots) == ["b"] and "loops" in tree.flags[1][0]


def test_a_self_parent_is_a_root():
    tree = build_tree(Trace("t1", (span("a", "a", 0, 10),)))
    assert tree.roots == (0,) and tree.parent == (-1,)


def test_fifty_thousand_deep_needs_no_recursion():
    n = 50_000
    chain = tuple(span(f"s{i}", f"s{i - 1}" if i else "", i * 0.001, 100 - i * 0.001) for i in range(n))
    tree = build_tree(Trace("t1", chain))
    assert tree.depth[n - 1] == n - 1 and tree.size[0] == n
    path = critical_path(tree)
    assert sum(s.duration_ns for s in path) == tree.spans[0].duration_ns
    assert len(visible_rows(tree, {10})) == 11


def test_visible_rows_collapse_and_expand():
    tree = build_tree(SEED)
    m = ids(tree, range(len(tree.spans))).index("M")
    assert ids(tree, visible_rows(tree, {m})) == ["R", "A", "M", "L", "P"]
    assert ids(tree, visible_rows(tree, collapse_all(tree))) == ["R"]
    assert ids(tree, visible_rows(tree, expand_to_depth(tree, 1))) == ["R", "A", "M", "L"]
    assert ids(tree, visible_rows(tree, expand_to_depth(tree, 2))) == ["R", "A", "M", "E", "S", "RR", "L", "P"]
    rg = ids(tree, range(len(tree.spans))).index("RG")
    assert "RG" in ids(tree, visible_rows(tree, reveal(tree, collapse_all(tree), rg)))


def test_bar_columns():
    assert bar_columns(0, 150 * MS, 0, 150 * MS, 60) == (0, 60)
    assert bar_columns(75 * MS, 150 * MS, 0, 150 * MS, 60) == (30, 60)
    assert bar_columns(44 * MS, 90 * MS, 0, 150 * MS, 60) == (17, 36)  # 17.6 -> 17, 36.0 -> 36
    assert bar_columns(10, 11, 0, 150 * MS, 60) == (0, 1)  # a tiny span still gets a column
    assert bar_columns(-5 * MS, 200 * MS, 0, 150 * MS, 60) == (0, 60)  # skew clamped to the axis
    assert bar_columns(150 * MS, 150 * MS, 0, 150 * MS, 60) == (59, 60)


def test_axis_ticks_and_search():
    assert axis_ticks(0, 150 * MS, 64, every=16) == [
        (0, "0"),
        (16, "37.5 ms"),
        (32, "75 ms"),
        (48, "112 ms"),
        (63, "150 ms"),
    ]
    tree = build_tree(Trace("t1", (*SEED.spans, span("X", "R", 1, 2, "cache", "redis", key="user:42"))))
    assert ids(tree, matches(tree, "REDIS")) == ["X", "RG"]  # row order: X starts at 1 ms, before A
    assert ids(tree, matches(tree, "user:42")) == ["X"] and matches(tree, "  ") == []
