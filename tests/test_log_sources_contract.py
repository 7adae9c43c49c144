"""One contract, three log sources: the same records, stored in Elasticsearch, Loki and ClickHouse
as each holds them, come back as the same LogRecords, in the same order, page by page, and an
empty answer is an empty last page everywhere.

ClickHouse is the real engine (chdb). Elasticsearch and Loki are served over HTTP on 127.0.0.1 by
the answer builders in tests/support/log_fixtures.py, written from the API docs and checked
against the real captured responses in their own tests. The expected records are built here
from the seed lines, independently of every adapter.
"""

from __future__ import annotations

import json

import orjson
import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import Doc, FakeLoki, FakeSearch, seed_line
from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource
from zeta_tui.backends.logs.loki import LogQL, LokiLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.timerange import TimeRange

chdb = pytest.importorskip("chdb", reason="the ClickHouse side of the contract runs on chdb (pip install chdb)")

T0_NS = 1_767_225_600_000_000_000
EVERYTHING = TimeRange(0, 4_102_444_800, "all")
EMPTY = TimeRange(0, 1_000, "1970")
LABELS = {"namespace": "production", "app": "zeta"}
TOP = ("timestamp", "level", "service", "message", "trace_id", "span_id")
SOURCES = ["elasticsearch", "loki", "clickhouse"]


def _seed() -> list[tuple[int, str]]:
    out = []
    for i in range(14):
        ns = T0_NS + (i // 3) * 10_000_000 + i  # distinct nanoseconds, a few per 10 ms
        out.append(
            (
                ns,
                seed_line(
                    ns,
                    ["INFO", "WARN", "ERROR", "DEBUG"][i % 4],
                    f"request {i} ✓ ü",
                    service=["backend-api", "auth"][i % 2],
                    status_code=200 + i,
                    latency_ms=10 + i,
                    endpoint="/api/v1/items",
                    context={"ip_address": f"10.0.0.{i}"},
                ),
            )
        )
    return out


def _expected(seed) -> list[tuple]:
    """What every source must return for each seed line, flattened the way the contract says."""
    rows = []
    for ns, line in seed:
        doc = json.loads(line)
        fields = {k: v for k, v in doc.items() if k not in TOP and k != "context"}
        fields.update({f"context.{k}": v for k, v in doc["context"].items()})
        rows.append((ns, doc["level"], doc["service"], doc["message"], doc["trace_id"], doc["span_id"], fields))
    return rows


@pytest.fixture(scope="module")
def clickhouse_store(tmp_path_factory):
    from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session
    from zeta_tui.demo.log_store import schema_sql

    path = tmp_path_factory.mktemp("contract") / "store"
    session = embedded_session(path, create=True)
    session.query(schema_sql(), params={"database": "default", "table": "otel_logs"})
    rows = []
    for ns, doc, expected in ((ns, json.loads(line), exp) for (ns, line), exp in zip(_seed(), _expected(_seed()))):
        sec, frac = divmod(ns, 1_000_000_000)
        rows.append(
            orjson.dumps(
                {
                    "Timestamp": f"{sec}.{frac:09d}",
                    "TraceId": doc["trace_id"],
                    "SpanId": doc["span_id"],
                    "SeverityText": doc["level"],
                    "ServiceName": doc["service"],
                    "Body": doc["message"],
                    "LogAttributes": {k: str(v) for k, v in expected[6].items()},
                }
            )
        )
    session.query("INSERT INTO default.otel_logs FORMAT JSONEachRow\n" + b"\n".join(rows).decode())
    yield str(path)
    close_embedded_session(path)


def _source(kind: str, httpserver: HTTPServer, store: str, seed):
    if kind == "clickhouse":
        from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource

        return ClickHouseLogSource(LogsConfig(kind="clickhouse", path=store)), None
    url = httpserver.url_for("/").rstrip("/")
    if kind == "elasticsearch":
        FakeSearch(
            [Doc("logs-zeta", f"d{i}", ns // 1_000_000, json.loads(line)) for i, (ns, line) in enumerate(seed)],
            pit="es",
        ).install(httpserver)
        return ElasticsearchLogSource(LogsConfig(kind="elasticsearch", url=url, timestamp_field="timestamp")), {
            "match_all": {}
        }
    FakeLoki([(LABELS, ns, line) for ns, line in seed]).install(httpserver)
    return LokiLogSource(LogsConfig(kind="loki", url=url)), LogQL('{namespace="production"}')


async def _walk(source, query, time_range, *, newest_first: bool, limit: int = 4) -> tuple[list[tuple], int]:
    out, pages, cursor = [], 0, None
    while pages < 50:
        page = await source.search(query, time_range, limit=limit, newest_first=newest_first, cursor=cursor)
        pages += 1
        ordered = [r.timestamp_ns for r in page.records]
        assert ordered == sorted(ordered), "a page's records are oldest first"
        out.extend(reversed(page.records) if newest_first else page.records)
        cursor = page.cursor
        if cursor is None:
            break
    await source.aclose()
    return [
        (
            r.timestamp_ns,
            r.level,
            r.service,
            r.message,
            r.trace_id,
            r.span_id,
            {k: v for k, v in r.fields.items() if k not in LABELS},
        )
        for r in out
    ], pages


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
@pytest.mark.parametrize("kind", SOURCES)
async def test_every_source_returns_the_seed_records_page_by_page(
    kind, newest_first, httpserver, clickhouse_store
) -> None:
    seed = _seed()
    source, query = _source(kind, httpserver, clickhouse_store, seed)
    got, pages = await _walk(source, query, EVERYTHING, newest_first=newest_first)
    expected = sorted(_expected(seed), key=lambda row: row[0], reverse=newest_first)
    assert got == expected
    assert pages >= 4  # 14 records, 4 a page: the cursor was really used


@pytest.mark.parametrize("kind", SOURCES)
async def test_an_empty_answer_is_an_empty_last_page(kind, httpserver, clickhouse_store) -> None:
    source, query = _source(kind, httpserver, clickhouse_store, _seed())
    page = await source.search(query, EMPTY, limit=10, newest_first=True)
    await source.aclose()
    assert page.records == () and page.cursor is None
