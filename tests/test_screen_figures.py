"""What the two screens show at T0 equals an independent computation from the world's raw samples.

The screens' own fetches (catalog queries -> rows) run against the real Prometheus loaded with
the world; expected figures come from tests/support/world.py's reference PromQL maths.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.support.world import close, extrapolated_rate, grid, histogram_quantile, in_range
from zeta_tui.backends.api_performance import fetch_api_performance
from zeta_tui.backends.discovery import discover
from zeta_tui.backends.service_health import fetch_service_health
from zeta_tui.config.models import ContextConfig
from zeta_tui.models.health import ServiceStatus
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying.promql_catalog import PromCatalog
from zeta_tui.resources import shipped_dir

pytestmark = pytest.mark.prometheus

SERVICES = ["backend-api", "ml-engine", "auth", "redis", "postgres"]
HOUR = 3600.0


def _samples(pw, series, range_s: float) -> list[tuple[float, float]]:
    times = grid(max(pw.start, pw.t0 - range_s - pw.step), pw.t0, pw.step)
    return list(zip(times, pw.world.values(series, times)))


def _rate(pw, series, range_s: float, *, as_rate: bool = True) -> float | None:
    return extrapolated_rate(_samples(pw, series, range_s), pw.t0, range_s, as_rate=as_rate)


def _latest(pw, series) -> float:
    return in_range(_samples(pw, series, 300), pw.t0, 300)[-1][1]  # instant lookback of 5m


@pytest.fixture
def catalog() -> PromCatalog:
    return PromCatalog.load(shipped_dir("queries") / "promql")


@pytest.fixture
def last_hour(prometheus_world) -> TimeRange:
    # Not aligned: the last point of each range query is then exactly T0.
    return TimeRange(prometheus_world.t0 - HOUR, prometheus_world.t0, "1h")


async def test_endpoint_table_matches_reference(prometheus_world, catalog, last_hour) -> None:
    pw = prometheus_world
    client = pw.client()
    try:
        inventory = await discover(client, ContextConfig(), "world", at=pw.t0)
        result = await fetch_api_performance(
            client, catalog, inventory, services=SERVICES, endpoints_regex=".*", time_range=last_hour
        )
    finally:
        await client.aclose()
    rows = {(e.service, e.endpoint): e for e in result.data.endpoints}

    total: dict[tuple, float] = defaultdict(float)
    errors: dict[tuple, float] = defaultdict(float)
    for s in pw.world.find("http_requests_total"):
        key = (s.label("job"), s.label("endpoint"))
        r = _rate(pw, s, HOUR) or 0.0
        total[key] += r
        if s.label("status").startswith("5"):
            errors[key] += r
    buckets: dict[tuple, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for s in pw.world.find("http_request_duration_seconds_bucket"):
        buckets[(s.label("job"), s.label("endpoint"))][float(s.label("le"))] += _rate(pw, s, HOUR) or 0.0

    assert set(rows) == set(total)
    for key, row in rows.items():
        assert close(row.request_rate, total[key]), key
        assert close(row.error_ratio, errors[key] / total[key]), key
        for q, got in ((0.5, row.p50), (0.95, row.p95), (0.99, row.p99)):
            assert close(got, histogram_quantile(q, buckets[key].items())), (key, q)
    # T0 is inside the latency regression: the table's first row is the recommendations endpoint.
    assert result.data.slowest(10)[0].endpoint == "/api/v1/recommendations"


async def test_health_rows_match_reference(prometheus_world, catalog, last_hour) -> None:
    pw = prometheus_world
    client = pw.client()
    try:
        # Nothing configured: the services are what the world's Prometheus has.
        inventory = await discover(client, ContextConfig(), "world", at=pw.t0)
        result = await fetch_service_health(client, catalog, inventory, time_range=last_hour)
    finally:
        await client.aclose()
    rows = {r.name: r for r in result.data}
    assert sorted(rows) == sorted(SERVICES)
    window = float(60 * int(last_hour.rate_window().rstrip("m")))

    for service in SERVICES:
        row = rows[service]
        ups = [_latest(pw, s) for s in pw.world.find("up", job=service)]
        assert close(row.up_ratio, sum(ups) / len(ups)), service
        assert row.status is ServiceStatus.from_up_ratio(sum(ups) / len(ups))
        memory = sum(_latest(pw, s) for s in pw.world.find("container_memory_usage_bytes", container=service))
        limit = sum(_latest(pw, s) for s in pw.world.find("container_spec_memory_limit_bytes", container=service))
        cpu = sum(
            _rate(pw, s, window) or 0.0 for s in pw.world.find("container_cpu_usage_seconds_total", container=service)
        )
        restarts = sum(
            _rate(pw, s, HOUR, as_rate=False) or 0.0
            for s in pw.world.find("kube_pod_container_status_restarts_total", container=service)
        )
        assert close(row.memory_bytes, memory) and close(row.memory_limit_bytes, limit), service
        assert close(row.cpu_cores, cpu), service
        assert close(row.restarts, restarts), service
        for figure, pair in (
            (row.disk_bytes_per_s, ("container_fs_reads_bytes_total", "container_fs_writes_bytes_total")),
            (
                row.network_bytes_per_s,
                ("container_network_receive_bytes_total", "container_network_transmit_bytes_total"),
            ),
        ):
            expected = sum(_rate(pw, s, window) or 0.0 for name in pair for s in pw.world.find(name, container=service))
            assert close(figure, expected), (service, pair)
        requests = {
            tuple(sorted(s.label_dict.items())): _rate(pw, s, window) or 0.0
            for s in pw.world.find("http_requests_total", job=service)
        }
        if requests:
            failed = sum(r for labels, r in requests.items() if dict(labels)["status"].startswith("5"))
            assert close(row.request_rate, sum(requests.values())), service
            assert close(row.error_ratio, failed / sum(requests.values())), service
            assert row.missing == "", service
        else:  # redis and postgres serve no HTTP: the row says so
            assert row.request_rate is None and row.missing == "no requests, latency", service

    # Worst first: the ml-engine spike took one of its two pods down at T0.
    assert result.data[0].name == "ml-engine" and result.data[0].status is ServiceStatus.DEGRADED
