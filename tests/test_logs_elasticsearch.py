"""ElasticsearchLogSource over real HTTP on 127.0.0.1: the captured responses in
../shared/fixtures/real/elasticsearch, and fixtures written from the ES/OpenSearch docs."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import Doc, FakeSearch, es_error_body
from tests.support.servers import real_fixture
from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource, EsCursor
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import BackendUnavailable, QueryError
from zeta_tui.models.timerange import TimeRange

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
WIDE = TimeRange(0, 4_102_444_800, "all")  # 1970..2100
MATCH_ALL = {"match_all": {}}


def source(server: HTTPServer, kind: str = "elasticsearch", **extra) -> ElasticsearchLogSource:
    return ElasticsearchLogSource(LogsConfig(kind=kind, url=server.url_for("/").rstrip("/"), **extra))


def serve_search(server: HTTPServer, body: dict | bytes, status: int = 200, index: str = "logs-*") -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    server.expect_request(f"/{index}/_search", method="POST").respond_with_data(
        data, status=status, content_type="application/json"
    )


def no_pit(server: HTTPServer, index: str = "logs-*") -> None:
    server.expect_request(f"/{index}/_pit", method="POST").respond_with_json({"error": "no handler"}, status=405)


# --- the captured real responses ---------------------------------------------------------------


async def test_grafana_logs_response_maps_every_hit(httpserver: HTTPServer) -> None:
    raw = real_fixture("elasticsearch/msearch-logs-sort-highlight.json")
    expected_ids = re.findall(rb'"_id"\s*:\s*"([^"]+)"', raw)
    one = json.loads(raw)["responses"][0]  # an _msearch item has the shape of a _search answer
    serve_search(httpserver, one)
    no_pit(httpserver)
    src = source(httpserver, timestamp_field="testtime")
    page = await src.search(MATCH_ALL, WIDE, limit=100)
    await src.aclose()
    assert len(page.records) == len(expected_ids) == 5
    # newest first from the server, oldest first in the page
    assert [r.record_id for r in page.records] == [f"logs-2023.02.09/{i.decode()}" for i in reversed(expected_ids)]
    newest = page.records[-1]
    assert newest.timestamp_ns == 1675953601475 * 1_000_000
    assert newest.message == "log text  [106619125]"
    assert newest.level == "INFO"  # from "lvl"
    assert newest.fields["nested_field.internal.nested"] == "value1"
    assert newest.fields["abc"] is None and newest.fields["counter"] == 81
    assert page.cursor is None and page.warnings == ()


async def test_opensearch_search_after_example(httpserver: HTTPServer) -> None:
    raw = real_fixture("elasticsearch/opensearch-search-after-sort-docs.json")
    n = len(re.findall(rb'"_id"', raw))
    serve_search(httpserver, raw, index="shakespeare")
    httpserver.expect_request("/shakespeare/_search/point_in_time", method="POST").respond_with_json(
        {"error": "x"}, status=404
    )
    src = source(httpserver, kind="opensearch", index="shakespeare")
    page = await src.search(MATCH_ALL, WIDE, limit=3)
    await src.aclose()
    assert len(page.records) == n == 3
    assert {r.fields["speaker"] for r in page.records} == {"BERNARDO", "KING CLAUDIUS"}
    assert page.cursor is not None  # a full page: there may be more
    assert src.pit_supported is False


async def test_es_spec_example_response(httpserver: HTTPServer) -> None:
    import yaml

    doc = yaml.safe_load(real_fixture("elasticsearch/es-spec-search-response-example.yaml"))
    body = doc["value"]
    serve_search(httpserver, body.encode(), index="my-index-000001")
    httpserver.expect_request("/my-index-000001/_pit", method="POST").respond_with_json({"error": "x"}, status=400)
    src = source(httpserver, index="my-index-000001")
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert len(page.records) == body.count('"_id"') == 1
    rec = page.records[0]
    assert rec.message == "GET /search HTTP/1.1 200 1070000"
    assert rec.timestamp_ns == 4098435132 * 10**9  # 2099-11-15T14:12:12, no zone = UTC
    assert rec.fields["http.response.status_code"] == 200 and rec.fields["user.id"] == "kimchy"


@pytest.mark.parametrize("name", ["msearch-terms-date-histogram.json", "search-date-histogram-cumulative-sum.json"])
async def test_aggregation_only_responses_have_no_records(httpserver: HTTPServer, name: str) -> None:
    raw = real_fixture(f"elasticsearch/{name}")
    body = json.loads(raw)
    body = body["responses"][0] if "responses" in body else body
    assert body["hits"]["hits"] == []
    serve_search(httpserver, body)
    no_pit(httpserver)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert page.records == () and page.cursor is None


async def test_parsing_exception_is_a_query_error_with_es_reason(httpserver: HTTPServer) -> None:
    raw = real_fixture("elasticsearch/error-parsing-exception.json")
    serve_search(httpserver, raw, status=400)
    no_pit(httpserver)
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert "[terms] query does not support [ohno]" in err.value.message
    assert "line 4, col 17" in err.value.message
    assert err.value.error_type == "parsing_exception"


def _shard_failure(root: dict, index: str, shard: int, cause: dict) -> dict:
    """One entry of error.failed_shards, in the shape ES writes it (shard, index, node, reason
    with its caused_by chain)."""
    return {"shard": shard, "index": index, "node": "b3HX8C96Q7q1zgfVLxEsPA", "reason": {**root, "caused_by": cause}}


async def test_a_400_names_the_shard_level_cause(httpserver: HTTPServer) -> None:
    # The real parsing_exception envelope, grown into the all-shards-failed answer ES gives when
    # each shard fails to build the query: the top level says only "all shards failed", the root
    # cause the outer reason; what was wrong is the innermost caused_by of each failed shard.
    real = json.loads(real_fixture("elasticsearch/error-parsing-exception.json"))
    root = real["error"]["root_cause"][0]
    inner = {"type": "number_format_exception", "reason": 'For input string: "abc"'}
    middle = {"type": "illegal_argument_exception", "reason": "failed to parse value", "caused_by": inner}
    other = {
        "type": "illegal_argument_exception",
        "reason": "field [latency_ms] is not a number in logs-auth-2025.01.07",
    }
    real["error"] = {
        "root_cause": [root],
        "type": "search_phase_execution_exception",
        "reason": "all shards failed",
        "phase": "query",
        "grouped": True,
        "failed_shards": [
            _shard_failure(root, "logs-backend-api-2025.01.07", 0, middle),
            _shard_failure(root, "logs-backend-api-2025.01.08", 0, middle),  # the same cause twice: said once
            _shard_failure(root, "logs-auth-2025.01.07", 0, other),
        ],
    }
    serve_search(httpserver, real, status=400)
    no_pit(httpserver)
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    message = err.value.message
    assert message.startswith(f"{root['type']}: {root['reason']} (line 4, col 17)")
    assert message.count('number_format_exception: For input string: "abc"') == 1
    assert "failed to parse value" not in message  # the innermost cause, not every link of the chain
    assert other["reason"] in message
    assert err.value.error_type == root["type"]


def test_a_shard_cause_already_in_the_message_is_not_repeated_and_long_reasons_are_cut() -> None:
    from zeta_tui.backends.logs.elasticsearch_answers import es_error

    root = {"type": "query_shard_exception", "reason": 'failed to create query: For input string: "abc"'}
    body = {
        "error": {
            "root_cause": [root],
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "failed_shards": [
                _shard_failure(
                    root, "logs-x", 0, {"type": "number_format_exception", "reason": 'For input string: "abc"'}
                )
            ],
        },
        "status": 400,
    }
    assert es_error(body, 400, where="es", index="logs-*").message == f"query_shard_exception: {root['reason']}"
    long = {"type": "x_content_parse_exception", "reason": "y" * 5000}
    body["error"]["failed_shards"] = [_shard_failure(root, "logs-x", 0, long)]
    message = es_error(body, 400, where="es", index="logs-*").message
    shown = message.split("caused by x_content_parse_exception: ")[1]
    assert shown.endswith("…") and 100 <= len(shown) <= 300


async def test_missing_index_names_the_index_setting(httpserver: HTTPServer) -> None:
    raw = real_fixture("elasticsearch/error-index-not-found-404.json")
    serve_search(httpserver, raw, status=404, index="poop")
    httpserver.expect_request("/poop/_pit", method="POST").respond_with_data(
        raw, status=404, content_type="application/json"
    )
    src = source(httpserver, index="poop")
    with pytest.raises(QueryError) as err:
        await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert "no such index [poop]" in err.value.message
    assert "index setting" in err.value.hint and "'poop'" in err.value.hint
    assert src.pit_supported is None  # a missing index says nothing about the PIT API


# --- fixtures written from the docs -------------------------------------------------------------


def _hit(i: int, ts_ms: int, **src) -> dict:
    return {
        "_index": "logs-a",
        "_id": f"id{i}",
        "_score": None,
        "_source": {"@timestamp": ts_ms, "message": f"m{i}", **src},
        "sort": [ts_ms],
    }


async def test_partial_shard_failure_keeps_hits_and_warns(httpserver: HTTPServer) -> None:
    body = {
        "took": 3,
        "timed_out": True,
        "_shards": {
            "total": 5,
            "successful": 3,
            "skipped": 0,
            "failed": 2,
            "failures": [
                {
                    "shard": 0,
                    "index": "logs-b",
                    "node": "n1",
                    "reason": {
                        "type": "query_shard_exception",
                        "reason": 'failed to create query: For input string: "abc"',
                    },
                },
                {
                    "shard": 1,
                    "index": "logs-b",
                    "node": "n1",
                    "reason": {
                        "type": "query_shard_exception",
                        "reason": 'failed to create query: For input string: "abc"',
                    },
                },
            ],
        },
        "hits": {"hits": [_hit(1, T0_MS + 1), _hit(2, T0_MS)]},
    }
    serve_search(httpserver, body)
    no_pit(httpserver)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert [r.message for r in page.records] == ["m2", "m1"]
    assert any("2 of 5 shards failed" in w and 'For input string: "abc"' in w for w in page.warnings)
    assert any("timed out" in w for w in page.warnings)


async def test_empty_result(httpserver: HTTPServer) -> None:
    serve_search(
        httpserver,
        {"took": 0, "timed_out": False, "_shards": {"total": 0, "successful": 0, "failed": 0}, "hits": {"hits": []}},
    )
    no_pit(httpserver)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert page.records == () and page.cursor is None and page.warnings == ()


async def test_unicode_and_a_huge_message(httpserver: HTTPServer) -> None:
    huge = "x" * 1_000_000 + "\u00e9"
    body = {
        "_shards": {"total": 1, "successful": 1, "failed": 0},
        "hits": {
            "hits": [
                _hit(2, T0_MS + 5, message=huge, **{"log": {"level": "error"}}, trace={"id": "abc123"}),
                _hit(1, T0_MS, message="échec de connexion 🔥 ユーザー", level="warning", service={"name": "auth"}),
            ]
        },
    }
    serve_search(httpserver, body)
    no_pit(httpserver)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    first, second = page.records
    assert first.message == "échec de connexion 🔥 ユーザー" and first.level == "WARN" and first.service == "auth"
    assert second.message == huge and second.level == "ERROR" and second.trace_id == "abc123"


async def test_nanosecond_timestamps_are_kept(httpserver: HTTPServer) -> None:
    hit = {
        "_index": "i",
        "_id": "1",
        "_source": {"@timestamp": "2026-01-01T00:00:00.123456789Z", "msg": "x"},
        "sort": [1767225600123456789],
    }
    serve_search(httpserver, {"hits": {"hits": [hit]}})
    no_pit(httpserver)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert page.records[0].timestamp_ns == 1767225600123456789 and page.records[0].message == "x"


def _docs(n: int, *, ties_at: int | None = None) -> list[Doc]:
    docs = []
    for i in range(n):
        ts = T0_MS + (ties_at if ties_at is not None and i >= ties_at else i) * 1000
        docs.append(Doc("logs-a", f"d{i:03d}", ts, {"@timestamp": ts, "message": f"line {i}", "level": "info"}))
    return docs


async def _all_pages(src, *, limit: int, newest_first: bool = True) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    warnings: list[str] = []
    cursor = None
    for _ in range(20):
        page = await src.search(MATCH_ALL, WIDE, limit=limit, newest_first=newest_first, cursor=cursor)
        ts = [r.timestamp_ns for r in page.records]
        assert ts == sorted(ts)  # oldest first within a page
        ids.extend(r.record_id for r in (reversed(page.records) if newest_first else page.records))
        warnings.extend(page.warnings)
        cursor = page.cursor
        if cursor is None:
            return ids, warnings
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("pit", ["none", "es", "opensearch"])
@pytest.mark.parametrize("newest_first", [True, False])
async def test_paging_with_search_after_has_no_gaps_or_duplicates(
    httpserver: HTTPServer, pit: str, newest_first: bool
) -> None:
    # 8 docs, the newest 3 on one millisecond: pages of 3 cut through the tie.
    docs = _docs(8, ties_at=5)
    fake = FakeSearch(docs, pit=pit)
    fake.install(httpserver)
    src = source(httpserver, kind="opensearch" if pit == "opensearch" else "elasticsearch")
    ids, warnings = await _all_pages(src, limit=3, newest_first=newest_first)
    await src.aclose()
    assert sorted(ids) == sorted(f"logs-a/{d.id}" for d in docs) and len(ids) == len(set(ids)) == 8
    times = {f"logs-a/{d.id}": d.ts_ms for d in docs}
    seq = [times[i] for i in ids]
    assert seq == sorted(seq, reverse=newest_first)  # across pages too
    assert warnings == []
    if pit == "es":
        assert fake.requests[0]["path"] == "/_search"
        assert fake.requests[0]["body"]["sort"][1] == {"_shard_doc": "desc" if newest_first else "asc"}
        assert fake.opened and fake.closed == fake.opened[-1:]
    elif pit == "opensearch":
        assert all("pit" in r["body"] for r in fake.requests) and len(fake.opened) == 1 == len(fake.closed)
    else:
        assert src.pit_supported is False and all(r["path"] == "/logs-*/_search" for r in fake.requests)
    assert all(r["body"]["track_total_hits"] is False for r in fake.requests)


async def test_more_ties_than_a_page_are_exact_with_shard_doc(httpserver: HTTPServer) -> None:
    docs = _docs(9, ties_at=1)  # 8 records on one millisecond, pages of 3
    FakeSearch(docs, pit="es").install(httpserver)
    src = source(httpserver)
    ids, warnings = await _all_pages(src, limit=3)
    await src.aclose()
    assert sorted(ids) == sorted(f"logs-a/{d.id}" for d in docs) and len(ids) == 9 and warnings == []


async def test_more_ties_than_a_page_without_tiebreaker(httpserver: HTTPServer) -> None:
    # No tiebreaker: each page re-reads the ties already returned and drops them.
    docs = _docs(9, ties_at=1)
    fake = FakeSearch(docs, pit="none")
    fake.install(httpserver)
    src = source(httpserver)
    ids, warnings = await _all_pages(src, limit=3)
    await src.aclose()
    assert sorted(ids) == sorted(f"logs-a/{d.id}" for d in docs) and len(ids) == 9 and warnings == []
    assert [r["body"]["size"] for r in fake.requests] == [3, 6, 9, 4]  # page 3 ends on d000: one seen there


async def test_request_shape(httpserver: HTTPServer) -> None:
    fake = FakeSearch(_docs(1))
    fake.install(httpserver)
    src = source(httpserver, timestamp_field="@timestamp")
    await src.search({"term": {"level": "ERROR"}}, TimeRange(1767225600.5, 1767229200, "1h"), limit=10)
    await src.aclose()
    body = fake.requests[0]["body"]
    assert body["query"]["bool"]["filter"][0] == {"term": {"level": "ERROR"}}
    rng = body["query"]["bool"]["filter"][1]["range"]["@timestamp"]
    assert rng["gte"] == "2026-01-01T00:00:00.500000000Z" and rng["lte"] == "2026-01-01T01:00:00.000000000Z"
    assert body["sort"][0] == {"@timestamp": {"order": "desc", "unmapped_type": "date"}}
    assert body["size"] == 10 and "search_after" not in body


async def test_accept_header_is_plain_json(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/", method="GET", headers={"Accept": "application/json"}).respond_with_json(
        {
            "name": "n",
            "version": {"distribution": "opensearch", "number": "2.11.0", "build_hash": "abc"},
            "tagline": "The OpenSearch Project",
        }
    )
    src = source(httpserver, kind="opensearch")
    info, latency = await src.check()
    await src.aclose()
    assert (info.version, info.flavour, info.revision) == ("2.11.0", "opensearch", "abc") and latency >= 0


async def test_check_elasticsearch_without_product_header(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/", method="GET").respond_with_json(
        {"version": {"number": "8.15.0", "build_flavor": "default"}}
    )
    src = source(httpserver)
    info, _ = await src.check()
    await src.aclose()
    assert info.version == "8.15.0" and info.flavour == "elasticsearch"


async def test_check_on_something_else(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/", method="GET").respond_with_json({"status": "ok"})
    src = source(httpserver)
    with pytest.raises(BackendUnavailable):
        await src.check()
    await src.aclose()


async def test_server_error_without_es_body(httpserver: HTTPServer) -> None:
    serve_search(
        httpserver, es_error_body("search_phase_execution_exception", "all shards failed", 500) | {}, status=500
    )
    no_pit(httpserver)
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert "all shards failed" in err.value.message


async def test_query_text_goes_through_the_log_query_translator(httpserver: HTTPServer) -> None:
    logquery = pytest.importorskip("zeta_tui.querying.logquery")
    from datetime import datetime

    fake = FakeSearch(_docs(1))
    fake.install(httpserver)
    src = source(httpserver)
    src.clock = lambda: 1767229200.0
    await src.search('level:ERROR AND tenant_id:"tenant_001"', WIDE)
    await src.aclose()
    now = datetime.fromtimestamp(1767229200.0, tz=UTC)
    expected = logquery.to_elasticsearch(
        logquery.parse_log_query('level:ERROR AND tenant_id:"tenant_001"'), now, "@timestamp"
    )
    assert fake.requests[0]["body"]["query"]["bool"]["filter"][0] == expected
    assert "tenant_001" in json.dumps(expected)


async def test_pit_without_shard_doc_retries_on_the_timestamp_alone(httpserver: HTTPServer) -> None:
    # Elasticsearch 7.10/7.11: _pit exists, _shard_doc does not.
    bodies: list[dict] = []

    def handler(request):
        from tests.support.log_fixtures import json_response

        body = json.loads(request.get_data())
        bodies.append(body)
        if any("_shard_doc" in s for s in body["sort"]):
            return json_response(
                es_error_body(
                    "search_phase_execution_exception", "No mapping found for [_shard_doc] in order to sort on", 400
                ),
                400,
            )
        return json_response({"pit_id": "p", "hits": {"hits": [_hit(1, T0_MS)]}})

    httpserver.expect_request("/logs-*/_pit", method="POST").respond_with_json({"id": "p"})
    httpserver.expect_request("/_pit", method="DELETE").respond_with_json({"succeeded": True})
    httpserver.expect_request("/_search", method="POST").respond_with_handler(handler)
    src = source(httpserver)
    page = await src.search(MATCH_ALL, WIDE)
    again = await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert [r.message for r in page.records] == ["m1"] == [r.message for r in again.records]
    assert len(bodies) == 3 and len(bodies[0]["sort"]) == 2 and len(bodies[1]["sort"]) == len(bodies[2]["sort"]) == 1


async def test_proxy_error_page_is_backend_unavailable(httpserver: HTTPServer) -> None:
    serve_search(httpserver, b"<html>502 Bad Gateway</html>", status=502)
    no_pit(httpserver)
    src = source(httpserver)
    with pytest.raises(BackendUnavailable) as err:
        await src.search(MATCH_ALL, WIDE)
    await src.aclose()
    assert "502" in err.value.message


@pytest.mark.parametrize("kind", ["elasticsearch", "opensearch", "loki"])
def test_zeta_check_gets_a_probe_for_each_log_kind(kind: str) -> None:
    from zeta_tui.backends.clients import client_for
    from zeta_tui.backends.logs.loki import LokiLogSource

    probe = client_for("logs", LogsConfig(kind=kind, url="http://127.0.0.1:9"))
    assert isinstance(probe, LokiLogSource if kind == "loki" else ElasticsearchLogSource) and probe.kind == kind


async def test_polling_tail_searches_without_a_pit(httpserver: HTTPServer) -> None:
    import asyncio

    docs = _docs(3)
    fake = FakeSearch(docs, pit="es")
    fake.install(httpserver)
    src = source(httpserver)
    src.poll_seconds = 0.01
    got: list[str] = []

    async def follow() -> None:
        async for page in src.tail(MATCH_ALL, (T0_MS + 1000) * 1_000_000, clock=lambda: T0_MS / 1000 + 60):
            got.extend(r.message for r in page.records)
            if len(got) >= 2:
                return

    await asyncio.wait_for(follow(), 5)
    await src.aclose()
    assert got == ["line 1", "line 2"]
    assert fake.opened == [] and all(r["path"] == "/logs-*/_search" for r in fake.requests)
    assert fake.requests[0]["body"]["sort"][0]["@timestamp"]["order"] == "asc"


async def test_expired_pit_says_to_search_again(httpserver: HTTPServer) -> None:
    body = es_error_body("search_context_missing_exception", "No search context found for id [91]", 404)
    httpserver.expect_request("/_search", method="POST").respond_with_json(body, status=404)
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(MATCH_ALL, WIDE, cursor=EsCursor((T0_MS, 3), "old-pit"))
    await src.aclose()
    assert "No search context found" in err.value.message and "expired" in err.value.hint
