"""Zeta on Prometheus servers it did not fill: other label conventions, discovered services.

Each world of tests/support/conventions.py is backfilled into its own real Prometheus. The
config holds the URL (and, for the Kubernetes world, the namespace and the service label,
which no zero-config guess can know). Expected figures are computed from the worlds' raw
samples with the reference maths of tests/support/world.py.
"""

from __future__ import annotations

from collections import defaultdict

import orjson
import pytest

from tests.support.conventions import LONG_KUBE_SERVICE, LONG_SERVICE, STEP, T0, loaded_world
from tests.support.world import close, extrapolated_rate, histogram_quantile, in_range
from zeta_tui.backends.api_performance import fetch_api_performance
from zeta_tui.backends.discovery import discover
from zeta_tui.backends.service_health import fetch_service_health
from zeta_tui.backends.slo import fetch_slo, slo_services
from zeta_tui.config.models import ContextConfig, LabelsConfig, MetricsConfig
from zeta_tui.errors import ConfigError
from zeta_tui.models.discovery import Signal
from zeta_tui.models.health import ServiceStatus
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying.promql_catalog import PromCatalog
from zeta_tui.resources import shipped_dir

pytestmark = pytest.mark.prometheus

HOUR = 3600.0
#: What a user would write: the URL only, plus what cannot be guessed for the Kubernetes world.
CONTEXTS = {
    "client_libs": ContextConfig(),
    "kube": ContextConfig(namespace="shop", labels=LabelsConfig(service="service")),
    "otel": ContextConfig(),
    "otel_ms": ContextConfig(),
}
# (service, endpoint, status, requests, latency, unit) each world's metrics use, and its services
EXPECTED_CONVENTIONS = {
    "client_libs": ("job", "handler", "code", "http_requests_total", "http_request_duration_seconds", "seconds"),
    "kube": ("service", "route", "status_code", "http_requests_total", "http_request_duration_seconds", "seconds"),
    "otel": (
        "job",
        "http_route",
        "http_response_status_code",
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds",
        "seconds",
    ),
    "otel_ms": (
        "job",
        "http_route",
        "http_status_code",
        "http_server_duration_milliseconds_count",
        "http_server_duration_milliseconds",
        "milliseconds",
    ),
}
EXPECTED_SERVICES = {
    "client_libs": [LONG_SERVICE, "inventory", "prometheus"],
    "kube": ["orders-api", LONG_KUBE_SERVICE],
    "otel": ["cart", "otel-collector", "shipping-quote-calculator-service"],
    "otel_ms": ["legacy-billing", "search"],
}
UNIT = {"client_libs": 1.0, "kube": 1.0, "otel": 1.0, "otel_ms": 0.001}


@pytest.fixture
def catalog() -> PromCatalog:
    return PromCatalog.load(shipped_dir("queries") / "promql")


async def _inventory(name: str, context: ContextConfig | None = None):
    loaded = loaded_world(name)
    client = loaded.client()
    try:
        return await discover(client, context or CONTEXTS[name], name, at=T0)
    finally:
        await client.aclose()


def _rate(world, series, range_s: float, *, as_rate: bool = True) -> float | None:
    return extrapolated_rate(world.samples(series, T0 - range_s - STEP, T0), T0, range_s, as_rate=as_rate)


def _latest(world, series) -> float:
    return in_range(world.samples(series, T0 - 300, T0), T0, 300)[-1][1]


def _in_scope(name: str, series) -> bool:
    return name != "kube" or series.label("namespace") == "shop"


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONTEXTS))
async def test_discovery_finds_the_services_and_the_conventions(name: str) -> None:
    inventory = await _inventory(name)
    c = inventory.conventions
    assert (c.service, c.endpoint, c.status, c.requests, c.latency, c.latency_unit) == EXPECTED_CONVENTIONS[name]
    assert inventory.names() == sorted(EXPECTED_SERVICES[name])
    http = [s for s in EXPECTED_SERVICES[name] if s not in ("prometheus", "otel-collector")]
    assert sorted(inventory.with_signal(Signal.REQUESTS)) == sorted(http)
    assert sorted(inventory.with_signal(Signal.LATENCY)) == sorted(http)


async def test_kubernetes_services_get_their_pods_containers_not_named_like_them() -> None:
    inventory = await _inventory("kube")
    orders = inventory.get("orders-api")
    assert set(orders.signals) == set(Signal)
    assert sorted(orders.pods) == ["orders-api-7c9d-sh0", "orders-api-7c9d-sh1"]  # not the staging pod
    assert sorted(orders.containers) == ["istio-proxy", "orders"]
    ranker = inventory.get(LONG_KUBE_SERVICE)
    assert len(ranker.pods) == 3 and "ranker" in ranker.containers


async def test_a_service_without_containers_says_which_signals_it_lacks() -> None:
    inventory = await _inventory("client_libs")
    gateway = inventory.get(LONG_SERVICE)
    assert gateway.signals == {Signal.UP, Signal.REQUESTS, Signal.LATENCY}
    assert gateway.missing_text() == "no container metrics"
    assert inventory.get("prometheus").missing_text() == "no requests, latency, container metrics"


async def test_a_namespace_prometheus_lacks_shows_every_namespace_and_says_so() -> None:
    inventory = await _inventory("kube", ContextConfig(namespace="production", labels=LabelsConfig(service="service")))
    assert inventory.namespace_pattern == ".*"
    assert "kube-state-metrics" in inventory.names()  # from namespace monitoring
    assert any("'production'" in note and "monitoring, shop, staging" in note for note in inventory.notes), (
        inventory.notes
    )


async def test_configured_services_filter_and_order() -> None:
    inventory = await _inventory("client_libs", ContextConfig(services=["inventory", "gone-service"]))
    assert inventory.names() == ["inventory", "gone-service"]
    assert inventory.get("gone-service").found is False
    assert inventory.get("gone-service").missing_text() == "not found in Prometheus"


@pytest.mark.parametrize(
    ("labels", "metrics", "named", "listed"),
    [
        (
            LabelsConfig(endpoint="route"),
            MetricsConfig(),
            "'route' (labels.endpoint)",
            "http_requests_total has code, handler, instance, job, method",
        ),
        (
            LabelsConfig(status="http_status"),
            MetricsConfig(),
            "'http_status' (labels.status)",
            "code, handler, instance, job",
        ),
        (LabelsConfig(service="app"), MetricsConfig(), "'app' (labels.service)", "up has instance, job"),
        (
            LabelsConfig(),
            MetricsConfig(latency="http_server_duration_seconds"),
            "'http_server_duration_seconds' (metrics.latency)",
            "http_request_duration_seconds",
        ),
    ],
)
async def test_a_wrong_name_is_named_with_what_the_metrics_carry(labels, metrics, named, listed) -> None:
    with pytest.raises(ConfigError) as info:
        await _inventory("client_libs", ContextConfig(labels=labels, metrics=metrics))
    text = info.value.render()
    assert named in text and listed in text, text
    assert "[contexts.client_libs." in text  # what to set, and where


# --- the screens' figures --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONTEXTS))
async def test_health_rows_match_reference(name: str, catalog) -> None:
    loaded = loaded_world(name)
    world = loaded.world
    inventory = await _inventory(name)
    last_hour = TimeRange(T0 - HOUR, T0, "1h")
    client = loaded.client()
    try:
        result = await fetch_service_health(client, catalog, inventory, time_range=last_hour)
    finally:
        await client.aclose()
    window = float(60 * int(last_hour.rate_window().rstrip("m")))
    conv = inventory.conventions
    rows = {r.name: r for r in result.data}
    assert sorted(rows) == sorted(EXPECTED_SERVICES[name])
    for service, row in rows.items():
        of_service = {conv.service: service}
        ups = [_latest(world, s) for s in world.find("up", **of_service) if _in_scope(name, s)]
        if ups:
            assert close(row.up_ratio, sum(ups) / len(ups)), service
        else:
            assert row.status is ServiceStatus.UNKNOWN, service
        requests = [s for s in world.find(conv.requests, **of_service) if _in_scope(name, s)]
        if requests:
            rates = [(_rate(world, s, window) or 0.0, s.label(conv.status)) for s in requests]
            total = sum(r for r, _ in rates)
            assert close(row.request_rate, total), service
            assert close(row.error_ratio, sum(r for r, code in rates if code.startswith("5")) / total), service
        pods = {s.label("pod") for s in world.find("up", **of_service) if _in_scope(name, s)}
        containers = [
            s
            for s in world.find("container_cpu_usage_seconds_total")
            if s.label("pod") in pods and s.label("container") not in ("", "POD")
        ]
        if containers:
            assert close(row.cpu_cores, sum(_rate(world, s, window) or 0.0 for s in containers)), service
            memory = [
                s
                for s in world.find("container_memory_usage_bytes")
                if s.label("pod") in pods and s.label("container") not in ("", "POD")
            ]
            assert close(row.memory_bytes, sum(_latest(world, s) for s in memory)), service
            network = [
                s
                for n in ("container_network_receive_bytes_total", "container_network_transmit_bytes_total")
                for s in world.find(n)
                if s.label("pod") in pods
            ]
            assert close(row.network_bytes_per_s, sum(_rate(world, s, window) or 0.0 for s in network)), service
            restarts = [s for s in world.find("kube_pod_container_status_restarts_total") if s.label("pod") in pods]
            assert close(row.restarts, sum(_rate(world, s, HOUR, as_rate=False) or 0.0 for s in restarts)), service
            assert row.missing == "", service
        else:
            assert row.cpu_cores is None and "container metrics" in row.missing, service
    if name == "client_libs":
        assert result.data[0].name == LONG_SERVICE and result.data[0].status is ServiceStatus.DEGRADED  # worst first
    if name == "kube":
        assert rows["orders-api"].restarts and rows["orders-api"].restarts > 0


@pytest.mark.parametrize("name", list(CONTEXTS))
async def test_endpoint_table_matches_reference(name: str, catalog) -> None:
    loaded = loaded_world(name)
    world = loaded.world
    inventory = await _inventory(name)
    conv = inventory.conventions
    services = inventory.with_signal(Signal.REQUESTS)
    client = loaded.client()
    try:
        result = await fetch_api_performance(
            client,
            catalog,
            inventory,
            services=services,
            endpoints_regex=".*",
            time_range=TimeRange(T0 - HOUR, T0, "1h"),
        )
    finally:
        await client.aclose()
    total: dict[tuple, float] = defaultdict(float)
    errors: dict[tuple, float] = defaultdict(float)
    for s in world.find(conv.requests):
        if _in_scope(name, s):
            key = (s.label(conv.service), s.label(conv.endpoint))
            r = _rate(world, s, HOUR) or 0.0
            total[key] += r
            if s.label(conv.status).startswith("5"):
                errors[key] += r
    buckets: dict[tuple, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for s in world.find(f"{conv.latency}_bucket"):
        if _in_scope(name, s):
            buckets[(s.label(conv.service), s.label(conv.endpoint))][float(s.label("le"))] += (
                _rate(world, s, HOUR) or 0.0
            )
    rows = {(e.service, e.endpoint): e for e in result.data.endpoints}
    assert set(rows) == set(total) and len(rows) >= 2
    for key, row in rows.items():
        assert close(row.request_rate, total[key]), key
        assert close(row.error_ratio, errors[key] / total[key]), key
        for q, got in ((0.5, row.p50), (0.95, row.p95), (0.99, row.p99)):
            # in seconds whatever the histogram's unit
            assert close(got, histogram_quantile(q, buckets[key].items()) * UNIT[name]), (key, q)
    # the charts' series speak the domain's words whatever the labels are called
    assert {s.label("endpoint") for s in result.data.request_rate} == {e for _, e in total}
    assert all(s.label("status").startswith(("4", "5")) for s in result.data.errors_by_status)


@pytest.mark.parametrize("name", ["client_libs", "otel_ms"])
async def test_slo_indicators_match_reference(name: str, catalog) -> None:
    loaded = loaded_world(name)
    world = loaded.world
    inventory = await _inventory(name)
    conv = inventory.conventions
    services = slo_services(inventory, ())
    client = loaded.client()
    try:
        result = await fetch_slo(client, catalog, inventory, services, at=T0)
    finally:
        await client.aclose()
    month = 30 * 86400.0
    fast_bound = 0.1 / UNIT[name]  # the 100 ms bucket in the histogram's unit
    for status in result.data:
        of = {conv.service: status.service}
        if status.objective.name == "availability":
            counts = [
                (_rate(world, s, month, as_rate=False) or 0.0, s.label(conv.status))
                for s in world.find(conv.requests, **of)
            ]
            total = sum(c for c, _ in counts)
            expected = 1 - sum(c for c, code in counts if code.startswith("5")) / total
        elif status.objective.name == "latency":
            fast = sum(
                _rate(world, s, month, as_rate=False) or 0.0
                for s in world.find(f"{conv.latency}_bucket", **of)
                if s.label("le") != "+Inf" and float(s.label("le")) == fast_bound
            )
            timed = sum(
                _rate(world, s, month, as_rate=False) or 0.0
                for s in world.find(f"{conv.latency}_bucket", **of, le="+Inf")
            )
            expected = min(1.0, fast / timed)
        else:
            continue
        assert status.sli is not None and close(status.sli, expected, rel=1e-9), (status.service, status.objective.name)


# --- zeta services ------------------------------------------------------------------------


def test_services_command_lists_each_service_and_its_signals(tmp_path, capsys) -> None:
    from zeta_tui.cli import main

    loaded = loaded_world("kube")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[contexts.k8s]\nnamespace = "shop"\n[contexts.k8s.labels]\nservice = "service"\n'
        f'[contexts.k8s.prometheus]\nurl = "{loaded.url}"\n'
    )
    assert main(["--config", str(config), "services", "--json", "--at", str(T0)]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["conventions"]["endpoint"] == "route" and doc["conventions"]["status"] == "status_code"
    by_name = {s["name"]: s for s in doc["services"]}
    assert sorted(by_name) == sorted(EXPECTED_SERVICES["kube"])
    assert all(by_name["orders-api"]["signals"].values()) and by_name["orders-api"]["missing"] == []
    assert main(["--config", str(config), "services", "--at", str(T0)]) == 0
    captured = capsys.readouterr()
    assert "conventions: service=service endpoint=route status=status_code" in captured.err
    lines = captured.out.splitlines()
    assert lines[0].split()[:7] == ["SERVICE", "UP", "REQUESTS", "LATENCY", "CPU", "MEMORY", "RESTARTS"]
    assert any(line.startswith(LONG_KUBE_SERVICE) and " 3 " in line for line in lines[1:])
