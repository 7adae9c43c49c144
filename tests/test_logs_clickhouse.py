"""ClickHouseLogSource on a real embedded ClickHouse (chdb) holding an hour of the world's logs.

Expected answers come from an independent computation: counts from the world's counters, search
results from a plain Python filter over the generated requests.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.backends.logs.clickhouse import ClickHouseFilter, ClickHouseLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import ConfigError, QueryError
from zeta_tui.models.timerange import TimeRange

END = int(T0) // STEP_SECONDS * STEP_SECONDS  # inside the ml-engine spike and the latency regression
START = END - 3600
SAMPLE = 10
HOUR = TimeRange(START, END)


class Store:
    def __init__(self, path, world, records, logs):
        self.path, self.world, self.records, self.logs = path, world, records, logs

    def source(self, table: str = "otel_logs") -> ClickHouseLogSource:
        return ClickHouseLogSource(LogsConfig(kind="clickhouse", path=str(self.path), table=table))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("chdb") / "store"
    world = TeamZetaWorld(SEED)
    records = list(WorldRequests(world, sample_every=SAMPLE).generate(START, END))
    logs = WorldLogStore(path, sample_every=SAMPLE)
    assert logs.insert(records) == len(records) == logs.count()
    # 30 records at one instant, for paging through ties.
    ties = WorldLogStore(path, table="ties")
    ties.insert(r._replace(timestamp_ns=END * 10**9 - 1) for r in records[:30])
    yield Store(path, world, records, logs)
    logs.close()


def _all(source, query, time_range=HOUR, limit=5000, newest_first=True):
    """Every record of a search, page by page; the pages' cursors must end the walk."""

    async def walk():
        out, cursor = [], None
        for _ in range(10_000):
            page = await source.search(query, time_range, limit=limit, newest_first=newest_first, cursor=cursor)
            assert len(page.records) <= limit
            assert [r.timestamp_ns for r in page.records] == sorted(r.timestamp_ns for r in page.records)
            out.extend(reversed(page.records) if newest_first else page.records)
            if page.cursor is None:
                return out
            cursor = page.cursor
        raise AssertionError("paging never ended")

    return asyncio.run(walk())


def test_counts_per_service_and_status_are_the_sampled_counter_increases(store):
    # Counted by the engine (GROUP BY); the record mapping is checked by the saved searches below.
    out = store.logs._query(
        "SELECT ServiceName, LogAttributes['status_code'], count() FROM {database:Identifier}.{table:Identifier} "
        "GROUP BY ALL"
    )
    got = Counter(
        {
            (service, int(status.strip('"'))): int(n)
            for service, status, n in (line.replace('"', "").split(",") for line in out.split())
        }
    )
    want: Counter = Counter()
    for s in store.world.find("http_requests_total"):
        n = int(store.world.value(s, END)) // SAMPLE - int(store.world.value(s, START)) // SAMPLE
        want[(s.label("job"), int(s.label("status")))] += n
    assert +want == got
    assert got[("ml-engine", 503)] > 1000  # the spike is in the window


SAVED = [
    (
        "level:ERROR AND timestamp:[now-1h TO now]",
        ClickHouseFilter(
            "SeverityText = {lv:String} AND Timestamp >= fromUnixTimestamp64Nano({a:Int64})",
            {"lv": "ERROR", "a": START * 10**9},
        ),
        lambda r: r.level == "ERROR" and START * 10**9 <= r.timestamp_ns <= END * 10**9,
    ),
    (
        "latency_ms:>1000",
        ClickHouseFilter("toUInt32OrZero(LogAttributes['latency_ms']) > {ms:UInt32}", {"ms": 1000}),
        lambda r: r.latency_ms > 1000,
    ),
    (
        'endpoint:"/api/v1/auth/login" AND status_code:401',
        ClickHouseFilter(
            "LogAttributes['endpoint'] = {e:String} AND LogAttributes['status_code'] = {s:String}",
            {"e": "/api/v1/auth/login", "s": "401"},
        ),
        lambda r: r.endpoint == "/api/v1/auth/login" and r.status_code == 401,
    ),
    (
        'tenant_id:"tenant_001" AND level:ERROR',
        ClickHouseFilter("LogAttributes['tenant_id'] = {t:String} AND SeverityText = 'ERROR'", {"t": "tenant_001"}),
        lambda r: r.tenant_id == "tenant_001" and r.level == "ERROR",
    ),
]


def _as_generated(record):
    f = record.fields
    return (
        record.timestamp_ns,
        record.level,
        record.service,
        record.trace_id,
        record.span_id,
        f["tenant_id"],
        f["user_id"],
        f["endpoint"],
        f["method"],
        f["status_code"],
        f["latency_ms"],
        record.message,
        f["context.user_agent"],
        f["context.ip_address"],
        f["context.api_key_id"],
    )


def _expected(records, keep):
    return sorted(
        (
            r.timestamp_ns,
            r.level,
            r.service,
            r.trace_id,
            r.span_id,
            r.tenant_id,
            r.user_id,
            r.endpoint,
            r.method,
            r.status_code,
            r.latency_ms,
            r.message,
            r.user_agent,
            r.ip_address,
            r.api_key_id,
        )
        for r in records
        if keep(r)
    )


@pytest.mark.parametrize(("text", "hand", "keep"), SAVED, ids=[s[0] for s in SAVED])
def test_saved_searches_equal_a_python_filter(store, text, hand, keep):
    want = _expected(store.records, keep)
    assert len(want) > 20, "the window should hold matches for every saved search"
    # Hand-written WHERE clauses: the source's part (time range, order, paging, record mapping).
    assert sorted(_as_generated(r) for r in _all(store.source(), hand)) == want
    # The query syntax, translated by zeta_tui.querying.logquery.
    pytest.importorskip("luqum", reason="the log query parser needs luqum")
    assert sorted(_as_generated(r) for r in _all(store.source(), text)) == want


@pytest.mark.parametrize("newest_first", [True, False])
def test_paging_yields_every_record_once(store, newest_first):
    window = TimeRange(END - 900, END)
    want = [
        r.trace_id
        for r in sorted(store.records, key=lambda r: r.timestamp_ns)
        if r.service == "auth" and r.timestamp_ns >= (END - 900) * 10**9
    ]
    got = _all(
        store.source(),
        ClickHouseFilter("ServiceName = {s:String}", {"s": "auth"}),
        window,
        limit=777,
        newest_first=newest_first,
    )
    assert [r.trace_id for r in got] == (want[::-1] if newest_first else want)
    # 30 records at the same nanosecond, pages of 4: the tiebreaker keeps them apart.
    ties = _all(store.source("ties"), None, HOUR, limit=4, newest_first=newest_first)
    assert len(ties) == 30 and len({r.record_id for r in ties}) == 30
    assert {r.trace_id for r in ties} == {r.trace_id for r in store.records[:30]}


def test_a_store_held_by_another_process_is_a_clear_config_error(store, tmp_path):
    held = tmp_path / "held"
    code = (
        "import sys; from chdb import session; s = session.Session(sys.argv[1]); print('ready', flush=True); "
        "sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        source = ClickHouseLogSource(LogsConfig(kind="clickhouse", path=str(held)))
        with pytest.raises(ConfigError) as info:
            asyncio.run(source.search(None, HOUR))
        assert f"process {proc.pid}" in info.value.message and str(held) in info.value.message
        assert "zeta demo" in info.value.hint
        with pytest.raises(ConfigError):
            WorldLogStore(held)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_missing_store_and_missing_table(store, tmp_path):
    with pytest.raises(ConfigError, match="no embedded ClickHouse store"):
        asyncio.run(
            store.source().__class__(LogsConfig(kind="clickhouse", path=str(tmp_path / "nowhere"))).search(None, HOUR)
        )
    with pytest.raises(QueryError) as info:
        asyncio.run(store.source("no_such_table").search(None, HOUR))
    assert "no_such_table" in info.value.hint


def test_user_text_stays_in_parameters(store):
    nasty = "x' OR 1=1 --"
    flt = ClickHouseFilter("LogAttributes['tenant_id'] = {t:String}", {"t": nasty})
    assert asyncio.run(store.source().search(flt, HOUR)).records == ()


def test_check_reports_the_engine(store):
    info, seconds = asyncio.run(store.source().check())
    assert info.flavour == "chdb" and info.version.split(".")[0].isdigit() and seconds < 5


def test_prune_keeps_a_bounded_history(store):
    logs = WorldLogStore(store.path, table="pruned")
    base = START * 10**9
    spread = [r._replace(timestamp_ns=base + i * 1800 * 10**9) for i, r in enumerate(store.records[:60])]  # 30 h
    logs.insert(spread)
    now = spread[-1].timestamp_ns / 1e9
    dropped = logs.prune(now, keep_seconds=24 * 3600)
    cutoff = (now - 24 * 3600) * 10**9
    kept = asyncio.run(store.source("pruned").search(None, TimeRange(0, now + 1), limit=1000)).records
    assert dropped >= 5
    assert {r.trace_id for r in spread if r.timestamp_ns >= cutoff} <= {r.trace_id for r in kept}
    assert min(r.timestamp_ns for r in kept) >= cutoff - 3600 * 10**9  # at most the hour the cutoff falls in


def test_prune_judges_an_hour_by_all_its_parts(store):
    """An hour written in two inserts (two parts, merges stopped): its older part is before the
    cutoff, its newer one after, so the hour holds kept rows and stays."""
    logs = WorldLogStore(store.path, table="pruned_parts")
    logs._query("SYSTEM STOP MERGES {database:Identifier}.{table:Identifier}")
    hour = (START // 3600 + 1) * 3600
    early, late = (
        r._replace(timestamp_ns=(hour + minute * 60) * 10**9) for r, minute in zip(store.records[:2], (10, 50))
    )
    logs.insert([early])
    logs.insert([late])
    parts = logs._query(
        "SELECT count() FROM system.parts WHERE database = {database:String} AND table = {table:String} AND active"
    )
    assert parts.strip() == "2"
    keep = 24 * 3600
    assert logs.prune(hour + 30 * 60 + keep, keep_seconds=keep) == 0  # the cutoff falls between the parts
    assert logs.count() == 2
    assert logs.prune(hour + 3600 + keep, keep_seconds=keep) == 1  # the whole hour is older now
    assert logs.count() == 0


def test_a_table_without_timestamp_time_works_too(store):
    """Older exporter schemas have no TimestampTime column: the source only uses it when present."""
    logs = store.logs
    logs._query(
        "CREATE TABLE IF NOT EXISTS {database:Identifier}.bare (Timestamp DateTime64(9), SeverityText String, "
        "ServiceName String, Body String, TraceId String, SpanId String, LogAttributes Map(String, String)) "
        "ENGINE = MergeTree ORDER BY Timestamp"
    )
    logs._query(
        "INSERT INTO {database:Identifier}.bare VALUES (fromUnixTimestamp64Nano({t:Int64}), 'warning', 'auth', "
        "'slow login', '', '', map('latency_ms', '1200.5'))",
        t=(END - 60) * 10**9,
    )
    bare = store.source("bare")
    (record,) = asyncio.run(bare.search("latency_ms:>1000 AND NOT _exists_:host.name", HOUR)).records
    assert (record.level, record.service, record.fields["latency_ms"], record.trace_id) == ("WARN", "auth", 1200.5, "")
    assert bare._columns == frozenset()
    source = store.source()
    asyncio.run(source.search(None, HOUR, limit=1))
    assert source._columns == {"TimestampTime", "ResourceAttributes"}


def test_resource_attributes_are_searched_and_shown(store):
    """Collectors put k8s.*, host.name and service.instance.id in ResourceAttributes: a search on
    such a key finds the records, and the record carries it (its own attribute wins a clash)."""
    instance = store.records[7].instance
    expected = sorted(r.trace_id for r in store.records if r.instance == instance)
    found = _all(store.source(), f'service.instance.id:"{instance}" OR _exists_:no.such.key')
    assert sorted(r.trace_id for r in found) == expected
    assert {r.get("service.instance.id") for r in found} == {instance}
    assert "service.name" not in found[0].fields  # that one is the service column
    logs = store.logs
    logs._query(
        "CREATE TABLE IF NOT EXISTS {database:Identifier}.both (Timestamp DateTime64(9), SeverityText String, "
        "ServiceName String, Body String, TraceId String, SpanId String, LogAttributes Map(String, String), "
        "ResourceAttributes Map(String, String)) ENGINE = MergeTree ORDER BY Timestamp"
    )
    logs._query(
        "INSERT INTO {database:Identifier}.both VALUES (fromUnixTimestamp64Nano({t:Int64}), 'INFO', 'auth', 'a', "
        "'', '', map('region', 'eu-1'), map('region', 'us-1', 'host.name', 'node-7'))",
        t=(END - 60) * 10**9,
    )
    (record,) = asyncio.run(store.source("both").search("region:eu-1 AND host.name:node-7", HOUR)).records
    assert (record.get("region"), record.get("host.name")) == ("eu-1", "node-7")
    assert asyncio.run(store.source("both").search("region:us-1", HOUR)).records == ()


def test_values_with_backslashes_and_tabs_reach_the_engine_intact(store):
    """chdb reads parameter values as escaped text: unescaped, a backslash fails to parse and a
    tab or newline would be read as another string."""
    odd = WorldLogStore(store.path, table="odd")
    first = store.records[0]
    odd.insert(
        [
            first._replace(tenant_id="a\\b", user_id="tab\there", seq=1),
            first._replace(tenant_id="ab", user_id="tab there", seq=2),
        ]
    )
    source = store.source(table="odd")
    found = asyncio.run(source.search('tenant_id:"a\\\\b"', HOUR, limit=10))
    assert [r.get("tenant_id") for r in found.records] == ["a\\b"]
    found = asyncio.run(source.search('user_id:"tab\there"', HOUR, limit=10))
    assert [r.get("user_id") for r in found.records] == ["tab\there"]
