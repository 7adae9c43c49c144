"""PrometheusClient against a real VictoriaMetrics: the same API, a few differences (no buildinfo)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.servers import victoria_metrics
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig
from zeta_tui.errors import QueryError

T0 = 1_700_000_000  # unix seconds; every sample sits on a minute boundary from here
SAMPLES = {
    ('zeta_requests_total{job="backend-api",instance="a"}'): [10, 20, 35, 50, 70],
    ('zeta_requests_total{job="auth",instance="b"}'): [1, 2, 3, 4, 5],
}


@pytest.fixture(scope="module")
def vm_url() -> str:
    server = victoria_metrics()
    lines = [
        f"{series} {value} {(T0 + 60 * i) * 1000}"
        for series, values in SAMPLES.items()
        for i, value in enumerate(values)
    ]
    r = httpx.post(f"{server.url}/api/v1/import/prometheus", content="\n".join(lines) + "\n", timeout=10)
    assert r.status_code == 204, r.text
    # Make the imported rows searchable now rather than after the next background flush.
    httpx.get(f"{server.url}/internal/force_flush", timeout=10).raise_for_status()
    return server.url


@pytest.fixture
async def client(vm_url):
    c = PrometheusClient(PrometheusConfig(url=vm_url))
    yield c
    await c.aclose()


async def test_instant_query(client) -> None:
    result = await client.query("sum by (job) (zeta_requests_total)", at=T0 + 120)
    got = {s.labels["job"]: s.v for s in result.data}
    expected = {
        "backend-api": SAMPLES['zeta_requests_total{job="backend-api",instance="a"}'][2],
        "auth": SAMPLES['zeta_requests_total{job="auth",instance="b"}'][2],
    }
    assert got == expected


async def test_range_query(client) -> None:
    result = await client.query_range('zeta_requests_total{job="backend-api"}', T0, T0 + 240, 60)
    assert len(result.data) == 1
    values = SAMPLES['zeta_requests_total{job="backend-api",instance="a"}']
    assert [(p.t, p.v) for p in result.data[0].samples] == [
        (float(T0 + 60 * i), float(v)) for i, v in enumerate(values)
    ]


async def test_label_values_and_series(client) -> None:
    jobs = await client.label_values("job", match=["zeta_requests_total"], start=T0 - 60, end=T0 + 300)
    assert jobs.data == ["auth", "backend-api"]
    series = await client.series(['zeta_requests_total{job="auth"}'], start=T0 - 60, end=T0 + 300)
    assert series.data == [{"__name__": "zeta_requests_total", "job": "auth", "instance": "b"}]


async def test_check_without_buildinfo_falls_back(client) -> None:
    info, latency = await client.check()
    assert info.version == "unknown" and info.flavour == "prometheus-compatible"
    assert 0 < latency < 5


async def test_bad_query_carries_victoriametrics_message(client, vm_url) -> None:
    expr = "sum(rate(zeta_requests_total[5m])"
    raw = httpx.get(f"{vm_url}/api/v1/query", params={"query": expr}, timeout=10).json()["error"]
    with pytest.raises(QueryError) as info:
        await client.query(expr, at=T0)
    # VictoriaMetrics puts the evaluation time in its message; the parse error itself must match.
    assert raw.split("): ", 1)[1] in info.value.message
    assert "fix the expression" in info.value.hint
