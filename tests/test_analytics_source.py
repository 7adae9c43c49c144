"""AnalyticsSource on a real embedded ClickHouse (chdb): injection changes nothing, writes are
refused by ClickHouse's own readonly setting (not only by sql_guard's words), the time limit and
the row cap hold, a running query can be cancelled, and the answer carries types and costs."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pytest

pytest.importorskip("chdb", reason="these tests run the engine (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_store import AnalyticsDatabase
from tests.support.product_reference import PRODUCT_QUERIES
from zeta_tui.backends.analytics import AnalyticsSource
from zeta_tui.errors import AnswerTooLarge, BackendTimeout, ParamError, QueryCancelled, QueryError, SqlRefused
from zeta_tui.querying.sql_catalog import load_catalog

TODAY = edge.LAST_DAY


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = AnalyticsDatabase(tmp_path_factory.mktemp("analytics-source"))
    d.insert("api_usage", edge.usage_rows())
    d.insert("tenants", edge.tenant_rows(1))
    d.insert("cost_data", edge.cost_rows())
    yield d
    d.close()


def run(coro):
    return asyncio.run(coro)


async def _with(cfg, work):
    source = AnalyticsSource(cfg)
    try:
        return await work(source)
    finally:
        await source.close()


def named(db, name, params, **cfg):
    return run(_with(db.config(**cfg), lambda s: s.named(name, params, today=TODAY)))


def query(db, sql, params=None, **kwargs):
    cfg = {k: kwargs.pop(k) for k in ("timeout_seconds", "max_rows", "max_response_bytes") if k in kwargs}
    return run(_with(db.config(**cfg), lambda s: s.query(sql, params, **kwargs)))


# --- injection ----------------------------------------------------------------------------

TENANT_PAYLOADS = [
    "x' OR 1=1 --",  # a real tenant id in the edge data: it must match itself and nothing else
    "acme' OR '1'='1",
    "tenant_001' UNION ALL SELECT tenant_id, name, plan, 1, 1, 1, 1, 1, 1, 1 FROM tenants --",
    "'; DROP TABLE api_usage; --",
    "acme\\' OR 1=1 #",
    "acme\n' OR 1=1",
    "{tenant:String}",
    "%",
    "acme%",
]


def _tenant_rows(db, tenant: str) -> int:
    return int(db.scalar("SELECT count() FROM {database:Identifier}.api_usage WHERE tenant_id = " + _quote(tenant)))


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


@pytest.mark.parametrize("tenant", TENANT_PAYLOADS)
def test_tenant_values_match_only_themselves_through_every_tenant_parameter(db, tenant: str) -> None:
    before = (db.counts(), db.tables())
    expected = _tenant_rows(db, tenant)  # rows whose tenant_id is exactly the payload (only "x' OR 1=1 --" has any)
    catalog = load_catalog()
    for name, q in catalog.items():
        if not q.param("tenant") or name in PRODUCT_QUERIES:  # on events: tests/test_product_queries.py's
            continue
        params = {"tenant": tenant, "days": 60} if q.param("days") else {"tenant": tenant}
        if q.param("limit"):
            params["limit"] = 1000
        rows = named(db, name, params).records()
        if expected == 0:
            # '' would mean all tenants; a payload is not '': nothing matches it
            assert rows == [], (name, tenant, rows[:3])
        elif name in ("top_tenants", "requests_over_time"):
            assert {r["tenant_id"] for r in rows} == {tenant}, name
            assert sum(r["requests"] for r in rows) == expected, name
        else:
            assert sum(r["requests"] for r in rows) == expected, name
    assert (db.counts(), db.tables()) == before


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [
        (name, p.name, value)
        for name, q in sorted(load_catalog().items())
        for p in q.params
        if p.type != "String"
        for value in ("7; DROP TABLE api_usage", "1 OR 1=1", "0) UNION ALL SELECT 1 --")
    ],
)
def test_typed_parameters_refuse_sql_before_anything_runs(db, name: str, param: str, value: str) -> None:
    before = (db.counts(), db.tables())
    q = load_catalog()[name]
    params = {p.name: "acme" for p in q.params if p.required and p.type == "String"}
    with pytest.raises(ParamError) as err:
        named(db, name, {**params, param: value})
    assert repr(param) in err.value.message
    assert (db.counts(), db.tables()) == before


def test_ad_hoc_parameters_are_values_not_sql(db) -> None:
    before = db.counts()
    sql = "SELECT count() AS n FROM api_usage WHERE tenant_id = {t:String}"
    for payload in TENANT_PAYLOADS:
        assert query(db, sql, {"t": payload}).rows == [(_tenant_rows(db, payload),)]
    # the value comes back byte for byte, quotes, backslashes and newlines included
    odd = "a'b\\c\nd\t\"e`"
    assert query(db, "SELECT {v:String} AS v", {"v": odd}).rows == [(odd,)]
    assert db.counts() == before


# --- writes are refused by ClickHouse -----------------------------------------------------

ENGINE_WRITES = [
    "INSERT INTO api_usage SELECT * FROM api_usage",
    "INSERT INTO api_usage (tenant_id) VALUES ('evil')",
    "CREATE TABLE evil (a UInt8) ENGINE = Memory",
    "DROP TABLE api_usage",
    "ALTER TABLE api_usage DELETE WHERE 1",
    "ALTER TABLE tenants UPDATE mrr_usd = 0 WHERE 1",
    "TRUNCATE TABLE cost_data",
    "OPTIMIZE TABLE api_usage FINAL",
    "SET readonly = 0",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT count() FROM api_usage SETTINGS max_execution_time = 3600",
    # What defeats settings appended to the SQL text (measured): a trailing comment, a chain.
    "INSERT INTO api_usage SELECT * FROM api_usage --",
    "INSERT INTO tenants SELECT * FROM tenants; SELECT 1",
]


@pytest.mark.parametrize("sql", ENGINE_WRITES)
def test_the_engine_itself_refuses_writes_with_clickhouse_readonly_error(db, sql: str) -> None:
    # Straight to the engine: no sql_guard in the way, ClickHouse's readonly = 1 is what refuses.
    before = (db.counts(), db.tables())
    source = AnalyticsSource(db.config())
    with pytest.raises(QueryError) as err:
        source.engine.select(sql, {}, max_rows=10)
    assert "Code: 164" in err.value.message and "readonly" in err.value.message.lower()
    assert "readonly = 1" in err.value.hint
    assert (db.counts(), db.tables()) == before


@pytest.mark.parametrize("sql", ENGINE_WRITES[:8])
def test_the_source_names_the_write_before_sending_it(db, sql: str) -> None:
    before = db.counts()
    with pytest.raises(SqlRefused) as err:
        query(db, sql)
    assert err.value.message.startswith(sql.split()[0].upper()) and "read-only" in err.value.message
    assert err.value.exit_code == 1
    assert db.counts() == before


# --- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count() FROM numbers(1000000000000)",
        "SELECT max(cityHash64(number)) FROM numbers(100000000000)",
    ],
)
def test_max_execution_time_ends_a_long_query(db, sql: str) -> None:
    started = time.monotonic()
    with pytest.raises(BackendTimeout) as err:
        query(db, sql, timeout_seconds=1)
    assert time.monotonic() - started < 6
    assert "Code: 159" in err.value.message and "timeout_seconds" in err.value.hint


def test_the_row_cap_truncates_and_says_so(db) -> None:
    capped = query(db, "SELECT number FROM numbers(100000)", max_rows=7)
    assert capped.rows == [(i,) for i in range(7)] and capped.truncated
    exact = query(db, "SELECT number FROM numbers(7)", max_rows=7)
    assert len(exact.rows) == 7 and not exact.truncated
    # a query may lower the configured cap, never raise it
    asked = run(_with(db.config(max_rows=7), lambda s: s.query("SELECT number FROM numbers(100)", max_rows=3)))
    assert len(asked.rows) == 3 and asked.truncated
    above = run(_with(db.config(max_rows=7), lambda s: s.query("SELECT number FROM numbers(100)", max_rows=50)))
    assert len(above.rows) == 7 and above.truncated


def test_the_row_cap_cuts_the_answer_not_the_subqueries(db) -> None:
    """The cap is ClickHouse's ``limit`` setting: it cuts the outer result only, so a count over
    a subquery of 100 rows is 100 under a cap of 5."""
    assert query(db, "SELECT count() FROM (SELECT number FROM numbers(100))", max_rows=5).rows == [(100,)]
    assert query(
        db, "SELECT count() FROM numbers(100) WHERE number IN (SELECT number FROM numbers(50))", max_rows=5
    ).rows == [(50,)]
    joined = query(
        db,
        "WITH t AS (SELECT number FROM numbers(100)) SELECT a.number FROM t AS a JOIN t AS b USING number "
        "ORDER BY a.number DESC",
        max_rows=5,
    )
    assert joined.rows == [(n,) for n in range(99, 94, -1)] and joined.truncated


def test_clickhouse_own_byte_cap_stops_a_result_over_it(db) -> None:
    """max_result_bytes (result_overflow_mode = 'throw') on chdb: 300,000 rows of 8-byte numbers
    are 2.4 MB in ClickHouse's memory, over a 1 MiB cap; under the row cap, so only bytes stop it."""
    cap = 1024 * 1024
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge) as err:
        query(db, "SELECT number FROM numbers(300000)", max_rows=1_000_000, max_response_bytes=cap)
    assert "Code: 396" in err.value.message and "max bytes: 1.00 MiB" in err.value.message
    assert "ask for less" in err.value.hint and "clickhouse.max_response_bytes" in err.value.hint
    assert time.monotonic() - started < 10
    # under the cap the same numbers come back whole: the cap is on the result, not on what is read
    under = query(db, "SELECT sum(number) FROM numbers(300000)", max_rows=10, max_response_bytes=cap)
    assert under.rows == [(sum(range(300000)),)]


def test_an_embedded_answer_over_the_cap_is_not_decoded(db) -> None:
    """chdb hands its answer over whole; past max_response_bytes zeta refuses it before decoding.
    60,000 UInt64 values are 480 KB in ClickHouse's memory (under its own 1 MiB cap) but over
    1 MiB as JSON, each written as a quoted 17-digit number on a line of its own."""
    cap = 1024 * 1024
    sql = "SELECT number + 10000000000000000 FROM numbers(60000)"
    with pytest.raises(AnswerTooLarge) as err:
        query(db, sql, max_rows=100_000, max_response_bytes=cap)
    assert err.value.message.startswith("the embedded store's answer is") and "over the 1 MiB cap" in err.value.message
    whole = query(db, sql, max_rows=100_000)
    assert whole.rows == [(10**16 + i,) for i in range(60000)]


def test_a_running_query_is_cancelled_by_its_id(db) -> None:
    async def go(source):
        task = asyncio.create_task(
            source.query("SELECT count() FROM numbers(1000000000000)", query_id="zeta_test_cancel")
        )
        await asyncio.sleep(0.7)
        assert not task.done()
        started = time.monotonic()
        await source.cancel("zeta_test_cancel")
        with pytest.raises(QueryCancelled):
            await task
        return time.monotonic() - started

    waited = run(_with(db.config(timeout_seconds=60), go))
    assert waited < 3
    # The engine stopped the work (KILL QUERY), not only the waiting: nothing of it still runs.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if db.scalar("SELECT count() FROM system.processes WHERE Settings['log_comment'] = 'zeta_test_cancel'") == "0":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the cancelled query is still running")
    # cancelling what is not running is not an error
    run(_with(db.config(), lambda s: s.cancel("no_such_query")))


# --- what comes back ----------------------------------------------------------------------


def test_columns_types_values_and_costs(db) -> None:
    result = query(
        db,
        "SELECT toDate('2026-03-04') AS d, toUInt64(18446744073709551615) AS big, CAST(NULL AS Nullable(Float64)) "
        "AS n, 'x' AS s, 1.5 AS f",
    )
    assert result.columns == ("d", "big", "n", "s", "f")
    assert result.types == ("Date", "UInt64", "Nullable(Float64)", "String", "Float64")
    assert result.rows == [(date(2026, 3, 4), 18446744073709551615, None, "x", 1.5)]
    assert result.records() == [{"d": date(2026, 3, 4), "big": 18446744073709551615, "n": None, "s": "x", "f": 1.5}]
    costs = query(db, "SELECT number FROM numbers(1000)", query_id="zeta_costs")
    assert (costs.rows_read, costs.bytes_read, costs.query_id) == (1000, 8000, "zeta_costs")
    assert costs.elapsed_s > 0 and not costs.truncated
    # rows the engine read, not rows returned: a sum over the whole table reads every row (4 bytes each)
    summed = query(db, "SELECT sum(latency_ms) FROM api_usage")
    total = int(db.scalar("SELECT count() FROM {database:Identifier}.api_usage"))
    assert (len(summed.rows), summed.rows_read, summed.bytes_read) == (1, total, 4 * total)


def test_errors_carry_clickhouse_words_and_check_reports_the_version(db) -> None:
    with pytest.raises(QueryError) as err:
        query(db, "SELECT no_such_column FROM api_usage")
    assert "no_such_column" in err.value.message and err.value.message.startswith("Code: 47")
    with pytest.raises(QueryError) as err:
        query(db, "SELECT * FROM no_such_table")
    assert "clickhouse.database" in err.value.hint and db.database in err.value.hint
    version, seconds = run(_with(db.config(), lambda s: s.check()))
    assert version.count(".") >= 2 and seconds >= 0
