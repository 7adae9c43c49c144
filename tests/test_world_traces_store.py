"""The demo's live trace writer, next to the log writer: the same requests, each step once, every
sampled log record's trace in the store."""

from __future__ import annotations

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.demo.log_store import LiveLogWriter, WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.span_tree import TraceSetting, incidents_at, request_spans
from zeta_tui.demo.trace_store import LiveTraceWriter, WorldTraceStore
from zeta_tui.demo.world import TeamZetaWorld

NOW = int(T0) // STEP_SECONDS * STEP_SECONDS + 4.2  # off the grid, as a wall clock is
N = 40


def _spans(world, start, end):
    """Spans of the kept requests scraped in (start, end], computed here."""
    setting = TraceSetting.of(world)
    return sum(
        len(request_spans(r, incidents_at(world, r.timestamp_ns), setting))
        for r in WorldRequests(world, N).generate(start, end)
    )


@pytest.mark.slow  # the demo's child processes
def test_trace_writer_follows_the_log_writer(tmp_path):
    world = TeamZetaWorld(SEED)
    clock = [NOW]
    path = tmp_path / "store"
    logs = LiveLogWriter(world, path, sample_every=N, history_seconds=1800, clock=lambda: clock[0])
    traces = LiveTraceWriter(world, path, sample_every=N, history_seconds=1800, clock=lambda: clock[0])
    logs.store = WorldLogStore(path, sample_every=N)
    traces.store = WorldTraceStore(path, world, sample_every=N)
    try:
        logs.fill()
        traces.fill()  # through the child process
        assert traces.store.count() == traces.written == _spans(world, NOW - 1800, NOW)
        clock[0] = NOW + 31
        logs.tick()
        traces.tick()
        traces.tick()  # nothing new: nothing written
        assert traces.store.count() == _spans(world, NOW - 1800, NOW + 31)
        # A restart resumes after the newest request: no span twice.
        again = LiveTraceWriter(world, path, sample_every=N, history_seconds=1800, clock=lambda: NOW + 100)
        again.store = traces.store
        again.fill()
        logs.clock = lambda: NOW + 100
        logs.tick()
        st = traces.store
        assert st.count() == _spans(world, NOW - 1800, NOW + 100)
        ids = st._query("SELECT count(), count(DISTINCT SpanId) FROM {database:Identifier}.{table:Identifier}").split(
            ","
        )
        assert int(ids[0]) == int(ids[1])
        # Every log record has its trace, rooted at the record's span.
        missing = st._query(
            "SELECT count() FROM default.otel_logs AS l LEFT ANTI JOIN (SELECT TraceId, SpanId "
            "FROM {database:Identifier}.{table:Identifier} WHERE ParentSpanId = '') AS t ON l.TraceId = t.TraceId "
            "AND l.SpanId = t.SpanId"
        )
        assert int(missing.strip()) == 0 and logs.store.count() > 1000
        roots = st._query("SELECT count() FROM {database:Identifier}.{table:Identifier} WHERE ParentSpanId = ''")
        assert int(roots.strip()) == logs.store.count()
    finally:
        traces.store.close()


@pytest.mark.slow  # the demo's child processes
def test_trace_writer_thread_starts_and_stops(tmp_path):
    world = TeamZetaWorld(SEED)
    writer = LiveTraceWriter(world, tmp_path / "store", sample_every=50, history_seconds=600, clock=lambda: NOW).start()
    try:
        assert writer.caught_up.wait(60)
        writer.stop(close=False)
        assert writer.error is None and writer.written > 0
        assert writer.store.count() == writer.written
    finally:
        writer.stop()
