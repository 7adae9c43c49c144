"""`zeta trace`'s text waterfall and JSON document, on the seed's hand-built trace.

Bar positions are worked out by hand: at width 100 the tree takes 40 columns, the offset 10,
the duration 9 and the gaps 4, leaving 37 for the bar over the 150 ms of the trace.
"""

from __future__ import annotations

from dataclasses import replace

from tests.test_trace_tree import MS, SEED, span
from zeta_tui.headless.traces import text_waterfall, trace_document
from zeta_tui.models.trace_tree import build_tree
from zeta_tui.models.traces import Trace


def test_text_waterfall_lines():
    lines = text_waterfall(build_tree(SEED), 100)
    assert len(lines) == 1 + len(SEED.spans)
    assert lines[0].startswith("span") and lines[0].endswith("150 ms")
    faiss = next(line for line in lines if "faiss_search" in line)
    # 44..90 ms of 150 on 37 columns: first = floor(44*37/150) = 10, last = ceil(90*37/150) = 23.
    bar = faiss[40 + 1 + 10 + 1 + 9 + 2 :]
    assert bar == " " * 10 + "█" * 13
    assert faiss.startswith("◆ " + " " * 6 + "ml-engine faiss_search")  # depth 3: six spaces of indent
    assert "+44 ms" in faiss and " 46 ms" in faiss
    root = lines[1]
    assert root[40 + 1 + 10 + 1 + 9 + 2 :] == "█" * 37 and " 0 " in root
    assert all(len(line) <= 100 for line in lines)


def test_errors_flags_and_a_long_name_in_text():
    child = replace(span("c", "r", -1, 5, "child"), status="error")
    trace = Trace("t1", (span("r", "", 0, 10, "x" * 80), child, span("o", "gone", 1, 2, "orphan")))
    lines = text_waterfall(build_tree(trace), 100)
    assert any("child ERR" in line for line in lines)
    assert any(line.startswith("⚠ svc child (c): starts 1 ms before its parent") for line in lines)
    assert any("missing parent" in line for line in lines)
    assert any("…" in line for line in lines)  # the 80-character name is cut to the tree column


def test_trace_document():
    tree = build_tree(SEED)
    doc = trace_document(SEED, tree)
    assert [s["span_id"] for s in doc["spans"]] == ["R", "A", "M", "E", "RG", "S", "F", "RR", "L", "P"]
    assert doc["span_count"] == 10 and doc["duration_ns"] == 150 * MS
    assert sum(seg["duration_ns"] for seg in doc["critical_path"]) == 150 * MS
    f = next(s for s in doc["spans"] if s["span_id"] == "F")
    assert (f["offset_ns"], f["duration_ns"], f["depth"], f["self_ns"]) == (44 * MS, 46 * MS, 3, 46 * MS)
