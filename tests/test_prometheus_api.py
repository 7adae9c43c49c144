"""PrometheusClient parsing: real captured API responses (../shared/fixtures/real/prometheus)
served over HTTP, and the metadata endpoints of a real Prometheus that scrapes itself."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest
from pytest_httpserver import HTTPServer

from tests.support.servers import prometheus_version, real_fixture, scraping_prometheus
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig


def _client(url: str) -> PrometheusClient:
    return PrometheusClient(PrometheusConfig(url=url.rstrip("/")))


def _serve(httpserver: HTTPServer, path: str, fixture: str) -> tuple[PrometheusClient, dict]:
    body = real_fixture(f"prometheus/{fixture}")
    httpserver.expect_request(path).respond_with_data(body, content_type="application/json")
    return _client(httpserver.url_for("/")), json.loads(body)


async def test_instant_vector_fixture(httpserver: HTTPServer) -> None:
    client, doc = _serve(httpserver, "/api/v1/query", "query-instant-vector-docs.json")
    result = await client.query("up")
    expected = [(r["metric"], float(r["value"][0]), float(r["value"][1])) for r in doc["data"]["result"]]
    assert [(dict(s.labels), s.t, s.v) for s in result.data] == expected
    assert len(expected) == 2 and result.warnings == ()
    await client.aclose()


async def test_range_matrix_fixture(httpserver: HTTPServer) -> None:
    client, doc = _serve(httpserver, "/api/v1/query_range", "query-range-matrix-docs.json")
    result = await client.query_range("up", 1435781430.781, 1435781460.781, 15)
    expected = [(r["metric"], [(float(t), float(v)) for t, v in r["values"]]) for r in doc["data"]["result"]]
    assert [(dict(s.labels), [(p.t, p.v) for p in s.samples]) for s in result.data] == expected
    assert result.data[1].last == 1.0
    await client.aclose()


async def test_empty_range_matrix_fixture(httpserver: HTTPServer) -> None:
    client, _ = _serve(httpserver, "/api/v1/query_range", "query-range-empty-matrix.json")
    result = await client.query_range("nothing", 0, 60, 15)
    assert result.data == []
    await client.aclose()


async def test_targets_fixture(httpserver: HTTPServer) -> None:
    client, doc = _serve(httpserver, "/api/v1/targets", "targets-docs.json")
    result = await client.targets()
    raw = doc["data"]["activeTargets"]
    assert [(t.job, t.instance, t.health, t.scrape_url, t.last_error) for t in result.data] == [
        (r["labels"]["job"], r["labels"]["instance"], r["health"], r["scrapeUrl"], r["lastError"]) for r in raw
    ]
    await client.aclose()


async def test_alerts_fixture(httpserver: HTTPServer) -> None:
    client, doc = _serve(httpserver, "/api/v1/alerts", "alerts-docs.json")
    result = await client.alerts()
    raw = doc["data"]["alerts"]
    assert [(a.name, a.state, a.value, a.active_at, dict(a.labels)) for a in result.data] == [
        (r["labels"]["alertname"], r["state"], r["value"], r["activeAt"], r["labels"]) for r in raw
    ]
    await client.aclose()


async def test_special_float_values(httpserver: HTTPServer) -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"k": "nan"}, "value": [1, "NaN"]},
                {"metric": {"k": "pinf"}, "value": [1, "+Inf"]},
                {"metric": {"k": "ninf"}, "value": [1, "-Inf"]},
            ],
        },
    }
    httpserver.expect_request("/api/v1/query").respond_with_json(body)
    client = _client(httpserver.url_for("/"))
    values = [s.v for s in (await client.query("x")).data]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]
    await client.aclose()


async def test_a_warning_status_is_read_with_its_data_and_warnings(httpserver: HTTPServer) -> None:
    """Some proxies and compatible stores answer a partial result with "status": "warning"."""
    body = {
        "status": "warning",
        "warnings": ["partial response: store eu-2 unreachable"],
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"job": "payments"}, "value": [1, "3"]},
            ],
        },
    }
    httpserver.expect_request("/api/v1/query").respond_with_json(body)
    httpserver.expect_request("/api/v1/query_range").respond_with_json(
        {
            "status": "warning",
            "data": {"resultType": "matrix", "result": [{"metric": {"job": "payments"}, "values": [[1, "3"]]}]},
        }
    )
    client = _client(httpserver.url_for("/"))
    result = await client.query("up")
    assert [(s.labels, s.v) for s in result.data] == [({"job": "payments"}, 3.0)]
    assert result.warnings == ("partial response: store eu-2 unreachable",)
    ranged = await client.query_range("up", 0, 60, 15)  # no reason given: the status is the warning
    assert ranged.data[0].samples[0].v == 3.0 and "warning" in ranged.warnings[0]
    await client.aclose()


# --- a real Prometheus ------------------------------------------------------------------


async def test_range_query_of_time_on_real_prometheus(prometheus) -> None:
    """vector(time()) evaluates to each step's own timestamp: exact expected values."""
    client = _client(prometheus.url)
    start, end, step = 1_700_000_000.0, 1_700_000_120.0, 30.0
    result = await client.query_range("vector(time())", start, end, step)
    expected = [start + i * step for i in range(int((end - start) / step) + 1)]
    assert [(p.t, p.v) for p in result.data[0].samples] == [(t, t) for t in expected]
    await client.aclose()


async def test_build_info_of_real_prometheus(prometheus) -> None:
    client = _client(prometheus.url)
    info, latency = await client.check()
    assert info.version == prometheus_version()
    assert info.flavour == "prometheus" and 0 < latency < 5
    await client.aclose()


async def _eventually(fetch, ok, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


@pytest.mark.prometheus
async def test_metadata_endpoints_of_a_scraping_prometheus() -> None:
    server = scraping_prometheus()
    client = _client(server.url)
    port = server.url.rsplit(":", 1)[1]
    targets = await _eventually(client.targets, lambda r: r.data and r.data[0].health == "up")
    assert [(t.job, t.instance, t.health) for t in targets.data] == [("prometheus", f"127.0.0.1:{port}", "up")]

    jobs = await _eventually(lambda: client.label_values("job"), lambda r: r.data)
    assert jobs.data == ["prometheus"]
    series = await client.series(['up{job="prometheus"}'])
    assert series.data == [{"__name__": "up", "instance": f"127.0.0.1:{port}", "job": "prometheus"}]

    rules = await _eventually(client.rules, lambda r: r.data and all(x.health == "ok" for x in r.data[0].rules))
    group = rules.data[0]
    assert (group.name, group.interval) == ("zeta-test", 1.0)
    assert [(r.name, r.kind) for r in group.rules] == [("zeta:answer", "recording"), ("ZetaAlwaysFiring", "alerting")]

    alerts = await _eventually(client.alerts, lambda r: r.data)
    assert [(a.name, a.state, a.labels["severity"]) for a in alerts.data] == [("ZetaAlwaysFiring", "firing", "page")]
    assert alerts.data[0].annotations == {"summary": "always firing, for the tests"}
    await client.aclose()
