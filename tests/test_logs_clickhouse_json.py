"""ClickHouseLogSource on both variants of the OpenTelemetry collector's otel_logs table, on the
real engine (chdb): ``logs_table-e3bd2d1d.sql`` (attributes as Map) and the JSON variant
``logs_json_table-0ef598ac.sql`` (attributes as JSON, with the exporter's *Keys columns), both
read from ../shared/fixtures/real/clickhouse at test time with only their placeholders filled in.

The same records go into both (JSON attributes keep their types: numbers stay numbers; the Map
holds text). Each query's matches are compared with a Python predicate over the records, and
the fields of a record must show the attributes under their dotted keys.
"""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("chdb", reason="the otel_logs variants run on chdb (pip install chdb)")

from tests.support.servers import real_fixture
from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.models.timerange import TimeRange

T0 = 1_736_245_800  # 2025-01-07T10:30:00Z
WINDOW = TimeRange(T0 - 3600, T0 + 60)
TABLES = {"map": "logs_table-e3bd2d1d.sql", "json": "logs_json_table-0ef598ac.sql"}


def _ddl(table: str) -> str:
    text = real_fixture(f"clickhouse/{TABLES[table]}").decode()
    for placeholder in ('"%s"."%s" %s', "%q.%q %s"):
        text = text.replace(placeholder, f"`default`.`logs_{table}`", 1)
    text = text.replace("ENGINE = %s", "ENGINE = MergeTree()", 1).replace("\n%s\n", "\n", 1)
    assert "%s" not in text and "%q" not in text, "the template has placeholders this test does not know"
    return text


def _records() -> list[dict]:
    out = []
    for i in range(24):
        endpoint = ["/api/v1/recommendations", "/api/v1/auth/login", "/api/v1/users"][i % 3]
        attributes = {
            "tenant_id": f"tenant_00{i % 4 + 1}",
            "endpoint": endpoint,
            "http.method": "POST" if "auth" in endpoint else "GET",
            "status_code": [200, 401, 500, 200, 503, 200][i % 6],
            "latency_ms": [45, 1200, 999.5, 3000][i % 4],
            "context.user_agent": "Mozilla/5.0",
            "context.api_key_id": f"key_{i % 5}",
        }
        if i % 5 == 0:
            attributes["feature.flag.new_ranker"] = True
        out.append(
            {
                "ns": (T0 - 60 * i) * 10**9 + i * 1000,
                "level": ["INFO", "ERROR", "WARN"][i % 3],
                "service": ["backend-api", "auth", "ml-engine"][i % 3],
                "body": f"request {i} on {endpoint}",
                "trace_id": f"{0x4BF92F3577B34DA6A3CE929D0E0E4736 + i:032x}",
                "attributes": attributes,
                "resource": {
                    "service.name": ["backend-api", "auth", "ml-engine"][i % 3],
                    "k8s.namespace.name": "prod" if i % 2 else "staging",
                    "host.name": f"node-{i % 3}",
                },
            }
        )
    return out


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _row(r: dict, table: str) -> dict:
    def typed(attributes: dict) -> dict:
        return attributes if table == "json" else {k: _text(v) for k, v in attributes.items()}

    sec, frac = divmod(r["ns"], 10**9)
    row = {
        "Timestamp": f"{sec}.{frac:09d}",
        "SeverityText": r["level"],
        "ServiceName": r["service"],
        "Body": r["body"],
        "TraceId": r["trace_id"],
        "LogAttributes": typed(r["attributes"]),
        "ResourceAttributes": typed(r["resource"]),
    }
    if table == "json":  # what the exporter writes beside the JSON
        row.update(LogAttributesKeys=sorted(r["attributes"]), ResourceAttributesKeys=sorted(r["resource"]))
    return row


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session

    path = tmp_path_factory.mktemp("otel-logs-variants") / "store"
    session = embedded_session(path, create=True)
    records = _records()
    for table in TABLES:
        session.query(_ddl(table))
        rows = "\n".join(json.dumps(_row(r, table)) for r in records)
        session.query(f"INSERT INTO default.logs_{table} FORMAT JSONEachRow\n{rows}")
    yield str(path), records
    close_embedded_session(path)


def _source(path: str, table: str) -> ClickHouseLogSource:
    return ClickHouseLogSource(LogsConfig(kind="clickhouse", path=path, table=f"logs_{table}"))


def _attr(r: dict, key: str):
    return r["attributes"].get(key, r["resource"].get(key))


QUERIES = {
    "http.method:POST": lambda r: _attr(r, "http.method") == "POST",
    'tenant_id:"tenant_001" AND level:ERROR': lambda r: _attr(r, "tenant_id") == "tenant_001" and r["level"] == "ERROR",
    "latency_ms:>1000": lambda r: _attr(r, "latency_ms") > 1000,
    "status_code:[500 TO 599]": lambda r: 500 <= _attr(r, "status_code") <= 599,
    "status_code:401": lambda r: _attr(r, "status_code") == 401,
    "k8s.namespace.name:prod": lambda r: _attr(r, "k8s.namespace.name") == "prod",
    "_exists_:feature.flag.new_ranker": lambda r: "feature.flag.new_ranker" in r["attributes"],
    "feature.flag.new_ranker:true": lambda r: r["attributes"].get("feature.flag.new_ranker") is True,
    "NOT _exists_:feature.flag.new_ranker AND context.api_key_id:key_1": lambda r: (
        "feature.flag.new_ranker" not in r["attributes"] and _attr(r, "context.api_key_id") == "key_1"
    ),
    "endpoint:/api/v1/auth/*": lambda r: _attr(r, "endpoint").startswith("/api/v1/auth/"),
    "host.name:node-1 AND login": lambda r: _attr(r, "host.name") == "node-1" and "login" in r["body"],
}


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("query", list(QUERIES))
def test_queries_on_dotted_keys_find_what_they_say(store, table, query) -> None:
    path, records = store
    page = asyncio.run(_source(path, table).search(query, WINDOW, limit=1000))
    want = sorted(r["trace_id"] for r in records if QUERIES[query](r))
    assert want, "a query that finds nothing proves nothing"
    assert sorted(r.trace_id for r in page.records) == want


@pytest.mark.parametrize("table", list(TABLES))
def test_records_show_the_attributes_under_their_dotted_keys(store, table) -> None:
    path, records = store
    source = _source(path, table)
    page = asyncio.run(source.search(None, WINDOW, limit=1000))
    by_trace = {r["trace_id"]: r for r in records}
    assert len(page.records) == len(records)
    for rec in page.records:
        expected = by_trace[rec.trace_id]
        want = {k: (v if table == "json" else _number_or_text(_text(v))) for k, v in expected["attributes"].items()}
        want.update({k: v for k, v in expected["resource"].items() if k != "service.name"})
        assert rec.fields == want
        assert (rec.service, rec.level, rec.message) == (expected["service"], expected["level"], expected["body"])
    assert source._json == (frozenset({"LogAttributes", "ResourceAttributes"}) if table == "json" else frozenset())


def _number_or_text(text: str):
    """How the Map variant's text reads back: plain decimal numbers as numbers (records.py's rule)."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def test_attribute_decoding_of_each_shape() -> None:
    from zeta_tui.querying.otel_attributes import attributes

    assert attributes({"http.method": "GET"}) == {"http.method": "GET"}  # a Map: as it is
    assert attributes('{"http":{"method":"GET","status_code":200},"ok":true,"tags":["a"]}') == {
        "http.method": "GET",
        "http.status_code": 200,
        "ok": True,
        "tags": ["a"],
    }
    assert attributes({"http": {"method": "GET"}}) == {"http.method": "GET"}  # a client that decodes JSON itself
    # written with json_type_escape_dots_in_keys = 1, a key's dots come back as %2E
    assert attributes('{"http%2Emethod":"PUT"}') == {"http.method": "PUT"}
    assert attributes(None) == attributes("") == attributes("not json") == {}
