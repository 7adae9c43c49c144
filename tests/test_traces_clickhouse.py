"""ClickHouseTraceSource on a real embedded ClickHouse (chdb) holding an hour of the world's traces.

Expected answers are the span trees computed here from the generated requests (span_tree), and
search results a plain Python filter over them; the SQL never produces its own expectations.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.backends.traces.base import TraceNotFound
from zeta_tui.backends.traces.clickhouse import ClickHouseTraceSource
from zeta_tui.config.models import TracesConfig
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.span_tree import TraceSetting, request_spans
from zeta_tui.demo.trace_store import WorldTraceStore
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import QueryError
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceQuery

END = int(T0) // STEP_SECONDS * STEP_SECONDS  # inside the ml-engine spike and the latency regression
START = END - 3600
SAMPLE = 50


class Store:
    def __init__(self, path, store, traces):
        self.path, self.store, self.traces = path, store, traces  # traces: trace_id -> spans, as generated

    def source(self, table: str = "otel_traces") -> ClickHouseTraceSource:
        return ClickHouseTraceSource(TracesConfig(kind="clickhouse", path=str(self.path), table=table))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("chdb") / "store"
    world = TeamZetaWorld(SEED)
    requests = list(WorldRequests(world, sample_every=SAMPLE).generate(START, END))
    setting = TraceSetting.of(world)
    traces = {}
    for r in requests:
        active = frozenset(
            i.name
            for i in world.active_incidents(r.timestamp_ns // 10**9 // STEP_SECONDS * STEP_SECONDS + STEP_SECONDS / 2)
        )
        traces[r.trace_id] = request_spans(r, active, setting)
    st = WorldTraceStore(path, world, sample_every=SAMPLE)
    assert st.insert(requests) == sum(len(s) for s in traces.values()) == st.count()
    yield Store(path, st, traces)
    st.close()


def _run(coro):
    return asyncio.run(coro)


def _as_tuple(s):
    return (
        s.trace_id,
        s.span_id,
        s.parent_id,
        s.name,
        s.service,
        s.start_ns,
        s.duration_ns,
        s.kind,
        s.status,
        s.status_message,
        dict(s.attributes),
        dict(s.resource),
        tuple((e.timestamp_ns, e.name, dict(e.attributes)) for e in s.events),
    )


def _stored_form(s):
    """What a generated span reads back as: text attributes, the sample ratio in the resource."""
    t = list(_as_tuple(s))
    t[10] = {k: str(v) for k, v in s.attributes.items()}
    t[11] = {**s.resource, "zeta.sample_every": str(SAMPLE)}
    return tuple(t)


def test_span_counts_per_service_and_name(store):
    out = store.store._query(
        "SELECT ServiceName, SpanName, count() FROM {database:Identifier}.{table:Identifier} GROUP BY ALL", "TSV"
    )
    got = Counter({(a, b): int(n) for a, b, n in (line.split("\t") for line in out.splitlines())})
    assert got == Counter((s.service, s.name) for spans in store.traces.values() for s in spans)
    assert got[("ml-engine", "get_user_embedding")] > 100


def test_traces_read_back_equal_the_generated_ones(store):
    source = store.source()
    ids = sorted(store.traces)[::97]
    ids += [t for t, spans in store.traces.items() if any(s.is_error for s in spans)][:30]  # error spans with events
    for trace_id in ids:
        trace = _run(source.trace(trace_id))
        want = sorted((_stored_form(s) for s in store.traces[trace_id]), key=lambda t: (t[5], t[1]))
        assert [_as_tuple(s) for s in trace.spans] == want
        assert trace.trace_id == trace_id and trace.duration_ns == store.traces[trace_id][0].duration_ns
    assert source._has_lookup is True  # the exporter's lookup table bounded the reads


def _matches(spans, q: TraceQuery) -> bool:
    lo, hi = int(q.time_range.start * 1e9), int(q.time_range.end * 1e9)

    def span_ok(s):
        return (
            lo <= s.start_ns <= hi
            and (not q.service or s.service == q.service)
            and (not q.operation or s.name == q.operation)
            and all(str(s.attributes.get(k, s.resource.get(k))) == v for k, v in q.tags.items())
            and (q.min_duration_ns is None or s.duration_ns >= q.min_duration_ns)
            and (q.max_duration_ns is None or s.duration_ns <= q.max_duration_ns)
        )

    return any(span_ok(s) for s in spans) and (not q.errors_only or any(s.is_error for s in spans))


def _summary(spans):
    ordered = sorted(spans, key=lambda s: s.start_ns)
    root = spans[0]
    return (
        root.trace_id,
        root.service,
        root.name,
        ordered[0].start_ns,
        max(s.end_ns for s in spans) - ordered[0].start_ns,
        len(spans),
        tuple(dict.fromkeys(s.service for s in ordered)),
        sum(s.is_error for s in spans),
    )


WINDOW = TimeRange(END - 900, END - 300)
QUERIES = {
    "newest": TraceQuery(WINDOW, limit=25),
    "service and operation": TraceQuery(WINDOW, service="auth", operation="verify_credentials", limit=1000),
    "span tag": TraceQuery(WINDOW, tags={"tenant_id": "tenant_001"}, limit=1000),
    "resource tag and service": TraceQuery(
        WINDOW, service="ml-engine", tags={"service.instance.id": "ml-engine-1:8000"}, limit=1000
    ),
    "slow span": TraceQuery(WINDOW, min_duration_ns=1_000_000_000, limit=1000),
    "fast rerank": TraceQuery(WINDOW, operation="rerank", max_duration_ns=5_000_000, limit=1000),
    "errors": TraceQuery(WINDOW, service="backend-api", errors_only=True, limit=1000),
    "errors, newest 10": TraceQuery(WINDOW, errors_only=True, limit=10),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_search_equals_a_python_filter(store, name):
    q = QUERIES[name]
    want = sorted(
        (_summary(spans) for spans in store.traces.values() if _matches(spans, q)),
        key=lambda t: (t[3], t[0]),
        reverse=True,
    )
    assert len(want) >= min(q.limit, 5), "the window should hold matches for every query"
    got = _run(store.source().search(q)).summaries
    assert [
        (s.trace_id, s.root_service, s.root_name, s.start_ns, s.duration_ns, s.span_count, s.services, s.error_count)
        for s in got
    ] == want[: q.limit]


def test_services_and_operations(store):
    source = store.source()
    assert _run(source.services()) == sorted({s.service for spans in store.traces.values() for s in spans})
    assert _run(source.operations("auth")) == sorted(
        {s.name for spans in store.traces.values() for s in spans if s.service == "auth"}
    )


def test_not_found_bad_table_and_user_text(store):
    with pytest.raises(TraceNotFound) as info:
        _run(store.source().trace("0123456789abcdef0123456789abcdef"))
    assert "0123456789abcdef0123456789abcdef" in info.value.message
    with pytest.raises(QueryError) as info:
        _run(store.source("no_such_table").search(TraceQuery(WINDOW)))
    assert "no_such_table" in info.value.hint and "traces.table" in info.value.hint
    nasty = TraceQuery(WINDOW, service="x' OR 1=1 --", tags={"a'b": "c\\d\t"})
    assert _run(store.source().search(nasty)).summaries == ()


def test_old_spellings_events_links_and_short_ids_without_a_lookup_table(store):
    """Older exporters wrote SPAN_KIND_SERVER / STATUS_CODE_ERROR; some tracers pad 64-bit ids to 32
    digits; a hand-made table has no lookup table, so the spans are read without one."""
    st = store.store
    st._query("CREATE TABLE IF NOT EXISTS default.legacy AS default.otel_traces")
    st._query(
        "INSERT INTO {database:Identifier}.legacy (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, "
        "ServiceName, Duration, StatusCode, StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`, "
        "`Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`) "
        "VALUES (fromUnixTimestamp64Nano({t:Int64}), '00000000000000000000c0ffee00beef', '00000000000000a1', '', "
        "'GET /x', 'SPAN_KIND_SERVER', 'auth', 2000, 'STATUS_CODE_ERROR', 'boom', "
        "[fromUnixTimestamp64Nano({t:Int64})], ['exception'], [map('exception.type', 'E')], "
        "['ABCDEF0123456789ABCDEF0123456789'], ['00000000000000b2'], [''], [map('k', 'v')])",
        t=(END - 60) * 10**9,
    )
    source = store.source("legacy")
    (span,) = _run(source.trace("c0ffee00beef")).spans  # 12 digits given, 32 stored
    assert (span.trace_id, span.span_id, span.kind, span.status, span.status_message) == (
        "0000c0ffee00beef",
        "00000000000000a1",
        "server",
        "error",
        "boom",
    )
    assert span.events[0].name == "exception" and span.events[0].attributes == {"exception.type": "E"}
    assert (span.links[0].trace_id, span.links[0].span_id, span.links[0].attributes) == (
        "abcdef0123456789abcdef0123456789",
        "00000000000000b2",
        {"k": "v"},
    )
    assert source._has_lookup is False
    (summary,) = _run(source.search(TraceQuery(WINDOW.__class__(END - 120, END), errors_only=True))).summaries
    assert (summary.error_count, summary.root_name, summary.span_count) == (1, "GET /x", 1)


def test_check_and_read_only(store):
    info, seconds = _run(store.source().check())
    assert info.flavour == "chdb" and info.version.split(".")[0].isdigit() and seconds < 5
    source = store.source()
    with pytest.raises(QueryError):  # the source's settings refuse writes
        source._run("INSERT INTO {zeta_db:Identifier}.{zeta_table:Identifier} (TraceId) VALUES ('x')", {})


def test_history_is_pruned_by_hour_in_both_tables(store):
    from zeta_tui.demo.trace_store import WorldTraceStore

    pruned = WorldTraceStore(store.path, TeamZetaWorld(SEED), table="pruned")
    first = [spans for spans in store.traces.values()][:60]
    by_trace = defaultdict(list)
    lines = []
    import orjson

    from zeta_tui.demo.trace_store import span_row

    for i, spans in enumerate(first):  # one trace every half hour: 30 h
        shift = START * 10**9 + i * 1800 * 10**9 - spans[0].start_ns
        for s in spans:
            moved = s.__class__(
                **{**{f: getattr(s, f) for f in s.__slots__}, "start_ns": s.start_ns + shift, "events": ()}
            )
            by_trace[s.trace_id].append(moved)
            lines.append(orjson.dumps(span_row(moved)))
    pruned.insert_lines(b"\n".join(lines))
    now = (START + 59 * 1800) + 10
    assert pruned.prune(now, 24 * 3600) >= 5
    source = store.source("pruned")
    kept = {t for t, spans in by_trace.items() if spans[0].start_ns >= (now - 23 * 3600) * 10**9}
    for t in kept:
        assert len(_run(source.trace(t)).spans) == len(by_trace[t])
    gone = [t for t, spans in by_trace.items() if spans[0].end_ns < (now - 25 * 3600) * 10**9]
    assert gone
    for t in gone:
        with pytest.raises(TraceNotFound):
            _run(source.trace(t))
    lookup = pruned._query("SELECT count() FROM {database:Identifier}.{lookup:Identifier}").strip()
    assert int(lookup) < len(by_trace)
