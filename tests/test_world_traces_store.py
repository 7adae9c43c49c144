"""The demo's live trace writer, next to the log writer: the same requests, each step once, every
sampled log record's trace in the store."""

from __future__ import annotations

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.demo.log_store import LiveLogWriter
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.span_tree import TraceSetting, incidents_at, request_spans
from zeta_tui.demo.trace_store import LiveTraceWriter
from zeta_tui.demo.world import TeamZetaWorld

STEP0 = int(T0) // STEP_SECONDS * STEP_SECONDS
NOW = STEP0 + 4.2  # off the grid, as a wall clock is
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
    logs.open()
    traces.open()
    try:
        for writer in (logs, traces):
            writer.begin(NOW)
            writer.tick()  # the present first
        assert traces.store.count() == traces.written_live > 0
        logs.fill()
        traces.fill()  # history through the child process
        assert traces.written_history == _spans(world, NOW - 1800, STEP0)
        clock[0] = STEP0 + 30.5
        logs.tick()
        traces.tick()
        assert traces.tick() == 0  # nothing new: nothing written
        assert traces.store.count() == _spans(world, NOW - 1800, STEP0 + 30)
        # A restart resumes after the newest request: no span twice, none missing.
        clock[0] = STEP0 + 100.5
        again = LiveTraceWriter(world, path, sample_every=N, history_seconds=1800, clock=lambda: clock[0])
        again.store, again.history = traces.store, traces.history
        again.begin(clock[0])
        again.tick()
        again.fill()
        clock[0] = STEP0 + 105.5
        again.tick()
        logs.tick()
        st = traces.store
        assert st.count() == _spans(world, NOW - 1800, STEP0 + 105)
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
        traces.stop(close=False)
        logs.stop()


@pytest.mark.slow  # the demo's child processes
def test_trace_writer_threads_start_and_stop(tmp_path):
    world = TeamZetaWorld(SEED)
    writer = LiveTraceWriter(world, tmp_path / "store", sample_every=50, history_seconds=600, clock=lambda: NOW).start()
    try:
        assert writer.live.wait(60) and writer.caught_up.wait(60)
        writer.halt()
        assert writer.join(10)
        assert writer.error is None and writer.written_live > 0 and writer.written_history > 0
        assert writer.store.count() == writer.written
    finally:
        writer.stop()
