"""Small metric worlds in the label conventions zeta did not invent, for a real Prometheus.

Each world is a list of series (name, labels, value as a function of time), written as
OpenMetrics and backfilled with promtool into its own Prometheus. They share nothing with the
demo world (zeta_tui/demo): other service names (some over 30 characters), other label names,
a histogram in milliseconds, pods whose containers are not named like their service, another
namespace holding a service of the same name.

- ``client_libs``: the Prometheus client libraries' defaults: ``job``, ``handler``, ``code``,
  ``http_request_duration_seconds``; no namespace, no containers (static scrape configs).
- ``kube``: the classic ``kubernetes-service-endpoints`` scrape job of Prometheus's Kubernetes
  example: every app is scraped by one job, the Kubernetes service is in ``service``, with
  ``namespace`` and ``pod``; the app labels are ``route`` and ``status_code``; ``endpoint``
  is the port's name (as kube-prometheus's target label); cAdvisor and kube-state-metrics
  series name containers that differ from the service's name, plus the pod cgroup's own series.
- ``otel``: OpenTelemetry's semantic conventions through the collector's Prometheus exporter:
  ``http_server_request_duration_seconds`` with ``http_route`` and
  ``http_response_status_code``, no request counter (the histogram's _count counts requests),
  no ``up`` per service.
- ``otel_ms``: OpenTelemetry before semconv 1.20: ``http_server_duration_milliseconds`` in
  milliseconds, ``http_route``, ``http_status_code``.

Counters grow linearly from the world's start (integers), so their rates are known, but the
tests still compute every expected value from the raw samples with tests/support/world.py's
reference maths, never from zeta's code.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.support.world import T0

STEP = 15
HOURS = 2
START = T0 - HOURS * 3600

# Bucket bounds in seconds (the Prometheus client default) and in milliseconds (OpenTelemetry's old default).
SECONDS_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MS_BOUNDS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
#: the long service names the column tests use (over 30 characters)
LONG_SERVICE = "checkout-payments-gateway-service"
LONG_KUBE_SERVICE = "recommendation-ranking-feature-store"


@dataclass(frozen=True)
class WorldSeries:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: Callable[[float], float]
    kind: str = "counter"  # openmetrics family type

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def label(self, key: str) -> str:
        return self.label_dict.get(key, "")


@dataclass
class MetricWorld:
    name: str
    series: list[WorldSeries] = field(default_factory=list)

    def add(self, name: str, labels: dict[str, str], value: Callable[[float], float], kind: str = "counter") -> None:
        self.series.append(WorldSeries(name, tuple(labels.items()), value, kind))

    def find(self, name: str, **match: str) -> list[WorldSeries]:
        return [s for s in self.series if s.name == name and all(s.label(k) == v for k, v in match.items())]

    def samples(self, series: WorldSeries, start: float, end: float) -> list[tuple[float, float]]:
        first = math.ceil(max(start, START) / STEP) * STEP
        return [(float(t), series.value(float(t))) for t in range(int(first), int(end) + 1, STEP)]

    def openmetrics(self) -> str:
        """Every series on the 15 s grid over [START, T0], grouped by family as promtool wants."""
        times = list(range(int(math.ceil(START / STEP) * STEP), int(T0) + 1, STEP))
        families: dict[str, list[WorldSeries]] = {}
        for s in self.series:
            families.setdefault(_family(s), []).append(s)
        out = []
        for family, members in families.items():
            out.append(f"# TYPE {family} {members[0].kind}\n")
            for s in members:
                selector = s.name + "{" + ",".join(f'{k}="{v}"' for k, v in s.labels) + "}"
                out.extend(f"{selector} {_fmt(s.value(float(t)))} {t}\n" for t in times)
        out.append("# EOF\n")
        return "".join(out)


def _family(s: WorldSeries) -> str:
    if s.kind == "histogram":
        return s.name.rsplit("_", 1)[0]  # _bucket, _count, _sum
    if s.kind == "counter":
        return s.name.removesuffix("_total")
    return s.name


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _counter(per_second: float) -> Callable[[float], float]:
    return lambda t: float(math.floor(per_second * (t - START)))


def _gauge(value: float) -> Callable[[float], float]:
    return lambda t: value


def _share_below(bound_s: float, median_s: float) -> float:
    """Share of requests faster than ``bound_s`` for a log-normal latency with this median (sigma 0.6)."""
    if bound_s <= 0:
        return 0.0
    return 0.5 * (1 + math.erf(math.log(bound_s / median_s) / (0.6 * math.sqrt(2))))


def _histogram(
    world: MetricWorld,
    name: str,
    labels: dict[str, str],
    per_second: float,
    median_s: float,
    bounds: tuple[float, ...],
    seconds_per_unit: float = 1.0,
) -> None:
    for bound in bounds:
        share = _share_below(bound * seconds_per_unit, median_s)
        le = _fmt(float(bound)) if seconds_per_unit == 1.0 else str(bound)
        world.add(f"{name}_bucket", {**labels, "le": le}, _counter(per_second * share), "histogram")
    world.add(f"{name}_bucket", {**labels, "le": "+Inf"}, _counter(per_second), "histogram")
    world.add(f"{name}_count", labels, _counter(per_second), "histogram")
    world.add(f"{name}_sum", labels, lambda t, r=per_second, m=median_s: math.floor(r * (t - START)) * m, "histogram")


# --- the worlds ------------------------------------------------------------------------------


def client_libs_world() -> MetricWorld:
    w = MetricWorld("client_libs")
    services = {
        LONG_SERVICE: {"/api/checkout": (12.0, 0.04, 0.02), "/api/refund": (1.5, 0.3, 0.0)},
        "inventory": {"/items": (30.0, 0.012, 0.001)},
    }
    for service, handlers in services.items():
        for i in range(2):
            instance = f"10.0.{len(service) % 7}.{i + 10}:8000"
            # one of the gateway's two instances is down: DEGRADED
            w.add(
                "up",
                {"job": service, "instance": instance},
                _gauge(0.0 if (service == LONG_SERVICE and i == 1) else 1.0),
                "gauge",
            )
            for handler, (rate, median, errors) in handlers.items():
                base = {"job": service, "instance": instance, "handler": handler, "method": "GET"}
                w.add("http_requests_total", {**base, "code": "200"}, _counter(rate * (1 - errors) / 2))
                if errors:
                    w.add("http_requests_total", {**base, "code": "503"}, _counter(rate * errors / 2))
                _histogram(w, "http_request_duration_seconds", base, rate / 2, median, SECONDS_BOUNDS)
    w.add("up", {"job": "prometheus", "instance": "localhost:9090"}, _gauge(1.0), "gauge")
    return w


def kube_world() -> MetricWorld:
    w = MetricWorld("kube")
    # (namespace, service, container, pods, routes {route: (req/s per pod, median s, 5xx share)}, cores, memory bytes)
    apps = [
        (
            "shop",
            "orders-api",
            "orders",
            2,
            {"/orders": (8.0, 0.03, 0.01), "/orders/{id}": (4.0, 0.02, 0.0)},
            0.25,
            300e6,
        ),
        ("shop", LONG_KUBE_SERVICE, "ranker", 3, {"/rank": (5.0, 0.09, 0.002)}, 0.8, 1.2e9),
        ("staging", "orders-api", "orders", 1, {"/orders": (0.5, 0.03, 0.5)}, 0.05, 100e6),
    ]
    for namespace, service, container, pods, routes, cores, memory in apps:
        for i in range(pods):
            pod = f"{service[:12]}-7c9d-{namespace[:2]}{i}"
            target = {
                "job": "kubernetes-service-endpoints",
                "namespace": namespace,
                "service": service,
                "pod": pod,
                "instance": f"10.2.{len(namespace)}.{i + 20}:8080",
                "endpoint": "http-metrics",
            }
            w.add("up", target, _gauge(1.0), "gauge")
            for route, (rate, median, errors) in routes.items():
                w.add(
                    "http_requests_total",
                    {**target, "route": route, "status_code": "200"},
                    _counter(rate * (1 - errors)),
                )
                if errors:
                    w.add(
                        "http_requests_total", {**target, "route": route, "status_code": "500"}, _counter(rate * errors)
                    )
                _histogram(w, "http_request_duration_seconds", {**target, "route": route}, rate, median, SECONDS_BOUNDS)
            kubelet = {
                "job": "kubelet",
                "service": "kubelet",
                "namespace": namespace,
                "pod": pod,
                "instance": "node-1:10250",
            }
            w.add("container_cpu_usage_seconds_total", {**kubelet, "container": container}, _counter(cores))
            w.add("container_cpu_usage_seconds_total", {**kubelet, "container": "istio-proxy"}, _counter(0.05))
            w.add(
                "container_cpu_usage_seconds_total", {**kubelet, "container": ""}, _counter(cores + 0.05)
            )  # the pod cgroup: not counted again
            w.add("container_memory_usage_bytes", {**kubelet, "container": container}, _gauge(memory), "gauge")
            w.add("container_memory_usage_bytes", {**kubelet, "container": "istio-proxy"}, _gauge(50e6), "gauge")
            w.add("container_memory_usage_bytes", {**kubelet, "container": ""}, _gauge(memory + 50e6), "gauge")
            w.add("container_spec_memory_limit_bytes", {**kubelet, "container": container}, _gauge(2 * memory), "gauge")
            w.add(
                "container_network_receive_bytes_total",
                {**kubelet, "container": "", "interface": "eth0"},
                _counter(40_000.0),
            )
            w.add(
                "container_network_transmit_bytes_total",
                {**kubelet, "container": "", "interface": "eth0"},
                _counter(90_000.0),
            )
            w.add(
                "container_fs_reads_bytes_total",
                {**kubelet, "container": container, "device": "/dev/sda"},
                _counter(1_000.0),
            )
            w.add(
                "container_fs_writes_bytes_total",
                {**kubelet, "container": container, "device": "/dev/sda"},
                _counter(3_000.0),
            )
            ksm = {
                "job": "kube-state-metrics",
                "namespace": namespace,
                "pod": pod,
                "container": container,
                "instance": "ksm:8080",
            }
            restarts_per_hour = 2.0 if (service == "orders-api" and namespace == "shop" and i == 0) else 0.0
            w.add(
                "kube_pod_container_status_restarts_total",
                ksm,
                lambda t, r=restarts_per_hour: float(math.floor(r * (t - START) / 3600)),
            )
    w.add(
        "up",
        {
            "job": "kube-state-metrics",
            "namespace": "monitoring",
            "service": "kube-state-metrics",
            "pod": "ksm-0",
            "instance": "ksm:8080",
            "endpoint": "http",
        },
        _gauge(1.0),
        "gauge",
    )
    return w


def otel_world() -> MetricWorld:
    w = MetricWorld("otel")
    for service, routes in {
        "cart": {"/cart/{id}": (6.0, 0.05, 0.03)},
        "shipping-quote-calculator-service": {"/quote": (2.0, 0.4, 0.0)},
    }.items():
        base = {"job": service, "instance": f"{service}-0", "service_name": service, "http_request_method": "GET"}
        for route, (rate, median, errors) in routes.items():
            for status, share in (("200", 1 - errors), ("500", errors)):
                if share:
                    _histogram(
                        w,
                        "http_server_request_duration_seconds",
                        {**base, "http_route": route, "http_response_status_code": status},
                        rate * share,
                        median,
                        SECONDS_BOUNDS,
                    )
    w.add("up", {"job": "otel-collector", "instance": "otel-collector:8889"}, _gauge(1.0), "gauge")
    return w


def otel_ms_world() -> MetricWorld:
    w = MetricWorld("otel_ms")
    for service, (rate, median, errors) in {"legacy-billing": (3.0, 0.12, 0.1), "search": (10.0, 0.03, 0.0)}.items():
        base = {
            "job": service,
            "instance": f"{service}-0",
            "http_route": "/v1/" + service.split("-")[-1],
            "http_method": "POST",
        }
        for status, share in (("200", 1 - errors), ("502", errors)):
            if share:
                _histogram(
                    w,
                    "http_server_duration_milliseconds",
                    {**base, "http_status_code": status},
                    rate * share,
                    median,
                    MS_BOUNDS,
                    0.001,
                )
    return w


WORLDS = {"client_libs": client_libs_world, "kube": kube_world, "otel": otel_world, "otel_ms": otel_ms_world}


# --- a real Prometheus per world ------------------------------------------------------------


@dataclass(frozen=True)
class LoadedWorld:
    world: MetricWorld
    url: str

    def client(self):
        from zeta_tui.backends.prometheus import PrometheusClient
        from zeta_tui.config.models import PrometheusConfig

        return PrometheusClient(PrometheusConfig(url=self.url, timeout_seconds=20))


_children: list = []


@cache
def loaded_world(name: str) -> LoadedWorld:
    """The world ``name`` backfilled into its own Prometheus (started once per test process)."""
    import atexit
    import subprocess

    import pytest

    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            pytest.skip(f"`{binary}` is not installed: sudo apt-get install prometheus")
    from zeta_tui.demo.backfill import move_blocks
    from zeta_tui.demo.processes import prometheus_server

    world = WORLDS[name]()
    workdir = Path(tempfile.mkdtemp(prefix=f"zeta-conv-{name}-"))
    source, staging = workdir / "world.om", workdir / "staging"
    source.write_text(world.openmetrics())
    staging.mkdir()
    done = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(staging)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    move_blocks([p for p in staging.iterdir() if (p / "meta.json").is_file()], workdir / "data")
    server = prometheus_server(workdir, "global:\n  scrape_interval: 1h\n", data_dir=workdir / "data", retention="100y")
    server.start()
    server.wait_ready(timeout=30)
    _children.append(server)

    def stop() -> None:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    return LoadedWorld(world, server.url)
