"""The world's metric families: HTTP, cAdvisor/kube-state, business, node (ML and data: ml_catalog.py).

Label conventions are the console's defaults (docs/conventions.md): a service is a ``job`` and the
``container`` of the same name. Every series carries ``job`` and ``instance`` explicitly so
that the backfill and the live scrape (``honor_labels: true``) write the same series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from zeta_tui.demo.incidents import AUTH_LOGIN_BURST, LATENCY_REGRESSION, ML_ERROR_SPIKE, POD_RESTART
from zeta_tui.demo.ml_catalog import ann_family, ingest_family, model_families
from zeta_tui.demo.series import (
    BUCKET_MARGIN,
    Family,
    TermsBuilder,
    WorldSeries,
    lognormal_cdf,
    lognormal_mean,
    noise,
    stable_key,
)
from zeta_tui.demo.topology import LATENCY_BUCKETS, NODES, PLANS, Endpoint, Instance
from zeta_tui.demo.traffic import load

if TYPE_CHECKING:
    from zeta_tui.demo.world import TeamZetaWorld

WIGGLE = 0.035  # share of an endpoint's traffic in its own (always >= 0) wiggle
LOGIN_BURST_RPS = 70.0  # extra failed logins per second during the burst, over both auth pods
REC_ITEMS = 10  # recommendations per successful POST /api/v1/recommendations
# Latency of POST /api/v1/recommendations during the latency regression (median seconds, log
# sigma): 9x its quiet median, so a third of its requests take over 500 ms and its own p95
# rises to ~1.5 s: HighLatency (per endpoint, 1 s for 10m) pages for it, its 500 ms warning
# fires first. backend-api's p95 summed by job (recommendations are 31 % of its traffic) is only
# ~0.8 s: tests/test_alert_latency_world.py checks both. How it was tuned: docs/demo.md.
REGRESSION_LATENCY = (0.36, 0.70)

ML, LAT, BURST = (f"load_in:{ML_ERROR_SPIKE}", f"load_in:{LATENCY_REGRESSION}", f"time_in:{AUTH_LOGIN_BURST}")


def _status_deltas(e: Endpoint, instance_index: int, ml_down_index: int) -> dict[str, dict[str, float]]:
    """Change of each status's share of traffic while an incident is on (shares stay >= 0)."""
    if e.service == "ml-engine":
        if instance_index == ml_down_index:  # the pod is OOM-looping: most calls get 503
            return {ML: {"200": -0.8, "503": 0.8}}
        return {ML: {"200": -0.15, "500": 0.15}}
    if e.path == "/api/v1/recommendations":
        return {ML: {"200": -0.12, "502": 0.08, "500": 0.04}}
    return {}


def _latency_regimes(e: Endpoint) -> dict[str, tuple[float, float]]:
    """(median, sigma) of latency while an incident is on, where it differs from quiet times."""
    if e.service == "ml-engine":
        return {ML: (e.median_s * 2.5, e.sigma + 0.2)}
    if e.path == "/api/v1/recommendations":
        return {LAT: REGRESSION_LATENCY}
    return {}


def build_families(world: TeamZetaWorld) -> Iterator[Family]:
    """Every family of the world, in exposition order."""
    # (instance, endpoint key, status) -> request-rate terms; business series reuse them.
    status_terms: dict[tuple[str, str, str], TermsBuilder] = {}
    yield from _http_families(world, status_terms)
    yield from _container_families(world)
    yield from _business_families(world, status_terms)
    yield ann_family(world, status_terms, _latency_regimes)


# --- HTTP ------------------------------------------------------------------------------


def _http_families(world: TeamZetaWorld, status_terms: dict[tuple[str, str, str], TermsBuilder]) -> Iterator[Family]:
    topo, index = world.topology, world.basis.index
    down_index = int(world.schedule.ml_down_instance.split(":")[0].rsplit("-", 1)[1])
    requests, buckets, sums, counts = [], [], [], []
    for e in topo.endpoints:
        for inst in topo.service(e.service).instances:
            share = topo.instance_split[inst.index]
            base = e.base_rps * share
            wiggle = f"wiggle:{e.key}"
            deltas = _status_deltas(e, inst.index, down_index)
            status_parts = []
            for status, p in e.statuses:
                tb = TermsBuilder(index).add("load", base * p).add(wiggle, base * p * WIGGLE)
                for kind, by_status in deltas.items():
                    tb.add(kind, base * by_status.get(status, 0.0))
                if e.path == "/api/v1/auth/login" and status == "401":
                    tb.add(BURST, LOGIN_BURST_RPS * share)
                status_terms[(inst.instance, e.key, status)] = tb
                labels = (
                    ("job", e.service),
                    ("instance", inst.instance),
                    ("endpoint", e.path),
                    ("method", e.method),
                    ("status", status),
                )
                requests.append(WorldSeries("http_requests_total", labels, "floor", tb.terms()))
                status_parts.append(tb.terms())
            hist = (("job", e.service), ("instance", inst.instance), ("endpoint", e.path))
            regimes = _latency_regimes(e)
            for le in LATENCY_BUCKETS:
                bucket = (*hist, ("le", le))
                if le == "+Inf":
                    buckets.append(
                        WorldSeries(
                            "http_request_duration_seconds_bucket", bucket, "sum_of_floors", parts=tuple(status_parts)
                        )
                    )
                    continue
                bound = float(le)
                cdf = lognormal_cdf(bound, e.median_s, e.sigma)
                tb = TermsBuilder(index).add("load", base * cdf).add(wiggle, base * WIGGLE * cdf)
                for kind, (median, sigma) in regimes.items():
                    tb.add(kind, base * (lognormal_cdf(bound, median, sigma) - cdf))
                if e.path == "/api/v1/auth/login":  # rejected logins answer fast
                    tb.add(BURST, LOGIN_BURST_RPS * share * lognormal_cdf(bound, 0.004, 0.4))
                buckets.append(
                    WorldSeries(
                        "http_request_duration_seconds_bucket", bucket, "floor", tb.terms(), offset=BUCKET_MARGIN
                    )
                )
            mean = lognormal_mean(e.median_s, e.sigma)
            tb = TermsBuilder(index).add("load", base * mean).add(wiggle, base * WIGGLE * mean)
            for kind, (median, sigma) in regimes.items():
                tb.add(kind, base * (lognormal_mean(median, sigma) - mean))
            if e.path == "/api/v1/auth/login":
                tb.add(BURST, LOGIN_BURST_RPS * share * lognormal_mean(0.004, 0.4))
            sums.append(WorldSeries("http_request_duration_seconds_sum", hist, "linear", tb.terms()))
            counts.append(
                WorldSeries("http_request_duration_seconds_count", hist, "sum_of_floors", parts=tuple(status_parts))
            )
    up = tuple(
        WorldSeries("up", (("job", i.service), ("instance", i.instance)), "computed", compute=_up(world, i))
        for i in topo.instances
    )
    yield Family("up", "gauge", "1 if the target was scraped successfully, 0 if it was down.", up)
    yield Family(
        "http_requests", "counter", "HTTP requests served, by endpoint, method and status code.", tuple(requests)
    )
    yield Family(
        "http_request_duration_seconds",
        "histogram",
        "HTTP request latency in seconds.",
        tuple(_histogram_order(buckets, sums, counts)),
    )


def _histogram_order(
    buckets: list[WorldSeries], sums: list[WorldSeries], counts: list[WorldSeries]
) -> Iterator[WorldSeries]:
    # OpenMetrics wants a histogram's buckets, _sum and _count for one label set together.
    per = len(LATENCY_BUCKETS)
    for n, (s, c) in enumerate(zip(sums, counts)):
        yield from buckets[n * per : (n + 1) * per]
        yield s
        yield c


def _pod_index(world: TeamZetaWorld, inst: Instance) -> int:
    return [p[1] for p in world.schedule.pods].index(inst.instance)


def _up(world: TeamZetaWorld, inst: Instance) -> Callable[[float], float]:
    ml, restart = world.schedule.kind(ML_ERROR_SPIKE), world.schedule.kind(POD_RESTART)
    is_ml_down = inst.instance == world.schedule.ml_down_instance
    pod_index, pods = _pod_index(world, inst), len(world.schedule.pods)

    def up(t: float) -> float:
        if is_ml_down and ml.active_index(t) is not None:
            return 0.0
        n = restart.active_index(t)
        return 0.0 if n is not None and n % pods == pod_index else 1.0

    return up


# --- containers ------------------------------------------------------------------------

# cores idle, cores per request/s, rx and tx bytes per request, fs read and write bytes/s at load 1,
# memory in use as a share of the limit.
_CONTAINER = {
    "backend-api": (0.03, 0.004, 1800, 5200, 20_000, 60_000, 0.55),
    "ml-engine": (0.05, 0.012, 2400, 9000, 400_000, 30_000, 0.62),
    "auth": (0.01, 0.003, 900, 1400, 5_000, 25_000, 0.40),
    "redis": (0.02, 0.0009, 300, 2600, 2_000, 180_000, 0.48),
    "postgres": (0.04, 0.002, 700, 8000, 4_800_000, 2_100_000, 0.66),
}


def _container_families(world: TeamZetaWorld) -> Iterator[Family]:
    topo, index, ns = world.topology, world.basis.index, world.namespace
    backend_rps = sum(e.base_rps for e in topo.endpoints_of("backend-api"))
    families: dict[str, list[WorldSeries]] = {
        n: []
        for n in (
            "container_cpu_usage_seconds_total",
            "container_memory_usage_bytes",
            "container_spec_memory_limit_bytes",
            "container_fs_reads_bytes_total",
            "container_fs_writes_bytes_total",
            "container_network_receive_bytes_total",
            "container_network_transmit_bytes_total",
        )
    }
    restarts = []
    for svc in topo.services:
        idle, cpu_per_rps, rx_per, tx_per, fs_read, fs_write, mem_share = _CONTAINER[svc.name]
        own_rps = (
            sum(e.base_rps for e in topo.endpoints_of(svc.name))
            or backend_rps * {"redis": 0.9, "postgres": 0.35}[svc.name]
        )
        for inst in svc.instances:
            share = topo.instance_split[inst.index]
            rps = own_rps * share
            labels = (
                ("job", "kubelet"),
                ("instance", f"{inst.node}:10250"),
                ("namespace", ns),
                ("pod", inst.pod),
                ("container", svc.name),
            )
            cpu = TermsBuilder(index).add("time", idle).add("load", cpu_per_rps * rps)
            rx = TermsBuilder(index).add("time", 2000).add("load", rx_per * rps)
            tx = TermsBuilder(index).add("time", 2000).add("load", tx_per * rps)
            if svc.name == "ml-engine":  # the spike is a GC/OOM storm: CPU climbs
                cpu.add(ML, 0.9 * share)
            if svc.name == "auth":
                cpu.add(BURST, 0.004 * LOGIN_BURST_RPS * share)
                rx.add(BURST, 700 * LOGIN_BURST_RPS * share)
                tx.add(BURST, 300 * LOGIN_BURST_RPS * share)
            add = families.__getitem__
            add("container_cpu_usage_seconds_total").append(
                WorldSeries("container_cpu_usage_seconds_total", labels, "linear", cpu.terms())
            )
            add("container_memory_usage_bytes").append(
                WorldSeries(
                    "container_memory_usage_bytes",
                    labels,
                    "computed",
                    compute=_memory(world, inst, mem_share, svc.memory_limit_bytes),
                )
            )
            add("container_spec_memory_limit_bytes").append(
                WorldSeries(
                    "container_spec_memory_limit_bytes",
                    labels,
                    "computed",
                    compute=_constant(float(svc.memory_limit_bytes)),
                )
            )
            for name, per_s in (
                ("container_fs_reads_bytes_total", fs_read),
                ("container_fs_writes_bytes_total", fs_write),
            ):
                terms = TermsBuilder(index).add("time", per_s * 0.2 * share).add("load", per_s * 0.8 * share).terms()
                add(name).append(WorldSeries(name, labels, "floor", terms))
            add("container_network_receive_bytes_total").append(
                WorldSeries("container_network_receive_bytes_total", labels, "floor", rx.terms())
            )
            add("container_network_transmit_bytes_total").append(
                WorldSeries("container_network_transmit_bytes_total", labels, "floor", tx.terms())
            )
            ksm = (
                ("job", "kube-state-metrics"),
                ("instance", "kube-state-metrics:8080"),
                ("namespace", ns),
                ("pod", inst.pod),
                ("container", svc.name),
            )
            restarts.append(
                WorldSeries("kube_pod_container_status_restarts_total", ksm, "computed", compute=_restarts(world, inst))
            )
    helps = {
        "container_cpu_usage_seconds_total": ("counter", "Cumulative CPU time consumed, seconds."),
        "container_memory_usage_bytes": ("gauge", "Current memory usage, bytes."),
        "container_spec_memory_limit_bytes": ("gauge", "Memory limit of the container, bytes."),
        "container_fs_reads_bytes_total": ("counter", "Cumulative bytes read from disk."),
        "container_fs_writes_bytes_total": ("counter", "Cumulative bytes written to disk."),
        "container_network_receive_bytes_total": ("counter", "Cumulative bytes received."),
        "container_network_transmit_bytes_total": ("counter", "Cumulative bytes transmitted."),
    }
    for name, series in families.items():
        kind, text = helps[name]
        yield Family(name.removesuffix("_total") if kind == "counter" else name, kind, text, tuple(series))  # type: ignore[arg-type]
    yield Family(
        "kube_pod_container_status_restarts", "counter", "Container restarts (kube-state-metrics).", tuple(restarts)
    )


def _restarts(world: TeamZetaWorld, inst: Instance) -> Callable[[float], float]:
    pod_index = _pod_index(world, inst)
    # The ml-engine spike starts with the pod being OOM-killed: one more restart each time.
    oom = world.schedule.kind(ML_ERROR_SPIKE) if inst.instance == world.schedule.ml_down_instance else None

    def restarts(t: float) -> float:
        return float(world.schedule.restarts_of(pod_index, t) + (oom.started_count(t) if oom else 0))

    return restarts


def _constant(value: float) -> Callable[[float], float]:
    return lambda t: value


def _memory(world: TeamZetaWorld, inst: Instance, share: float, limit: int) -> Callable[[float], float]:
    ml = world.schedule.kind(ML_ERROR_SPIKE)
    is_ml_down = inst.instance == world.schedule.ml_down_instance
    is_ml = inst.service == "ml-engine"
    pod_index = _pod_index(world, inst)
    key = stable_key(world.seed, "memory", inst.pod)

    def memory(t: float) -> float:
        level = share * (1 + 0.08 * (load(t) - 1)) + 0.006 * noise(key, t)
        if is_ml and ml.active_index(t) is not None:
            level = 0.97 + 0.01 * noise(key, t) if is_ml_down else level + 0.1
        restarted = world.schedule.last_restart_end(pod_index, t)
        if restarted is not None:
            # A restarted process starts small and warms its caches over 15 minutes.
            since = t - restarted
            level *= 0.3 if since < 0 else min(1.0, 0.55 + 0.45 * since / 900)
        return float(int(limit * level))

    return memory


# --- business, ML, databases, nodes ----------------------------------------------------


def _business_families(
    world: TeamZetaWorld, status_terms: dict[tuple[str, str, str], TermsBuilder]
) -> Iterator[Family]:
    topo, index = world.topology, world.basis.index
    biz = (("job", "zeta-business"), ("instance", "business-metrics:9400"))
    rec_ok = TermsBuilder(index)
    all_backend = TermsBuilder(index)
    for (instance, key, status), tb in status_terms.items():
        if key == "POST /api/v1/recommendations" and status == "200":
            rec_ok.extend(tb)
        if instance.startswith("backend-api-"):
            all_backend.extend(tb)
    served = tuple(
        WorldSeries(
            "recommendations_served_total",
            (*biz, ("tenant_id", t.tenant_id)),
            "floor",
            TermsBuilder(index).extend(rec_ok, REC_ITEMS * t.share).terms(),
        )
        for t in topo.tenants
    )
    plan_share = {p: sum(t.share for t in topo.tenants if t.plan == p) for p in PLANS}
    calls = tuple(
        WorldSeries(
            "api_calls_total",
            (*biz, ("plan", p)),
            "floor",
            TermsBuilder(index).extend(all_backend, plan_share[p]).terms(),
        )
        for p in PLANS
    )
    redis0 = topo.service("redis").instances[0].instance
    backend_rps = sum(e.base_rps for e in topo.endpoints_of("backend-api"))
    cache = (("job", "redis"), ("instance", redis0))
    yield Family("recommendations_served", "counter", "Recommendations returned to tenants.", served)
    yield Family("api_calls", "counter", "Public API calls by billing plan.", calls)
    yield Family(
        "cache_hits",
        "counter",
        "Cache lookups answered from redis.",
        (
            WorldSeries(
                "cache_hits_total", cache, "floor", TermsBuilder(index).add("load", 0.88 * 1.4 * backend_rps).terms()
            ),
        ),
    )
    yield Family(
        "cache_misses",
        "counter",
        "Cache lookups that fell through to postgres.",
        (
            WorldSeries(
                "cache_misses_total", cache, "floor", TermsBuilder(index).add("load", 0.12 * 1.4 * backend_rps).terms()
            ),
        ),
    )
    yield from model_families(world, biz)
    pg = tuple(
        WorldSeries("pg_up", (("job", "postgres"), ("instance", i.instance)), "computed", compute=_up(world, i))
        for i in topo.service("postgres").instances
    )
    yield Family("pg_up", "gauge", "1 if postgres answers the exporter.", pg)
    yield from _filesystem_families(world)
    yield ingest_family(world, biz)


_MOUNTS = (
    ("/", "/dev/nvme0n1p1", 100 << 30, 0.58),
    ("/var/lib/containerd", "/dev/nvme1n1", 200 << 30, 0.41),
    ("/data", "/dev/nvme2n1", 500 << 30, 0.33),
)


def _filesystem_families(world: TeamZetaWorld) -> Iterator[Family]:
    size, avail = [], []
    for node in NODES:
        for mountpoint, device, total, free in _MOUNTS:
            labels = (
                ("job", "node"),
                ("instance", f"{node}:9100"),
                ("device", device),
                ("fstype", "ext4"),
                ("mountpoint", mountpoint),
            )
            size.append(WorldSeries("node_filesystem_size_bytes", labels, "computed", compute=_constant(float(total))))
            avail.append(
                WorldSeries(
                    "node_filesystem_avail_bytes",
                    labels,
                    "computed",
                    compute=_avail(total, free, stable_key(world.seed, node, mountpoint)),
                )
            )
    yield Family("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.", tuple(size))
    yield Family(
        "node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.", tuple(avail)
    )


def _avail(total: int, free: float, key: int) -> Callable[[float], float]:
    def avail(t: float) -> float:
        # Logs and WAL fill the disk through the day; the 03:00 UTC clean-up frees it again.
        day_fraction = ((t - 3 * 3600) % 86400) / 86400
        return float(int(total * (free - 0.06 * day_fraction + 0.002 * noise(key, t, 300))))

    return avail
