"""JaegerTraceSource over real HTTP on 127.0.0.1: v3 detection and the v1 fallback, the
request parameters, services and operations, search summaries, trace by id and the errors,
with the captured responses in ../shared/fixtures/real/jaeger and tests/fixtures/traces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.support.servers import real_fixture
from zeta_tui.backends.traces.base import TraceNotFound
from zeta_tui.backends.traces.factory import trace_source_for
from zeta_tui.backends.traces.jaeger import JaegerTraceSource, go_duration
from zeta_tui.config.models import TracesConfig
from zeta_tui.errors import BackendAuthError, BackendUnavailable, QueryError
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceQuery

HERE = Path(__file__).parent / "fixtures" / "traces"
JSON = "application/json"
RANGE = TimeRange(1_767_225_000, 1_767_226_000, "custom")


def source(server: HTTPServer, api: str = "auto", **extra) -> JaegerTraceSource:
    src = trace_source_for(TracesConfig(kind="jaeger", url=server.url_for("/").rstrip("/"), api=api, **extra))
    assert isinstance(src, JaegerTraceSource)
    return src


def no_v3(server: HTTPServer) -> None:
    server.expect_request("/api/v3/services").respond_with_data(
        "404 page not found\n", status=404, content_type="text/plain"
    )


def test_go_duration() -> None:
    assert [go_duration(n) for n in (500_000_000, 1_500_000_000, 2_000_000_000, 2500, 7)] == [
        "500ms",
        "1.5s",
        "2s",
        "2500ns",
        "7ns",
    ]
    assert go_duration(3_000) == "3us"


# --- v1 ---------------------------------------------------------------------------------------------


async def test_v1_fallback_services_and_operations(httpserver: HTTPServer) -> None:
    no_v3(httpserver)
    services = (HERE / "jaeger-v1-services.json").read_bytes()
    httpserver.expect_request("/api/services").respond_with_data(services, content_type=JSON)
    httpserver.expect_request(re.compile(r"/api/services/.+/operations")).respond_with_data(
        (HERE / "jaeger-v1-operations.json").read_bytes(), content_type=JSON
    )
    src = source(httpserver)
    assert await src.services() == sorted(json.loads(services)["data"])
    assert await src.operations("team a/b") == ["GET /checkout", "charge", "enqueue"]
    await src.aclose()
    assert await src.api() == "v1"
    probes = [r for r, _ in httpserver.log if r.path == "/api/v3/services"]
    assert len(probes) == 1  # asked once, remembered
    raw_paths = [r.environ.get("RAW_URI") or r.environ.get("REQUEST_URI") for r, _ in httpserver.log]
    assert "/api/services/team%20a%2Fb/operations" in raw_paths  # the slash quoted: one path segment


async def test_v1_search_parameters_and_summaries(httpserver: HTTPServer) -> None:
    raw = (HERE / "jaeger-v1-messy.json").read_bytes()
    httpserver.expect_request("/api/traces").respond_with_data(raw, content_type=JSON)
    src = source(httpserver, api="v1")
    q = TraceQuery(
        RANGE,
        service="frontend",
        operation="GET /checkout",
        tags={"tenant_id": "t1"},
        min_duration_ns=500_000_000,
        max_duration_ns=1_500_000_000,
        errors_only=True,
        limit=7,
    )
    found = await src.search(q)
    await src.aclose()
    args = httpserver.log[0][0].args
    assert args["service"] == "frontend" and args["operation"] == "GET /checkout"
    assert json.loads(args["tags"]) == {"tenant_id": "t1", "error": "true"}
    assert (args["minDuration"], args["maxDuration"]) == ("500ms", "1.5s")
    assert (args["start"], args["end"], args["limit"]) == ("1767225000000000", "1767226000000000", "7")
    assert len(found.summaries) == 1
    s = found.summaries[0]
    assert s.trace_id == "0a1b2c3d4e5f6071" and s.span_count == 6 and s.error_count == 2
    assert s.services == ("frontend", "payments")
    assert s.start_ns == 1767225599990000000  # the child that starts before its parent
    assert found.warnings == ("storage shard 3 timed out (trace 5b8efff798038103d269b633813fc60c)",)


async def test_v1_trace_by_id_upper_case_goes_out_normalised(httpserver: HTTPServer) -> None:
    raw = real_fixture("jaeger/api-envelope-transform-missing-parent.json")
    httpserver.expect_request("/api/traces/83a9efd15c1c98a977e0711cc93ee28b").respond_with_data(raw, content_type=JSON)
    src = source(httpserver, api="v1")
    t = await src.trace("83A9EFD15C1C98A977E0711CC93EE28B")
    await src.aclose()
    assert len(t.spans) == raw.count(b'"operationName"') == 2 and t.spans[0].service == "telemetrygen"


async def test_v1_not_found(httpserver: HTTPServer) -> None:
    body = (HERE / "jaeger-v1-not-found.json").read_bytes()
    httpserver.expect_request("/api/traces/00000000000000ab").respond_with_data(body, status=404, content_type=JSON)
    httpserver.expect_request("/api/traces/00000000000000cd").respond_with_data(body, status=200, content_type=JSON)
    src = source(httpserver, api="v1")
    for tid in ("ab", "00000000000000cd"):
        with pytest.raises(TraceNotFound) as err:
            await src.trace(tid)
        assert tid.rjust(16, "0") in err.value.message
    await src.aclose()


async def test_v1_bad_request_in_jaegers_words(httpserver: HTTPServer) -> None:
    body = {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 400, "msg": "parameter 'service' is required"}],
    }
    httpserver.expect_request("/api/traces").respond_with_json(body, status=400)
    src = source(httpserver, api="v1")
    with pytest.raises(QueryError) as err:
        await src.search(TraceQuery(RANGE))
    await src.aclose()
    assert "parameter 'service' is required" in err.value.message and not isinstance(err.value, TraceNotFound)


async def test_garbage_is_backend_unavailable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/traces/00000000000000ab").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )
    httpserver.expect_request("/api/services").respond_with_data('{"data": [1, 2', content_type=JSON)
    src = source(httpserver, api="v1")
    with pytest.raises(BackendUnavailable):
        await src.trace("ab")
    with pytest.raises(BackendUnavailable):
        await src.services()
    await src.aclose()


async def test_auth_header_sent_and_401_mapped(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/services", headers={"Authorization": "Bearer s3cret"}).respond_with_data(
        b'{"data":["a"]}', content_type=JSON
    )
    src = source(httpserver, api="v1", bearer_token="s3cret")
    info, seconds = await src.check()
    await src.aclose()
    assert info.flavour == "jaeger" and seconds >= 0
    httpserver.clear()
    httpserver.expect_request("/api/services").respond_with_data("Unauthorized", status=401)
    src = source(httpserver, api="v1")
    with pytest.raises(BackendAuthError):
        await src.check()
    await src.aclose()


# --- v3 ---------------------------------------------------------------------------------------------


async def test_v3_detected_services_operations(httpserver: HTTPServer) -> None:
    services = real_fixture("jaeger/v3-getservices-snapshot.json")
    httpserver.expect_request("/api/v3/services").respond_with_data(services, content_type=JSON)
    httpserver.expect_request("/api/v3/operations", query_string={"service": "foo"}).respond_with_data(
        real_fixture("jaeger/v3-getoperations-snapshot.json"), content_type=JSON
    )
    src = source(httpserver)
    assert await src.api() == "v3"
    assert await src.services() == json.loads(services)["services"]
    assert await src.operations("foo") == ["get_users"]
    await src.aclose()
    assert not any(r.path == "/api/services" for r, _ in httpserver.log)


async def test_v3_search_parameters_and_two_traces(httpserver: HTTPServer) -> None:
    raw = (HERE / "otlp-two-traces-messy.json").read_bytes()
    httpserver.expect_request("/api/v3/traces").respond_with_data(b'{"result":' + raw + b"}", content_type=JSON)
    src = source(httpserver, api="v3")
    q = TraceQuery(
        RANGE,
        service="checkout",
        operation="POST /cart",
        min_duration_ns=500_000_000,
        max_duration_ns=2_000_000_000,
        limit=5,
    )
    found = await src.search(q)
    await src.aclose()
    args = httpserver.log[0][0].args
    assert args["query.service_name"] == "checkout" and args["query.operation_name"] == "POST /cart"
    assert (
        args["query.start_time_min"] == "2025-12-31T23:50:00.000000Z"
        and args["query.start_time_max"] == "2026-01-01T00:06:40.000000Z"
    )
    assert (args["query.duration_min"], args["query.duration_max"], args["query.search_depth"]) == ("500ms", "2s", "5")
    assert "query.attributes" not in args
    # newest first: the second trace starts at ...601 s, the first at ...599.9 s
    assert [s.trace_id for s in found.summaries] == ["0a1b2c3d4e5f6071", "5b8efff798038103d269b633813fc60c"]
    assert [s.span_count for s in found.summaries] == [2, 2]
    assert found.summaries[1].root_name == "POST /cart" and found.summaries[1].error_count == 1


async def test_v3_errors_only_and_attributes(httpserver: HTTPServer) -> None:
    raw = (HERE / "otlp-two-traces-messy.json").read_bytes()
    httpserver.expect_request("/api/v3/traces").respond_with_data(raw, content_type=JSON)
    src = source(httpserver, api="v3")
    found = await src.search(TraceQuery(RANGE, service="checkout", tags={"http.status_code": "503"}, errors_only=True))
    await src.aclose()
    assert json.loads(httpserver.log[0][0].args["query.attributes"]) == {"http.status_code": "503", "error": "true"}
    # a server that ignores query.attributes sent both traces: only the erroring one matches
    assert [s.trace_id for s in found.summaries] == ["5b8efff798038103d269b633813fc60c"]


async def test_v3_no_traces_is_an_empty_search(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/traces").respond_with_data(
        (HERE / "jaeger-v3-no-traces.json").read_bytes(), status=404, content_type=JSON
    )
    src = source(httpserver, api="v3")
    found = await src.search(TraceQuery(RANGE, service="x"))
    await src.aclose()
    assert found.summaries == ()


async def test_v3_trace_by_id_and_not_found(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/traces/0000000000000001").respond_with_data(
        real_fixture("jaeger/v3-gettrace-snapshot.json"), content_type=JSON
    )
    httpserver.expect_request("/api/v3/traces/00000000000000ee").respond_with_data(
        (HERE / "jaeger-v3-no-traces.json").read_bytes(), status=404, content_type=JSON
    )
    src = source(httpserver, api="v3")
    t = await src.trace("00000000000000000000000000000001")
    assert [s.name for s in t.spans] == ["foobar"] and t.spans[0].is_error
    with pytest.raises(TraceNotFound) as err:
        await src.trace("EE")
    await src.aclose()
    assert "00000000000000ee" in err.value.message


async def test_v3_server_error_in_its_words(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/traces").respond_with_data(
        (HERE / "jaeger-v3-error-500.json").read_bytes(), status=500, content_type=JSON
    )
    src = source(httpserver, api="v3")
    with pytest.raises(BackendUnavailable) as err:
        await src.search(TraceQuery(RANGE, service="x"))
    await src.aclose()
    assert "search_phase_execution_exception" in err.value.message and "HTTP 500" in err.value.message


async def test_proxy_plain_text_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/traces/00000000000000ab").respond_with_response(
        Response("upstream connect error", status=503)
    )
    src = source(httpserver, api="v1")
    with pytest.raises(BackendUnavailable) as err:
        await src.trace("ab")
    await src.aclose()
    assert "upstream connect error" in err.value.message
