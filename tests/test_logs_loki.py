"""LokiLogSource search over real HTTP on 127.0.0.1: the captured responses in
../shared/fixtures/real/loki, and fixtures written from the Loki HTTP API docs."""

from __future__ import annotations

import json
import re

import pytest
from pytest_httpserver import HTTPServer

from tests.support.log_fixtures import FakeLoki, seed_line
from tests.support.servers import real_fixture
from zeta_tui.backends.logs.loki import LogQL, LokiLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import BackendUnavailable, QueryError
from zeta_tui.models.timerange import TimeRange

T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z in ns
WIDE = TimeRange(0, 4_102_444_800, "all")
Q = LogQL('{app="api"}')


def source(server: HTTPServer, **extra) -> LokiLogSource:
    return LokiLogSource(LogsConfig(kind="loki", url=server.url_for("/").rstrip("/"), **extra))


# --- the captured real responses ---------------------------------------------------------------


async def test_streams_with_categorized_labels(httpserver: HTTPServer) -> None:
    raw = real_fixture("loki/query-range-streams-categorize-labels.json")
    expected = len(re.findall(rb'"\d{19}"', raw))  # one nanosecond timestamp per entry
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(raw, content_type="application/json")
    src = source(httpserver)
    page = await src.search(Q, WIDE, limit=100)
    await src.aclose()
    assert len(page.records) == expected == 6
    ts = [r.timestamp_ns for r in page.records]
    assert ts == sorted(ts) and ts[-1] == 1645030247027735040
    assert len({r.record_id for r in page.records}) == 6  # the repeated line keeps both copies
    newest = page.records[-1]
    assert newest.message == "log line info 1"
    assert newest.fields["code"] == '",two' and newest.fields["location"] == "moon🌙"
    assert src.last_stats["summary"]["totalLinesProcessed"] == 55
    assert page.cursor is None


async def test_metric_query_is_refused_with_a_reason(httpserver: HTTPServer) -> None:
    raw = real_fixture("loki/query-range-matrix-nan.json")
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(raw, content_type="application/json")
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(LogQL('rate({app="api"}[5m])'), WIDE)
    await src.aclose()
    assert "metric query" in err.value.message and "matrix" in err.value.message


async def test_labels_label_values_and_series(httpserver: HTTPServer) -> None:
    labels = real_fixture("loki/labels-docs-example.json")
    values = real_fixture("loki/label-values-docs-example.json")
    series = real_fixture("loki/series-docs-example.json")
    httpserver.expect_request("/loki/api/v1/labels").respond_with_data(labels, content_type="application/json")
    httpserver.expect_request("/loki/api/v1/label/app/values").respond_with_data(
        values, content_type="application/json"
    )
    httpserver.expect_request(
        "/loki/api/v1/series", query_string={"match[]": '{namespace="production"}'}
    ).respond_with_data(series, content_type="application/json")
    src = source(httpserver)
    assert await src.labels() == json.loads(labels)["data"]
    assert await src.label_values("app") == json.loads(values)["data"]
    got = await src.series()
    await src.aclose()
    assert len(got) == series.count(b'"namespace"') == 3 and got[0]["container_name"] == "loki"


# --- fixtures written from the docs -------------------------------------------------------------


async def test_seed_json_lines_and_plain_lines(httpserver: HTTPServer) -> None:
    lines = [
        (
            {"app": "api", "namespace": "production"},
            T0 + 1,
            seed_line(
                T0 + 1,
                "ERROR",
                "upstream timeout",
                endpoint="/api/v1/recommendations",
                status_code=504,
                latency_ms=1234.5,
                context={"ip_address": "10.0.0.7"},
            ),
        ),
        ({"app": "api", "detected_level": "warn"}, T0 + 2, "plain text line, not json"),
        ({"app": "api"}, T0 + 3, "{not json either"),
    ]
    FakeLoki(lines).install(httpserver)
    src = source(httpserver)
    page = await src.search(Q, WIDE)
    await src.aclose()
    seed, plain, broken = page.records
    assert (seed.level, seed.service, seed.message) == ("ERROR", "backend-api", "upstream timeout")
    assert seed.trace_id and seed.span_id and seed.timestamp_ns == T0 + 1
    assert seed.fields["status_code"] == 504 and seed.fields["context.ip_address"] == "10.0.0.7"
    assert seed.fields["namespace"] == "production" and seed.fields["tenant_id"] == "tenant_001"
    assert (plain.level, plain.message, plain.service) == ("WARN", "plain text line, not json", "api")
    assert broken.message == "{not json either"


async def test_request_parameters(httpserver: HTTPServer) -> None:
    fake = FakeLoki([])
    fake.install(httpserver)
    src = source(httpserver, selector='{namespace="prod"}', headers={"X-Scope-OrgID": "zeta"})
    page = await src.search(None, TimeRange(1767225600, 1767229200, "1h"), limit=42, newest_first=False)
    await src.aclose()
    assert page.records == () and page.cursor is None
    req = fake.requests[0]
    assert req == {
        "query": '{namespace="prod"}',
        "start": str(T0),
        "end": str(T0 + 3600 * 10**9),
        "limit": "42",
        "direction": "forward",
    }


async def test_org_id_header_is_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loki/api/v1/query_range", headers={"X-Scope-OrgID": "tenant-a"}).respond_with_json(
        {"status": "success", "data": {"resultType": "streams", "result": []}}
    )
    src = source(httpserver, headers={"X-Scope-OrgID": "tenant-a"})
    page = await src.search(Q, WIDE)
    await src.aclose()
    assert page.records == ()


@pytest.mark.parametrize(
    "message",
    [
        "the query time range exceeds the limit (query length: 721h0m0s, limit: 720h0m0s)",
        "max entries limit per query exceeded, limit > max_entries_limit (10000 > 5000)",
    ],
)
async def test_server_limits_are_loud_with_lokis_message(httpserver: HTTPServer, message: str) -> None:
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(
        message + "\n", status=400, content_type="text/plain"
    )
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(Q, WIDE)
    await src.aclose()
    assert message in err.value.message and err.value.error_type == "limit" and "limit" in err.value.hint


async def test_parse_error_in_lokis_words(httpserver: HTTPServer) -> None:
    msg = "parse error at line 1, col 9: syntax error: unexpected IDENTIFIER"
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(msg, status=400)
    src = source(httpserver)
    with pytest.raises(QueryError) as err:
        await src.search(LogQL("{app=api}"), WIDE)
    await src.aclose()
    assert err.value.message == msg and err.value.error_type == "bad_request"


async def test_overloaded_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data("too many outstanding requests", status=429)
    src = source(httpserver)
    with pytest.raises((BackendUnavailable, QueryError)) as err:
        await src.search(Q, WIDE)
    await src.aclose()
    assert "too many outstanding requests" in err.value.message


async def test_warnings_are_surfaced(httpserver: HTTPServer) -> None:
    fake = FakeLoki(
        [({"app": "api"}, T0, "x")],
        extra={"warnings": ["query was split into 24 subqueries", "line filter not applied"]},
    )
    fake.install(httpserver)
    src = source(httpserver)
    page = await src.search(Q, WIDE)
    await src.aclose()
    assert page.warnings == ("query was split into 24 subqueries", "line filter not applied")


async def test_unicode_and_a_huge_line(httpserver: HTTPServer) -> None:
    huge = "é" * 600_000  # 1.2 MB of UTF-8
    entries = [
        ({"app": "api"}, T0 + 1, seed_line(T0 + 1, "INFO", "connexion réussie ✓ ユーザー")),
        ({"app": "api"}, T0 + 2, json.dumps({"level": "info", "message": huge})),
    ]
    FakeLoki(entries).install(httpserver)
    src = source(httpserver)
    page = await src.search(Q, WIDE)
    await src.aclose()
    assert page.records[0].message == "connexion réussie ✓ ユーザー"
    assert page.records[1].message == huge


@pytest.mark.parametrize("newest_first", [True, False])
async def test_paging_by_timestamp_without_gaps_or_duplicates(httpserver: HTTPServer, newest_first: bool) -> None:
    # 10 entries over 3 streams; 4 share one nanosecond across streams; pages of 3.
    entries = []
    for i in range(10):
        ns = T0 + (5 if 3 <= i <= 6 else i) * 1000
        entries.append(({"app": "api", "pod": f"p{i % 3}"}, ns, f"line {i}"))
    fake = FakeLoki(entries)
    fake.install(httpserver)
    src = source(httpserver)
    got: list[str] = []
    cursor = None
    for _ in range(20):
        page = await src.search(Q, WIDE, limit=3, newest_first=newest_first, cursor=cursor)
        assert [r.timestamp_ns for r in page.records] == sorted(r.timestamp_ns for r in page.records)
        got.extend(r.message for r in (reversed(page.records) if newest_first else page.records))
        assert page.warnings == ()
        cursor = page.cursor
        if cursor is None:
            break
    await src.aclose()
    assert sorted(got) == sorted(line for _, _, line in entries) and len(got) == len(set(got)) == 10
    times = {line: ns for _, ns, line in entries}
    assert [times[m] for m in got] == sorted((times[m] for m in got), reverse=newest_first)
    if newest_first:
        # the second page ends just past the first page's oldest nanosecond (inclusive boundary)
        assert int(fake.requests[1]["end"]) == T0 + 7000 + 1


async def test_time_window_of_the_query_narrows_the_range(httpserver: HTTPServer) -> None:
    pytest.importorskip("zeta_tui.querying.logquery")
    fake = FakeLoki([])
    fake.install(httpserver)
    src = source(httpserver, selector='{namespace="production"}')
    src.clock = lambda: 1767229200.0  # 01:00
    await src.search("level:ERROR AND timestamp:[now-15m TO now]", TimeRange(1767225600, 1767229200, "1h"))
    await src.aclose()
    req = fake.requests[0]
    assert int(req["start"]) == (1767229200 - 900) * 10**9 and int(req["end"]) == 1767229200 * 10**9
    assert req["query"].startswith('{namespace="production"}')


async def test_check_buildinfo_and_ready_fallback(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/loki/api/v1/status/buildinfo").respond_with_json(
        {"version": "3.2.1", "revision": "abc", "branch": "HEAD"}
    )
    src = source(httpserver)
    info, _ = await src.check()
    assert (info.version, info.revision, info.flavour) == ("3.2.1", "abc", "loki")
    httpserver.expect_request("/loki/api/v1/status/buildinfo").respond_with_data("404 page not found", status=404)
    httpserver.expect_request("/ready").respond_with_data("ready")
    info, _ = await src.check()
    await src.aclose()
    assert info.version == "unknown" and info.flavour == "loki"


async def test_structured_metadata_and_parsed_labels_become_fields(httpserver: HTTPServer) -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "streams",
            "encodingFlags": ["categorize-labels"],
            "result": [
                {
                    "stream": {"app": "api"},
                    "values": [
                        [
                            str(T0),
                            "GET /health 200",
                            {"structuredMetadata": {"trace_id": "t-1", "pod": "api-0"}, "parsed": {"status": "200"}},
                        ]
                    ],
                },
            ],
        },
    }
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_json(body)
    src = source(httpserver)
    page = await src.search(Q, WIDE)
    await src.aclose()
    (rec,) = page.records
    assert rec.message == "GET /health 200" and rec.service == "api" and rec.trace_id == "t-1"
    assert rec.fields["pod"] == "api-0" and rec.fields["status"] == "200" and rec.fields["trace_id"] == "t-1"


async def test_a_field_named_like_a_stream_label_is_found_and_shown(httpserver: HTTPServer) -> None:
    """Streams labelled level=info whose JSON lines say "level":"ERROR": Loki's | json calls the
    line's value level_extracted. The source learns the stream labels from /series, filters on
    the line's value, and the record shows the line's level, not the stream's."""
    series = {"status": "success", "data": [{"app": "api", "level": "info"}]}
    httpserver.expect_request("/loki/api/v1/series").respond_with_json(series)
    line = seed_line(T0, "ERROR", "upstream timeout")
    body = {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [
                {
                    "stream": {
                        "app": "api",
                        "level": "info",
                        "level_extracted": "ERROR",
                        "message": "upstream timeout",
                    },
                    "values": [[str(T0), line]],
                },
                {
                    "stream": {"app": "api", "level": "info", "level_extracted": "warn"},
                    "values": [[str(T0 + 1), "level=warn msg=slow"]],
                },
            ],
        },
    }
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_json(body)
    src = source(httpserver)
    page = await src.search("level:ERROR", WIDE)
    await src.aclose()
    sent = [dict(req.args) for req, _ in httpserver.log if req.path.endswith("/query_range")]
    assert 'level_extracted=~"(?i)ERROR" or (level_extracted="" and level=~"(?i)ERROR")' in sent[0]["query"]
    assert [(r.level, r.fields.get("level_extracted")) for r in page.records] == [("ERROR", None), ("WARN", None)]
    assert src.stream_labels == {"app", "level"}


async def test_stream_labels_unknown_when_series_fails(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loki/api/v1/series").respond_with_data("forbidden", status=403)
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_json(
        {"status": "success", "data": {"resultType": "streams", "result": []}}
    )
    src = source(httpserver)
    page = await src.search("level:ERROR", WIDE)
    await src.aclose()
    sent = [dict(req.args) for req, _ in httpserver.log if req.path.endswith("/query_range")]
    assert page.records == () and sent[0]["query"].endswith('| json | level=~"(?i)ERROR"')
