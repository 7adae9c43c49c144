"""Every backend reads a large answer (decoded in pieces, built in a thread) as it reads a small
one (decoded whole, on the event loop): the same models from the same bytes.

Each answer is read twice by the same client over real HTTP: once with the thresholds raised so
that nothing is large ("whole"), once with them lowered so that every container of more than
64 bytes is split and decoded piece by piece in a decode thread ("pieces"). The answers are the
real captured ones in ../shared/fixtures/real, and for each kind one of several MB made here
with other names than the demo's, read with the default thresholds.
"""

from __future__ import annotations

import json

import orjson
from pytest_httpserver import HTTPServer

import zeta_tui.backends.http as http
import zeta_tui.backends.json_pieces as pieces
import zeta_tui.backends.traces.jaeger as jaeger
import zeta_tui.backends.traces.tempo as tempo
from tests.support.servers import real_fixture
from zeta_tui.backends.alertmanager import AlertmanagerClient
from zeta_tui.backends.logs.elasticsearch import ElasticsearchLogSource
from zeta_tui.backends.logs.loki import LogQL, LokiLogSource
from zeta_tui.backends.logs.loki_answers import read_frame
from zeta_tui.backends.traces.jaeger import JaegerTraceSource
from zeta_tui.backends.traces.tempo import TempoTraceSource
from zeta_tui.config.models import AlertmanagerConfig, LogsConfig, TracesConfig
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceQuery

JSON = "application/json"
WIDE = TimeRange(0, 4_000_000_000)
MIB = 1024 * 1024


def _pieces(monkeypatch) -> None:
    """Everything is large: decoded in a thread, split down to pieces of 64 bytes, traces by the
    pieces path."""
    monkeypatch.setattr(http, "THREAD_BYTES", 0)
    monkeypatch.setattr(pieces, "SMALL_BYTES", 0)
    monkeypatch.setattr(pieces, "PIECE_BYTES", 64)
    monkeypatch.setattr(pieces, "SCAN_REST_SECONDS", 0)
    monkeypatch.setattr(jaeger, "FAST_PATH_BYTES", -1)
    monkeypatch.setattr(tempo, "FAST_PATH_BYTES", -1)


async def _both(monkeypatch, read):
    """``await read()`` whole, then in pieces."""
    monkeypatch.setattr(http, "THREAD_BYTES", 1 << 40)
    monkeypatch.setattr(pieces, "SMALL_BYTES", 1 << 40)
    monkeypatch.setattr(jaeger, "FAST_PATH_BYTES", 1 << 40)
    monkeypatch.setattr(tempo, "FAST_PATH_BYTES", 1 << 40)
    small = await read()
    _pieces(monkeypatch)
    large = await read()
    return small, large


def _url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


# --- Alertmanager -------------------------------------------------------------------------------


async def test_alertmanager_groups_and_silences_read_alike(httpserver: HTTPServer, monkeypatch) -> None:
    httpserver.expect_request("/api/v2/alerts/groups").respond_with_data(
        real_fixture("alertmanager/v2-alerts-groups-am0.31.json"), content_type=JSON
    )
    httpserver.expect_request("/api/v2/silences").respond_with_data(
        real_fixture("alertmanager/v2-silences-am0.31.json"), content_type=JSON
    )
    client = AlertmanagerClient(AlertmanagerConfig(url=_url(httpserver)))

    async def read():
        return await client.groups(), await client.silences()

    small, large = await _both(monkeypatch, read)
    await client.aclose()
    assert small[0] and small[1] and large == small


def _alerts(n: int) -> bytes:
    return orjson.dumps(
        [
            {
                "labels": {
                    "alertname": f"KafkaConsumerLag{i % 13}",
                    "severity": ("page", "ticket")[i % 2],
                    "topic": f"orders.v{i % 5}",
                },
                "annotations": {"description": f"lag {i} messages"},
                "startsAt": "2025-03-01T10:00:00.5Z",
                "endsAt": "2025-03-01T11:00:00Z",
                "updatedAt": "2025-03-01T10:00:30Z",
                "fingerprint": f"{i:016x}",
                "receivers": [{"name": "data-platform"}],
                "status": {
                    "state": ("active", "suppressed")[i % 2],
                    "silencedBy": [f"s{i}"] if i % 2 else [],
                    "inhibitedBy": [],
                    "mutedBy": [],
                },
            }
            for i in range(n)
        ]
    )


async def test_a_large_alert_list_reads_as_the_small_path_does(httpserver: HTTPServer) -> None:
    body = _alerts(12_000)
    assert len(body) > 3 * MIB
    httpserver.expect_request("/api/v2/alerts").respond_with_data(body, content_type=JSON)
    client = AlertmanagerClient(AlertmanagerConfig(url=_url(httpserver)))
    large = await client.alerts()  # the default thresholds: decoded in pieces, in a thread
    await client.aclose()
    from zeta_tui.backends.alertmanager import alerts_from_answer

    assert large == alerts_from_answer(json.loads(body))  # the stdlib's decoder, independent of both
    assert large[1].silenced_by == ("s1",) and large[-1].labels["topic"] == "orders.v4"


# --- Elasticsearch / OpenSearch ------------------------------------------------------------------


def _es(server: HTTPServer, answer: bytes) -> ElasticsearchLogSource:
    server.expect_request("/logs-*/_pit", method="POST").respond_with_json({"error": "no pit here"}, status=400)
    server.expect_request("/logs-*/_search", method="POST").respond_with_data(answer, content_type=JSON)
    return ElasticsearchLogSource(
        LogsConfig(kind="elasticsearch", url=_url(server), index="logs-*", timestamp_field="testtime")
    )


async def test_elasticsearch_real_answer_reads_alike(httpserver: HTTPServer, monkeypatch) -> None:
    one = json.loads(real_fixture("elasticsearch/msearch-logs-sort-highlight.json"))["responses"][0]
    src = _es(httpserver, orjson.dumps(one))

    async def read():
        return await src.search(None, WIDE, limit=100)

    small, large = await _both(monkeypatch, read)
    await src.aclose()
    assert len(small.records) == 5 and large == small


async def test_a_large_elasticsearch_page_reads_as_the_small_path_does(httpserver: HTTPServer) -> None:
    hits = [
        {
            "_index": "app-logs-000017",
            "_id": f"doc{i}",
            "sort": [1_740_823_200_000 - i],
            "_source": {
                "testtime": 1_740_823_200_000 - i,
                "lvl": ("warn", "error")[i % 2],
                "msg": f"payment {i} retried",
                "k8s": {"pod": f"billing-{i % 9}"},
            },
        }
        for i in range(9_000)
    ]
    body = orjson.dumps({"hits": {"hits": hits}, "_shards": {"total": 3, "failed": 0}})
    assert len(body) > 1 * MIB
    src = _es(httpserver, body)
    large = await src.search(None, WIDE, limit=9_000)
    await src.aclose()
    from zeta_tui.backends.logs.elasticsearch_answers import records_from_hits

    expected = list(reversed(records_from_hits(json.loads(body)["hits"]["hits"], "testtime")))
    assert list(large.records) == expected and large.cursor is not None


# --- Loki ------------------------------------------------------------------------------------------


async def test_loki_real_answer_and_tail_frame_read_alike(httpserver: HTTPServer, monkeypatch) -> None:
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(
        real_fixture("loki/query-range-streams-categorize-labels.json"), content_type=JSON
    )
    src = LokiLogSource(LogsConfig(kind="loki", url=_url(httpserver)))
    frame = real_fixture("loki/tail-ws-frame-compact.json").decode()

    async def read():
        return await src.search(LogQL('{app="x"}'), WIDE, limit=100), await read_frame(frame)

    small, large = await _both(monkeypatch, read)
    await src.aclose()
    assert small[0].records and small[1][0] and large == small


async def test_a_large_loki_answer_and_frame_read_as_the_small_path_does(httpserver: HTTPServer) -> None:
    streams = [
        {
            "stream": {"cluster": "eu-west", "container": f"ingest-{s}"},
            "values": [
                [str(1_740_823_200_000_000_000 + s * 1000 + i), f'{{"msg": "batch {i} flushed", "shard": {s}}}']
                for i in range(1_600)
            ],
        }
        for s in range(12)
    ]
    body = orjson.dumps({"status": "success", "data": {"resultType": "streams", "result": streams}})
    assert len(body) > 1 * MIB
    httpserver.expect_request("/loki/api/v1/query_range").respond_with_data(body, content_type=JSON)
    src = LokiLogSource(LogsConfig(kind="loki", url=_url(httpserver)))
    large = await src.search(LogQL('{cluster="eu-west"}'), WIDE, limit=5_000)
    await src.aclose()
    from zeta_tui.backends.logs.loki_answers import records_from_streams, tail_frame

    everything = sorted(
        records_from_streams(json.loads(body)["data"]["result"]),
        key=lambda r: (r.timestamp_ns, r.record_id),
        reverse=True,
    )
    assert list(large.records) == list(reversed(everything[:5_000]))
    text = json.dumps({"streams": streams, "dropped_entries": [{"labels": {}, "timestamp": "1"}]})
    records, dropped = await read_frame(text)
    assert (records, dropped) == (sorted(tail_frame(json.loads(text))[0], key=lambda r: r.timestamp_ns), 1)


# --- Jaeger and Tempo ----------------------------------------------------------------------------


async def test_jaeger_real_trace_and_search_read_alike(httpserver: HTTPServer, monkeypatch) -> None:
    raw = real_fixture("jaeger/ui-trace-genai-57span-generated.json")
    doc = json.loads(raw)
    tid = (doc.get("data") or [doc])[0]["traceID"]
    httpserver.expect_request(f"/api/traces/{tid}").respond_with_data(raw, content_type=JSON)
    httpserver.expect_request("/api/traces").respond_with_data(raw, content_type=JSON)
    src = JaegerTraceSource(TracesConfig(kind="jaeger", url=_url(httpserver), api="v1"))

    async def read():
        return await src.trace(tid), await src.search(TraceQuery(service="x", time_range=WIDE))

    small, large = await _both(monkeypatch, read)
    await src.aclose()
    assert len(small[0].spans) == 57 and small[1].summaries and large == small


async def test_jaeger_v3_real_trace_reads_alike(httpserver: HTTPServer, monkeypatch) -> None:
    raw = real_fixture("jaeger/v3-otlp-hotrod-40span-trace.json")
    spans = orjson.loads(raw)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    from zeta_tui.models.traces import normalise_id

    tid = normalise_id(spans[0]["traceId"])
    httpserver.expect_request(f"/api/v3/traces/{tid}").respond_with_data(raw, content_type=JSON)
    src = JaegerTraceSource(TracesConfig(kind="jaeger", url=_url(httpserver), api="v3"))
    small, large = await _both(monkeypatch, lambda: src.trace(tid))
    await src.aclose()
    assert len(small.spans) == 40 and large == small


async def test_tempo_real_traces_read_alike(httpserver: HTTPServer, monkeypatch) -> None:
    for name in ("otlp-trace-failed-requests-base64ids.json", "v1-trace-by-id-istio-bookinfo.json"):
        httpserver.clear()
        raw = real_fixture(f"tempo/{name}")
        src = TempoTraceSource(TracesConfig(kind="tempo", url=_url(httpserver)))
        whole = await _both_traces(httpserver, monkeypatch, src, raw)
        await src.aclose()
        assert whole[0].spans and whole[1] == whole[0], name


async def _both_traces(server: HTTPServer, monkeypatch, src: TempoTraceSource, raw: bytes):
    from zeta_tui.backends.traces.otlp_json import parse_otlp

    tid = parse_otlp(raw)[0].trace_id
    server.expect_request(f"/api/v2/traces/{tid}").respond_with_data(raw, content_type=JSON)
    return await _both(monkeypatch, lambda: src.trace(tid))


async def test_a_large_trace_takes_the_pieces_path_and_reads_as_the_fast_path_does(
    httpserver: HTTPServer, monkeypatch
) -> None:
    """Over FAST_PATH_BYTES a trace is decoded in pieces to dicts; under it, by msgspec: the same
    Trace either way (Jaeger v1, and Tempo's OTLP)."""
    tid = "00c0ffee00c0ffee00c0ffee00c0ffee"
    spans = [
        {
            "traceID": tid,
            "spanID": f"{i + 1:016x}",
            "operationName": f"SELECT ledger_{i % 7}",
            "references": []
            if i == 0
            else [{"refType": "CHILD_OF", "traceID": tid, "spanID": f"{(i - 1) // 3 + 1:016x}"}],
            "startTime": 1_740_823_200_000_000 + i,
            "duration": 100 + i % 40,
            "processID": "p1",
            "tags": [
                {"key": "db.system", "type": "string", "value": "postgresql"},
                {"key": "rows", "type": "int64", "value": i},
            ],
        }
        for i in range(6_000)
    ]
    raw = orjson.dumps(
        {"data": [{"traceID": tid, "spans": spans, "processes": {"p1": {"serviceName": "ledger-writer", "tags": []}}}]}
    )
    assert len(raw) > 1 * MIB
    httpserver.expect_request(f"/api/traces/{tid}").respond_with_data(raw, content_type=JSON)
    src = JaegerTraceSource(TracesConfig(kind="jaeger", url=_url(httpserver), api="v1"))
    fast = await src.trace(tid)  # 1.5 MB: under FAST_PATH_BYTES
    monkeypatch.setattr(jaeger, "FAST_PATH_BYTES", MIB)
    found = []
    monkeypatch.setattr(jaeger, "parse_jaeger_fast", lambda body: found.append(len(body)))  # must not be asked
    in_pieces = await src.trace(tid)
    await src.aclose()
    assert not found and len(fast.spans) == 6_000 and in_pieces == fast


def test_the_alerts_screen_folds_every_alert_of_a_name() -> None:
    from zeta_tui.backends.alert_overview import AlertsFetched
    from zeta_tui.backends.alertmanager import alerts_from_answer
    from zeta_tui.screens.alerts import MAX_ROWS, alert_list

    alerts = alerts_from_answer(json.loads(_alerts(3 * MAX_ROWS)))
    shown = alert_list(AlertsFetched(list(alerts), []))
    # No alert names a service: one fold per name, holding every alert of it.
    names: dict[str, list] = {}
    for a in alerts:
        names.setdefault(a.labels["alertname"], []).append(a)
    assert {f.name: f.count for f in shown.folds} == {n: len(v) for n, v in names.items()}
    assert all({r.fingerprint for r in f.members} == {a.fingerprint for a in names[f.name]} for f in shown.folds)
    # Unknown severities ("page", "ticket") and one start for all: by name.
    assert [f.name for f in shown.folds] == sorted(names) and shown.total == 3 * MAX_ROWS
    assert shown.firing == sum(1 for a in alerts if not a.silenced_by)
