"""The demo's usage store on the real engine (chdb): api_usage, the rollup, cost_data, tenants, the live writer.

Expected values are counted here from the world's requests and counters, and the cost from the
documented model (tests/test_usage_world.py's expected_unit), never read back from the program.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED
from tests.support.world_store import store_in_use
from tests.test_usage_world import expected_unit
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld

MIDNIGHT = int(datetime(2026, 3, 11, tzinfo=UTC).timestamp())
START, END = MIDNIGHT - 2 * 3600, MIDNIGHT + 2 * 3600  # two days, all three services
TENANTS_DAY = date(2026, 3, 11)
PUBLIC = ("backend-api", "auth")


def _day(ts: float) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def expected_calls(requests) -> Counter:
    """Calls per (day, service, tenant): each public request for its service, a recommendation once
    more for ml-engine."""
    calls: Counter = Counter()
    for r in requests:
        if r.service in PUBLIC:
            day = _day(r.timestamp_ns / 1e9)
            calls[(day, r.service, r.tenant_id)] += 1
            if (r.method, r.endpoint) == ("POST", "/api/v1/recommendations"):
                calls[(day, "ml-engine", r.tenant_id)] += 1
    return calls


def public_counter_total(world, a: float, b: float, n: int) -> int:
    """Kept public requests of the steps scraped in (a, b], from the counters alone."""
    a, b = int(a) // STEP_SECONDS * STEP_SECONDS, int(b) // STEP_SECONDS * STEP_SECONDS
    return sum(
        int(world.value(s, b)) // n - int(world.value(s, a)) // n
        for job in PUBLIC
        for s in world.find("http_requests_total", job=job)
    )


class Store:
    """One database of the test store: usage of (START, END] at 1 in 100, logs of its last 20 minutes at 1 in 10."""

    def __init__(self, path: str, database: str) -> None:
        from zeta_tui.demo.usage_store import WorldUsageStore

        self.world = TeamZetaWorld(SEED)
        self.requests = list(WorldRequests(self.world, sample_every=100).generate(START, END))
        self.usage = WorldUsageStore(path, self.world, database=database)
        self.usage.write_tenants(TENANTS_DAY)
        # One insert a day: a month's partition then has parts of one day each (what pruning must handle).
        self.usage.insert(r for r in self.requests if r.timestamp_ns < MIDNIGHT * 10**9)
        self.usage.insert(r for r in self.requests if r.timestamp_ns >= MIDNIGHT * 10**9)
        self.usage.mark_covered(START, END)
        self.logs = WorldLogStore(path, database=database, sample_every=10)
        self.logs.insert(WorldRequests(self.world, sample_every=10).generate(END - 1200, END))

    def rows(self, sql: str, **params) -> list[list]:
        import orjson

        out = self.usage._query(sql, "JSONCompactEachRow", **params)
        return [orjson.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    """The store this process has open (another module's), else a new one closed at the end."""
    from zeta_tui.backends.chdb_store import close_embedded_session

    open_path = store_in_use()
    here = open_path or str(tmp_path_factory.mktemp("usage") / "store")
    yield here
    if open_path is None:
        close_embedded_session(here)


@pytest.fixture(scope="module")
def store(path):
    s = Store(path, "usage_test")
    yield s
    s.usage.close()


def test_every_usage_row_is_a_log_record_of_the_same_request(store):
    # Inside the logs' 20 minutes, each api_usage row has its log line: same second, tenant,
    # API key, endpoint, method, status and latency (matched inside ClickHouse).
    a, b = END - 1200, END
    total = store.rows(
        "SELECT count() FROM {database:Identifier}.api_usage WHERE timestamp >= {a:Int64} AND timestamp < {b:Int64}",
        a=a,
        b=b,
    )
    matched = store.rows(
        "SELECT count() FROM {database:Identifier}.api_usage WHERE timestamp >= {a:Int64} "
        "AND timestamp < {b:Int64} AND (toUnixTimestamp(timestamp), tenant_id, api_key_id, endpoint, method, "
        "toString(status_code), toString(latency_ms)) IN (SELECT toUnixTimestamp(Timestamp), "
        "LogAttributes['tenant_id'], LogAttributes['context.api_key_id'], LogAttributes['endpoint'], "
        "LogAttributes['method'], LogAttributes['status_code'], LogAttributes['latency_ms'] "
        "FROM {database:Identifier}.otel_logs)",
        a=a,
        b=b,
    )
    assert int(matched[0][0]) == int(total[0][0]) > 500


def test_only_public_services_and_counts_per_tenant_and_day(store):
    endpoints = {tuple(r) for r in store.rows("SELECT DISTINCT method, endpoint FROM {database:Identifier}.api_usage")}
    assert {e for _, e in endpoints} == {
        "/api/v1/recommendations",
        "/api/v1/items",
        "/api/v1/feedback",
        "/api/v1/users/profile",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
    }
    expected = Counter(
        (_day(r.timestamp_ns / 1e9).isoformat(), r.tenant_id) for r in store.requests if r.service in PUBLIC
    )
    got = {
        (d, t): int(n)
        for d, t, n in store.rows(
            "SELECT date, tenant_id, count() FROM {database:Identifier}.api_usage GROUP BY date, tenant_id"
        )
    }
    assert got == dict(expected)
    assert sum(got.values()) == public_counter_total(store.world, START, END, 100)
    # The rollup the catalog reads says the same, before and after merges.
    for _ in range(2):
        daily = {
            (d, t): int(n)
            for d, t, n in store.rows(
                "SELECT date, tenant_id, sum(requests) FROM {database:Identifier}.zeta_api_usage_daily "
                "GROUP BY date, tenant_id"
            )
        }
        assert daily == dict(expected)
        store.usage._query("OPTIMIZE TABLE {database:Identifier}.zeta_api_usage_daily FINAL")


def test_cost_rows_are_calls_times_unit_cost(store):
    calls = expected_calls(store.requests)
    rows = store.rows(
        "SELECT date, service, tenant_id, cost_usd, api_calls FROM {database:Identifier}.cost_data ORDER BY date, "
        "service, tenant_id"
    )
    assert len(rows) == len(calls)  # one row per key, read without FINAL
    assert {(date.fromisoformat(d), s, t): int(n) for d, s, t, _, n in rows} == dict(calls)
    for d, s, _, cost, n in rows:
        assert cost == pytest.approx(int(n) * expected_unit(s, date.fromisoformat(d)), rel=1e-9)
    assert {s for _, s, _, _, _ in rows} == {"backend-api", "auth", "ml-engine"}


def test_tenants_are_written_once_a_day(store):
    assert store.usage.write_tenants(TENANTS_DAY) is False
    rows = store.rows(
        "SELECT tenant_id, plan FROM {database:Identifier}.tenants WHERE ended_at IS NULL ORDER BY tenant_id"
    )
    assert rows == [[t.tenant_id, t.plan] for t in sorted(store.world.topology.tenants, key=lambda t: t.tenant_id)]
    former = store.rows("SELECT tenant_id FROM {database:Identifier}.tenants WHERE ended_at IS NOT NULL")
    assert len(former) == 3 and not {t for (t,) in former} & {t.tenant_id for t in store.world.topology.tenants}
    store.usage._query(
        "INSERT INTO {database:Identifier}.tenants (tenant_id, name, plan) VALUES ('tenant_001', 'Wrong', 'starter')"
    )
    assert store.usage.write_tenants(TENANTS_DAY) is True
    assert store.rows(
        "SELECT toString(count()), toString(countIf(name = 'Wrong')) FROM {database:Identifier}.tenants"
    ) == [["43", "0"]]
    # The next day the start and end dates move with it: the table is written again.
    assert store.usage.write_tenants(TENANTS_DAY + timedelta(days=1)) is True
    assert store.usage.write_tenants(TENANTS_DAY) is True


def test_prune_keeps_whole_days_and_bounds_every_table(path):
    s = Store(path, "usage_prune")
    try:
        _check_prune(s)
    finally:
        s.usage.close()


def _check_prune(s: Store) -> None:
    count = "SELECT min(date), toString(count()) FROM {database:Identifier}.{name:Identifier}"
    before = {t: s.rows(count, name=t)[0] for t in ("api_usage", "zeta_api_usage_daily", "cost_data")}
    assert all(v[0] == "2026-03-10" for v in before.values())
    s.usage.prune(END, keep_days=1)  # keeps 2026-03-10 and 2026-03-11: nothing to drop
    assert {t: s.rows(count, name=t)[0] for t in before} == before
    s.usage.prune(END, keep_days=0)  # today only
    day2 = sum(1 for r in s.requests if r.service in PUBLIC and r.timestamp_ns >= MIDNIGHT * 10**9)
    assert s.rows(count, name="api_usage") == [["2026-03-11", str(day2)]]
    assert s.rows(count, name="zeta_api_usage_daily")[0][0] == s.rows(count, name="cost_data")[0][0] == "2026-03-11"
    assert all(b > MIDNIGHT for _, b in s.usage.covered())
    s.usage.prune(END + 40 * 86400)  # weeks later: the month's partition goes whole
    assert all(s.rows(count, name=t)[0][1] == "0" for t in before)
    parts = s.rows(
        "SELECT toString(count()) FROM system.parts WHERE database = 'usage_prune' AND table = 'api_usage' "
        "AND active AND rows > 0"
    )
    assert parts == [["0"]]


@pytest.mark.slow  # the demo's child processes
def test_live_writer_fills_from_midnight_then_steps_and_rewrites_today_cost(path):
    from zeta_tui.demo.usage_store import LiveUsageWriter

    world = TeamZetaWorld(SEED)
    now = MIDNIGHT + 1800 + 4.2  # off the grid, as a wall clock is
    clock = [now]
    writer = LiveUsageWriter(world, path, history_days=0, database="usage_live", clock=lambda: clock[0])
    writer.open()
    try:
        _check_live_writer(world, writer, writer.usage, now, clock)
    finally:
        writer.stop()


def _check_live_writer(world, writer, store, now: float, clock: list) -> None:
    from zeta_tui.demo.usage_store import LiveUsageWriter

    store.truncate()
    writer.begin(now)
    writer.tick()  # the present first: this step's rows stamped before the last whole second
    writer.before_fill()
    writer.fill()  # the child process generates (midnight, the live start]
    assert writer.written_history == public_counter_total(world, MIDNIGHT, now, 100) > 0
    clock[0] = MIDNIGHT + 1845.5
    writer.tick()
    clock[0] = MIDNIGHT + 1890.5
    writer.tick()
    writer.housekeeping(clock[0])  # a minute since the start: today's cost is re-written
    assert writer.tick() == 0  # nothing new
    expected = public_counter_total(world, MIDNIGHT, MIDNIGHT + 1890, 100)
    assert store.count() == expected
    requests = WorldRequests(world, sample_every=100).generate(MIDNIGHT, MIDNIGHT + 1890)
    calls = expected_calls(requests)
    rows = store._query(
        "SELECT service, tenant_id, api_calls FROM {database:Identifier}.cost_data", "TabSeparated"
    ).split("\n")
    got = {(date(2026, 3, 11), s, t): int(n) for s, t, n in (line.split("\t") for line in rows if line)}
    assert got == dict(calls)
    # A restart resumes after the newest row: nothing twice.
    clock[0] = MIDNIGHT + 1935.5
    again = LiveUsageWriter(world, store.path, history_days=0, database="usage_live", clock=lambda: clock[0])
    again.store, again.history = writer.store, writer.history
    again.begin(clock[0])
    again.tick()
    again.fill()
    assert store.count() == public_counter_total(world, MIDNIGHT, MIDNIGHT + 1935, 100)


@pytest.mark.slow  # the demo's child processes
def test_live_writer_thread_starts_and_stops(path):
    from zeta_tui.demo.usage_store import LiveUsageWriter

    world = TeamZetaWorld(SEED)
    now = MIDNIGHT + 600.0
    writer = LiveUsageWriter(
        world, path, history_days=0, database="usage_thread", clock=lambda: now, fresh=True
    ).start()
    try:
        assert writer.caught_up.wait(60)
    finally:
        writer.stop()
    assert writer.error is None and writer.written == public_counter_total(world, MIDNIGHT, now, 100) > 0
    from zeta_tui.demo.usage_store import WorldUsageStore

    after = WorldUsageStore(path, world, database="usage_thread")  # the writer closed its own session
    try:
        assert after.count() == writer.written
        assert (
            after._query("SELECT count() FROM {database:Identifier}.tenants").strip() == "43"
        )  # the world's 40 and 3 former tenants
    finally:
        after.close()


def test_a_chunk_is_inserted_only_with_its_marker(path):
    """A history child stopped mid-chunk leaves nothing of that chunk (the next start writes it whole, once)."""
    import orjson

    from zeta_tui.demo.usage import usage_rows
    from zeta_tui.demo.usage_store import LiveUsageWriter

    world = TeamZetaWorld(SEED)
    a, b = MIDNIGHT, MIDNIGHT + 900
    lines = [orjson.dumps(row) for row in usage_rows(WorldRequests(world, sample_every=100).generate(a, b))]
    chunk = b"\n".join(lines) + b"\n" + f"#covered {a!r} {b!r}\n".encode()
    writer = LiveUsageWriter(world, path, history_days=0, database="usage_consume", clock=lambda: b + 4.2)
    writer.open()
    try:
        writer.usage.truncate()
        half = chunk[: len(chunk) // 2]
        written, rest = writer._consume(half)
        assert (written, rest, writer.usage.count(), writer.usage.covered()) == (0, half, 0, [])
        written, rest = writer._consume(rest + chunk[len(chunk) // 2 :] + b'{"partial')
        assert (written, rest) == (len(lines), b'{"partial')
        assert writer.usage.count() == len(lines) > 100 and writer.usage.covered() == [(a, b)]
    finally:
        writer.stop()


def test_a_demo_store_of_the_old_shape_is_rebuilt_in_the_seeds(path):
    # An earlier zeta wrote api_usage with user_id and response_time_ms, and its rollup as
    # api_usage_daily: the demo's own data, dropped and made again in the seed's columns.
    from zeta_tui.backends.chdb_store import embedded_session
    from zeta_tui.demo.usage_store import WorldUsageStore

    session = embedded_session(path, create=True)
    database = "usage_old_shape"
    for sql in (
        "CREATE DATABASE {d:Identifier}",
        "CREATE TABLE {d:Identifier}.api_usage (timestamp DateTime, date Date DEFAULT toDate(timestamp), "
        "tenant_id String, user_id String, endpoint String, method String, status_code UInt16, "
        "response_time_ms UInt32, request_size_bytes UInt32, response_size_bytes UInt32) ENGINE = MergeTree "
        "PARTITION BY toYYYYMM(date) ORDER BY (tenant_id, timestamp)",
        "CREATE TABLE {d:Identifier}.api_usage_daily (date Date, tenant_id String, "
        "requests SimpleAggregateFunction(sum, UInt64)) ENGINE = AggregatingMergeTree ORDER BY (tenant_id, date)",
        "CREATE MATERIALIZED VIEW {d:Identifier}.api_usage_daily_mv TO {d:Identifier}.api_usage_daily AS "
        "SELECT date, tenant_id, toUInt64(count()) AS requests FROM {d:Identifier}.api_usage GROUP BY date, "
        "tenant_id",
        "INSERT INTO {d:Identifier}.api_usage (timestamp, tenant_id) VALUES (1773187200, 'old')",
    ):
        session.query(sql, "CSV", params={"d": database})
    store = WorldUsageStore(path, TeamZetaWorld(SEED), database=database)
    try:

        def rows(sql: str) -> list[str]:
            return store._query(sql, "TSV").splitlines()

        assert "latency_ms" in rows(
            "SELECT name FROM system.columns WHERE database = {database:String} AND table = 'api_usage'"
        )
        assert rows(
            "SELECT name, engine FROM system.tables WHERE database = {database:String} AND name IN "
            "('api_usage_daily', 'api_usage_daily_mv', 'zeta_api_usage_daily_mv')"
        ) == ["api_usage_daily\tView", "zeta_api_usage_daily_mv\tMaterializedView"]
        assert rows("SELECT count() FROM {database:Identifier}.api_usage") == ["0"]
        written = store.insert(WorldRequests(TeamZetaWorld(SEED), sample_every=100).generate(END - 3600, END))
        assert written > 100
        assert rows("SELECT sum(requests) FROM {database:Identifier}.zeta_api_usage_daily") == [str(written)]
    finally:
        store.close()
        session.query("DROP DATABASE {d:Identifier}", "CSV", params={"d": database})
