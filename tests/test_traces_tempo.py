"""TempoTraceSource over real HTTP on 127.0.0.1: trace by id (v2, v1 fallback), TraceQL search
and its summaries, tag values for services/operations, errors and check, with the captured
responses in ../shared/fixtures/real/tempo and tests/fixtures/traces."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.servers import real_fixture
from zeta_tui.backends.traces.base import TraceNotFound
from zeta_tui.backends.traces.factory import trace_source_for
from zeta_tui.backends.traces.tempo import TempoTraceSource, traceql
from zeta_tui.config.models import TracesConfig
from zeta_tui.errors import BackendUnavailable, QueryError
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceQuery

HERE = Path(__file__).parent / "fixtures" / "traces"
JSON = "application/json"
RANGE = TimeRange(1_701_778_000.5, 1_701_780_000.25, "custom")


def source(server: HTTPServer, **extra) -> TempoTraceSource:
    src = trace_source_for(TracesConfig(kind="tempo", url=server.url_for("/").rstrip("/"), **extra))
    assert isinstance(src, TempoTraceSource)
    return src


def test_traceql_quotes_and_escapes() -> None:
    q = TraceQuery(
        RANGE,
        service='we"ird\\svc',
        operation="GET /x",
        tags={"tenant_id": "t1", "odd key": 'a"b'},
        min_duration_ns=500_000_000,
        max_duration_ns=1_500_000_000,
        errors_only=True,
    )
    assert traceql(q) == (
        '{ resource.service.name = "we\\"ird\\\\svc" && name = "GET /x" && duration >= 500ms && duration <= 1.5s'
        ' && status = error && .tenant_id = "t1" && ."odd key" = "a\\"b" }'
    )
    assert traceql(TraceQuery(RANGE)) == "{ }"
    assert traceql(TraceQuery(RANGE, tags={"x": "line\nbreak"})) == '{ .x = "line\\nbreak" }'


async def test_trace_v2(httpserver: HTTPServer) -> None:
    raw = real_fixture("tempo/v2-trace-by-id-docs-curl.json")
    tid = base64.b64decode("W47/95gDgQPSabYzgT/HAA==").hex()
    httpserver.expect_request(f"/api/v2/traces/{tid}").respond_with_data(raw, content_type=JSON)
    src = source(httpserver, headers={"X-Scope-OrgID": "tenant-a"})
    t = await src.trace(tid.upper())
    await src.aclose()
    assert t.trace_id == tid and [s.name for s in t.spans] == ["I am a span!"]
    assert httpserver.log[0][0].headers["X-Scope-OrgID"] == "tenant-a"


async def test_trace_v1_fallback_on_a_tempo_without_v2(httpserver: HTTPServer) -> None:
    raw = real_fixture("tempo/v1-trace-by-id-istio-bookinfo.json")
    tid = base64.b64decode("O6VWCcPN5JZJzXfR+dzZNg==").hex()
    httpserver.expect_request(f"/api/v2/traces/{tid}").respond_with_data(
        "404 page not found\n", status=404, content_type="text/plain"
    )
    httpserver.expect_request(f"/api/traces/{tid}").respond_with_data(raw, content_type=JSON)
    src = source(httpserver)
    t = await src.trace(tid)
    t2 = await src.trace(tid)
    await src.aclose()
    assert len(t.spans) == len(t2.spans) == raw.count(b'"spanId"') == 8
    assert [r.path for r, _ in httpserver.log] == [
        f"/api/v2/traces/{tid}",
        f"/api/traces/{tid}",
        f"/api/traces/{tid}",
    ]  # v2 asked once


async def test_trace_not_found_and_partial(httpserver: HTTPServer) -> None:
    tid = "00000000000000000000000000000abc"
    httpserver.expect_request("/api/v2/traces/0000000000000abc").respond_with_data("", status=404)
    httpserver.expect_request("/api/traces/0000000000000abc").respond_with_data("", status=404)
    partial = (HERE / "tempo-v2-partial.json").read_bytes()
    pid = base64.b64decode("Ai/uxCdB8y/cFwl4fkQhQg==").hex()
    httpserver.expect_request(f"/api/v2/traces/{pid}").respond_with_data(partial, content_type=JSON)
    src = source(httpserver)
    with pytest.raises(TraceNotFound) as err:
        await src.trace(tid)
    assert "0000000000000abc" in err.value.message
    t = await src.trace(pid)
    await src.aclose()
    assert any("exceeds max size" in w for w in t.warnings)


async def test_search_parameters_and_summaries(httpserver: HTTPServer) -> None:
    raw = real_fixture("tempo/search-traceql-istio-bookinfo.json")
    httpserver.expect_request("/api/search").respond_with_data(raw, content_type=JSON)
    src = source(httpserver)
    found = await src.search(TraceQuery(RANGE, service="productpage.bookinfo", errors_only=True, limit=10))
    await src.aclose()
    args = httpserver.log[0][0].args
    assert args["q"] == '{ resource.service.name = "productpage.bookinfo" && status = error }'
    assert (args["start"], args["end"], args["limit"]) == ("1701778000", "1701780001", "10")
    data = json.loads(raw)["traces"]
    assert len(found.summaries) == len(data) == 1
    s = found.summaries[0]
    assert s.trace_id == "100cb753c787ed5657c8d88dafc176ed" and s.root_service == "istio-ingressgateway.istio-system"
    assert s.root_name == "productpage.bookinfo.svc.cluster.local:9080/productpage"
    assert s.start_ns == 1701778055570888000 and s.duration_ns == 9_000_000 and s.span_count == 0  # Tempo did not say


async def test_search_service_stats_and_missing_root(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/search").respond_with_data(
        (HERE / "tempo-search-service-stats.json").read_bytes(), content_type=JSON
    )
    src = source(httpserver)
    found = await src.search(TraceQuery(RANGE))
    await src.aclose()
    newest, older = found.summaries
    assert newest.trace_id == "d6e9329d67b6146a" and newest.root_service == "" and newest.duration_ns == 0
    assert older.span_count == 8 and older.error_count == 2 and older.services == ("shop-backend", "postgres")


async def test_services_and_operations_v2_then_v1(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v2/search/tag/resource.service.name/values").respond_with_json(
        {"tagValues": [{"type": "string", "value": "shop-backend"}, {"type": "string", "value": "auth-service"}]}
    )
    httpserver.expect_request(
        "/api/v2/search/tag/name/values", query_string={"q": '{ resource.service.name = "shop-backend" }'}
    ).respond_with_json(
        {"tagValues": [{"type": "string", "value": "update-billing"}, {"type": "string", "value": "GET /"}]}
    )
    src = source(httpserver)
    assert await src.services() == ["auth-service", "shop-backend"]
    assert await src.operations("shop-backend") == ["GET /", "update-billing"]
    await src.aclose()
    httpserver.clear()
    httpserver.expect_request("/api/v2/search/tag/resource.service.name/values").respond_with_data(
        "404 page not found", status=404
    )
    httpserver.expect_request("/api/search/tag/service.name/values").respond_with_json({"tagValues": ["b", "a"]})
    src = source(httpserver)
    assert await src.services() == ["a", "b"]
    await src.aclose()


async def test_errors_in_tempos_words(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/search").respond_with_data(
        "invalid TraceQL query: parse error at line 1, col 3: syntax error: unexpected IDENTIFIER",
        status=400,
        content_type="text/plain",
    )
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(TraceQuery(RANGE, service="x"))
    assert err.value.message.startswith("invalid TraceQL query: parse error at line 1, col 3")
    httpserver.clear()
    httpserver.expect_request("/api/search").respond_with_data("rpc error: code = ResourceExhausted", status=500)
    with pytest.raises(BackendUnavailable) as err:
        await src.search(TraceQuery(RANGE))
    assert "ResourceExhausted" in err.value.message
    httpserver.clear()
    httpserver.expect_request("/api/search").respond_with_data('{"traces": [', content_type=JSON)
    with pytest.raises(BackendUnavailable):
        await src.search(TraceQuery(RANGE))
    await src.aclose()


async def test_check_buildinfo_then_ready(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/status/buildinfo", headers={"Authorization": "Bearer tok"}).respond_with_json(
        {"version": "2.6.1", "revision": "abc123", "branch": "HEAD"}
    )
    src = source(httpserver, bearer_token="tok")
    info, seconds = await src.check()
    await src.aclose()
    assert (info.version, info.revision, info.flavour) == ("2.6.1", "abc123", "tempo") and seconds >= 0
    httpserver.clear()
    httpserver.expect_request("/api/status/buildinfo").respond_with_data("404 page not found", status=404)
    httpserver.expect_request("/ready").respond_with_data("ready")
    src = source(httpserver)
    info, _ = await src.check()
    assert info.version == "unknown"
    httpserver.clear()
    httpserver.expect_request("/api/status/buildinfo").respond_with_data("404 page not found", status=404)
    httpserver.expect_request("/ready").respond_with_data(
        "Ingester not ready: waiting for 15s after being ready", status=503
    )
    with pytest.raises(BackendUnavailable) as err:
        await src.check()
    await src.aclose()
    assert "waiting for 15s" in err.value.message
