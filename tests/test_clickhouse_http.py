"""The server path of ClickHouse (clickhouse_http.py): what zeta sends, what it reads back, and its bounds.

No ClickHouse server can run here. The requests go over real HTTP to a stand-in that runs them
on the real engine (tests/support/clickhouse_http.py: chdb behind ClickHouse's HTTP interface,
named as a stand-in there), so the SQL, parameters and settings are executed, not compared as
text; the embedded path answers the same SQL for comparison. The failure words are checked on
servers answering as ClickHouse does (its exception header and sentence, an answer that fails
after its first rows, a proxy's HTML page), and the bounds on the fault servers of
tests/support/faults.py (a 24 MB and a 300 MB answer, a hang).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import time

import pytest
from pytest_httpserver import HTTPServer

pytest.importorskip("chdb", reason="the stand-in answers from chdb (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_store import AnalyticsDatabase
from tests.support.clickhouse_http import ClickHouseStandIn
from tests.support.faults import fault_backend
from tests.support.servers import silent_server
from zeta_tui.backends.analytics import AnalyticsSource
from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
from zeta_tui.backends.usage_rollup import RollupInit
from zeta_tui.config.models import ClickHouseConfig
from zeta_tui.errors import (
    AnswerTooLarge,
    BackendAuthError,
    BackendTimeout,
    BackendUnavailable,
    QueryCancelled,
    QueryError,
)

TODAY = edge.LAST_DAY
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = AnalyticsDatabase(tmp_path_factory.mktemp("clickhouse-http"))
    d.insert("api_usage", edge.usage_rows())
    d.insert("tenants", edge.tenant_rows(1))
    d.insert("cost_data", edge.cost_rows())
    yield d
    d.close()


@pytest.fixture(scope="module")
def server(db):
    standin = ClickHouseStandIn(db.path, users={"reader": "s3cret-pw"})
    yield standin
    standin.stop()


def server_config(server, db, **overrides) -> ClickHouseConfig:
    url = server.url.replace("http://", "http://reader:s3cret-pw@")
    return ClickHouseConfig(url=url, database=db.database, **overrides)


def ask(cfg: ClickHouseConfig, work):
    async def go():
        source = AnalyticsSource(cfg)
        try:
            return await work(source)
        finally:
            await source.close()

    return asyncio.run(go())


# --- what is sent -------------------------------------------------------------------------


def test_a_query_sends_the_sql_parameters_and_read_only_limits_outside_the_sql(server, db) -> None:
    cfg = server_config(server, db, timeout_seconds=7.5, max_rows=4, max_response_bytes=5 * MiB)
    sql = f"SELECT number, {{t:String}} AS t FROM numbers(10) -- {db.database}"
    before = len(server.requests)
    result = ask(cfg, lambda s: s.query(sql, {"t": "it's a\ttab"}, query_id="q_1"))
    [sent] = server.requests[before:]
    assert (sent.sql, sent.params, sent.database, sent.query_id) == (sql, {"t": "it's a\\ttab"}, db.database, "q_1")
    assert sent.settings == {
        "readonly": "1",
        "max_execution_time": "8",
        "limit": "5",
        "max_result_rows": "5",
        "max_result_bytes": str(5 * MiB),
        "result_overflow_mode": "throw",
        "cancel_http_readonly_queries_on_client_close": "1",
    }
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"reader:s3cret-pw").decode()
    # the engine read the parameter back as it was given, tab included
    assert result.rows == [(i, "it's a\ttab") for i in range(4)] and result.truncated
    assert (result.columns, result.types, result.query_id) == (("number", "t"), ("UInt64", "String"), "q_1")
    # what the engine read, from the answer's statistics: as much as the embedded path says it read
    here = ask(db.config(max_rows=4), lambda s: s.query(sql, {"t": "it's a\ttab"}))
    assert result.rows_read == here.rows_read and 4 <= result.rows_read <= 10
    assert AnalyticsSource(cfg).url == server.url  # no credentials in messages


def test_the_server_path_answers_what_the_embedded_path_answers(server, db) -> None:
    sqls = [
        "SELECT toDate('2026-03-04') AS d, toUInt64(18446744073709551615) AS big, CAST(NULL AS Nullable(Float64)) "
        "AS n, 'x' AS s",
        (
            "SELECT tenant_id, count() AS calls, sum(latency_ms) AS ms FROM api_usage GROUP BY tenant_id "
            "ORDER BY tenant_id"
        ),
        "SHOW TABLES",
    ]
    for sql in sqls:
        here = ask(db.config(), lambda s, sql=sql: s.query(sql))
        there = ask(server_config(server, db), lambda s, sql=sql: s.query(sql))
        assert (there.columns, there.types, there.rows, there.truncated) == (
            here.columns,
            here.types,
            here.rows,
            here.truncated,
        ), sql
    named = [
        ask(cfg, lambda s: s.named("top_tenants", {"days": "31", "limit": "5"}, today=TODAY))
        for cfg in (db.config(), server_config(server, db))
    ]
    assert named[0].rows == named[1].rows and len(named[0].rows) == 5


def test_clickhouse_itself_refuses_a_write_sent_to_the_server(server, db) -> None:
    before = db.counts()
    engine = ClickHouseEngine(server_config(server, db), "clickhouse")
    with pytest.raises(QueryError) as err:
        asyncio.run(engine.fetch("INSERT INTO api_usage SELECT * FROM api_usage", max_rows=10))
    assert err.value.message.startswith("Code: 164") and "readonly" in err.value.message.lower()
    assert db.counts() == before


def test_a_running_query_is_cancelled_with_kill_query_on_its_own_request(server, db) -> None:
    async def go(source):
        task = asyncio.create_task(
            source.query("SELECT count() FROM numbers(1000000000000)", query_id="zeta_http_cancel")
        )
        await asyncio.sleep(0.7)
        assert not task.done()
        started = time.monotonic()
        await source.cancel("zeta_http_cancel")
        with pytest.raises(QueryCancelled):
            await task
        return time.monotonic() - started

    assert ask(server_config(server, db, timeout_seconds=60), go) < 3
    kill = [r for r in server.requests if r.sql.startswith("KILL QUERY")][-1]
    assert kill.params == {"id": "zeta_http_cancel"} and "readonly" not in kill.settings
    deadline = time.monotonic() + 5
    while db.scalar("SELECT count() FROM system.processes WHERE Settings['log_comment'] = 'zeta_http_cancel'") != "0":
        assert time.monotonic() < deadline, "the cancelled query still runs"
        time.sleep(0.1)


def test_a_wrong_password_is_not_authorised_with_clickhouse_words(server, db) -> None:
    cfg = ClickHouseConfig(url=server.url, database=db.database, username="reader", password="wrong-pw")
    with pytest.raises(BackendAuthError) as err:
        ask(cfg, lambda s: s.query("SELECT 1"))
    assert err.value.message.startswith("Code: 516. DB::Exception: reader: Authentication failed")
    assert "refused the credentials zeta sent" in err.value.hint and "wrong-pw" not in err.value.render()


def test_init_creates_the_schema_through_the_server(server, tmp_path) -> None:
    fresh = AnalyticsDatabase(tmp_path, fresh=False)
    try:
        writer = ClickHouseEngine(
            ClickHouseConfig(url=server.url.replace("http://", "http://reader:s3cret-pw@"), database=fresh.database),
            "clickhouse",
        ).writer()
        try:
            report = RollupInit(writer, fresh.database, settle_s=0).run()
        finally:
            writer.close()
        assert {"api_usage", "cost_data", "tenants", "zeta_api_usage_daily"} <= set(fresh.tables())
        assert report.created and report.rollup_requests == report.usage_rows == 0
    finally:
        fresh.close()


# --- the words of a failure ---------------------------------------------------------------

UNKNOWN_TABLE = (
    "Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version 24.8.4.13 (official build))\n"
    "0. DB::Exception::Exception(...) @ 0x000000000c1e7c3b\n1. DB::IDatabase::getTable(...) @ 0x0000000010f2a9c1\n"
)
THROW_IF = (
    "Code: 395. DB::Exception: Value passed to 'throwIf' function is non-zero: "
    "while executing 'FUNCTION throwIf(equals(number, 2) :: 1) -> throwIf(equals(number, 2)) UInt8 : 2'. "
    "(FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) (version 24.8.4.13 (official build))\n"
)


def failing(
    httpserver: HTTPServer, body: str | bytes, status: int = 200, headers: dict | None = None, **cfg
) -> Exception:
    httpserver.expect_request(re.compile(".*")).respond_with_data(
        body, status=status, headers=headers or {}, content_type=(headers or {}).get("Content-Type", "text/plain")
    )
    config = ClickHouseConfig(url=httpserver.url_for("/").rstrip("/"), timeout_seconds=5, **cfg)
    with pytest.raises(Exception) as err:
        ask(config, lambda s: s.query("SELECT * FROM x"))
    return err.value


def test_a_clickhouse_exception_is_its_own_first_sentence(httpserver: HTTPServer) -> None:
    err = failing(httpserver, UNKNOWN_TABLE, 404, {"X-ClickHouse-Exception-Code": "60"})
    assert isinstance(err, QueryError)
    assert err.message == (
        "Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version 24.8.4.13 (official build))"
    )
    assert "clickhouse.database" in err.hint


def test_a_long_exception_is_cut_to_one_short_line(httpserver: HTTPServer) -> None:
    long = (
        "Code: 62. DB::Exception: Syntax error: failed at position 8 (" + "x" * 2000 + "): expected one of ...\nstack\n"
    )
    err = failing(httpserver, long, 400, {"X-ClickHouse-Exception-Code": "62"})
    assert isinstance(err, QueryError) and "\n" not in err.message
    assert (
        err.message.startswith("Code: 62. DB::Exception: Syntax error")
        and len(err.message) <= 301
        and err.message.endswith("…")
    )


@pytest.mark.parametrize(
    "body",
    [
        # the query failed after its first rows were sent: the sentence ends a 200 answer ...
        '{\n\t"meta": [{"name": "number", "type": "UInt64"}],\n\t"data":\n\t[\n\t\t["0"],\n\t\t["1"],\n' + THROW_IF,
        # ... or, on servers that write it into the format, an "exception" member
        '{"meta": [{"name": "number", "type": "UInt64"}], "data": [["0"], ["1"]], "exception": '
        + json.dumps(THROW_IF)
        + "}",
    ],
)
def test_a_query_failing_mid_answer_says_clickhouse_sentence(httpserver: HTTPServer, body: str) -> None:
    err = failing(httpserver, body, 200, {"Content-Type": "application/json"})
    assert isinstance(err, QueryError) and err.message.startswith("Code: 395. DB::Exception: Value passed to 'throwIf'")
    assert '"data"' not in err.message


def test_an_html_error_page_is_one_line_by_its_title(httpserver: HTTPServer) -> None:
    page = (
        (
            "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{}</style></head><body><h1>502 "
            "Bad Gateway</h1>"
        )
        + "<p>upstream</p>" * 200
        + "</body></html>"
    )
    err = failing(httpserver, page, 502, {"Content-Type": "text/html"})
    assert isinstance(err, BackendUnavailable) and err.message == "HTTP 502: an HTML page: 502 Bad Gateway"
    assert "clickhouse.url" in err.hint


def test_a_malformed_answer_says_what_was_wrong_without_its_bytes(httpserver: HTTPServer) -> None:
    garbage = '{"meta": [{"name": "n"}], "data": [[1], [2],, ]]' + "\\u0000\\x01" * 200
    err = failing(httpserver, garbage, 200, {"Content-Type": "application/json"})
    assert isinstance(err, BackendUnavailable) and "malformed JSON" in err.message and "application/json" in err.message
    assert "\\u0000" not in err.message and '"meta"' not in err.message and len(err.message) < 200


def test_an_answer_in_the_querys_own_format_is_named(server, db) -> None:
    with pytest.raises(QueryError) as err:
        ask(server_config(server, db), lambda s: s.query("SELECT 1 FORMAT CSV"))
    assert "FORMAT CSV" in err.value.message and "remove FORMAT" in err.value.hint


@pytest.mark.parametrize(
    ("cfg", "said"),
    [
        ({}, "zeta sent no credentials"),
        ({"username": "zeta", "password": "pw-never-shown"}, "refused the credentials zeta sent"),
        ({"bearer_token": "tok-never-shown"}, "refused the credentials zeta sent"),
    ],
)
def test_401_and_403_without_a_clickhouse_code_are_not_authorised(httpserver: HTTPServer, cfg, said) -> None:
    for status in (401, 403):
        httpserver.clear()
        err = failing(httpserver, '{"error": "unauthorized"}', status, {"Content-Type": "application/json"}, **cfg)
        assert isinstance(err, BackendAuthError) and err.title == "Not authorised"
        assert err.message == f"HTTP {status}: unauthorized" and said in err.hint
        assert "never-shown" not in err.render()


# --- bounds -------------------------------------------------------------------------------


def test_an_answer_over_the_cap_stops_being_read(db) -> None:
    huge = fault_backend(f"huge/{24 * MiB}")
    cfg = ClickHouseConfig(url=huge.url(), timeout_seconds=10, max_response_bytes=MiB)
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge) as err:
        ask(cfg, lambda s: s.query("SELECT 1"))
    assert time.monotonic() - started < 5
    assert (
        err.value.message
        == "ClickHouse's answer is over the 1 MiB cap (more than 1 MiB had come); the read stopped there"
    )
    assert (
        err.value.where == huge.url()
        and "a LIMIT" in err.value.hint
        and "clickhouse.max_response_bytes" in err.value.hint
    )


def test_a_hung_server_is_a_timeout_within_timeout_seconds() -> None:
    cfg = ClickHouseConfig(url=silent_server().url, timeout_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(BackendTimeout) as err:
        ask(cfg, lambda s: s.query("SELECT 1"))
    assert time.monotonic() - started < 1.5 + 1
    assert err.value.message == "no answer within 1.5s" and "clickhouse.timeout_seconds" in err.value.hint


def test_the_requests_of_one_action_share_one_deadline(httpserver: HTTPServer) -> None:
    """Each answer takes 0.8 s against a 1.5 s timeout: alone each is in time, the second of one action is not."""

    def slow(request):
        from werkzeug import Response

        time.sleep(0.8)
        return Response('{"meta": [{"name": "1", "type": "UInt8"}], "data": [[1]]}', content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow)
    engine = ClickHouseEngine(
        ClickHouseConfig(url=httpserver.url_for("/").rstrip("/"), timeout_seconds=1.5), "clickhouse"
    )

    async def two(in_one_action: bool):
        try:
            if not in_one_action:
                return [await engine.rows("SELECT 1", {}), await engine.rows("SELECT 1", {})]
            async with engine.action():
                return [await engine.rows("SELECT 1", {}), await engine.rows("SELECT 1", {})]
        finally:
            await engine.aclose()

    assert asyncio.run(two(False)) == [[[1]], [[1]]]
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        asyncio.run(two(True))
    assert time.monotonic() - started < 1.5 + 0.5


def test_zeta_sql_facing_300_mb_stays_small_and_fails_with_the_cap(tmp_path) -> None:
    """A 300 MB answer against the default cap (64 MiB): exit 1 with the cap's words, and the
    command's peak memory far below the answer (measured by the kernel: ru_maxrss of the child)."""
    huge = fault_backend(f"huge/{300 * MiB}")
    config = tmp_path / "zeta.toml"
    config.write_text(f'[contexts.x.clickhouse]\nurl = "{huge.url()}"\ntimeout_seconds = 10\n')
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(r.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stdout + r.stderr)"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "zeta_tui.cli", "--config", str(config), "sql", "SELECT 1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    took = time.monotonic() - started
    code, peak_kib, output = done.stdout.split("\n", 2)
    assert int(code) == 1, output
    assert "Answer too large" in output and "64 MiB cap" in output and "Traceback" not in output
    assert int(peak_kib) * 1024 < 200 * MiB, f"peak RSS {int(peak_kib) / 1024:.0f} MiB"
    assert took < 10 + 5, f"{took:.1f}s"


def test_a_read_only_profile_refusing_zetas_limits_says_what_to_change(httpserver: HTTPServer) -> None:
    sentence = (
        "Code: 164. DB::Exception: Cannot modify 'max_execution_time' setting in readonly mode. (READONLY) "
        "(version 24.8.4.13 (official build))\n"
    )
    err = failing(httpserver, sentence, 500, {"X-ClickHouse-Exception-Code": "164"}, username="ro", password="pw")
    assert isinstance(err, QueryError) and err.message == sentence.strip()
    assert "readonly = 2" in err.hint


@pytest.mark.parametrize(
    "body", ['{"meta": [1, 2], "data": [[1, 2]]}', '{"meta": {"name": "x"}, "data": []}', "[1, 2, 3]"]
)
def test_json_that_is_not_a_clickhouse_result_is_named(httpserver: HTTPServer, body: str) -> None:
    err = failing(httpserver, body, 200, {"Content-Type": "application/json"})
    assert isinstance(err, BackendUnavailable) and err.message.startswith("the answer is not a ClickHouse result")


def test_an_exception_code_header_without_the_sentence_still_names_the_code(httpserver: HTTPServer) -> None:
    err = failing(httpserver, "Table default.x does not exist\n", 404, {"X-ClickHouse-Exception-Code": "60"})
    assert isinstance(err, QueryError) and err.message == "Code: 60. Table default.x does not exist"
