"""Who is who in the Team Zeta world: services, pods, endpoints, tenants, nodes.

Everything here is static for a given seed; what changes with time lives in traffic.py and
incidents.py. The seed only moves small things (tenant plans and sizes, instance split),
so the shape of the platform is the same in every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SERVICES = ("backend-api", "ml-engine", "auth", "redis", "postgres")
PLANS = ("starter", "pro", "enterprise")
NODES = ("zeta-node-a", "zeta-node-b")

# Port of each service's metrics endpoint, so instance labels read like real scrape targets.
_PORT = {"backend-api": 8080, "ml-engine": 8000, "auth": 8081, "redis": 9121, "postgres": 9187}
# The replica-set hash in pod names (kubernetes-style, fixed so dashboards stay comparable).
_POD_HASH = {"backend-api": "7f9c", "ml-engine": "5d8b", "auth": "6c4d", "redis": "9a1e", "postgres": "3b7f"}
# Memory limits (bytes) as a deployment would set them.
_MEMORY_LIMIT = {"backend-api": 1 << 30, "ml-engine": 4 << 30, "auth": 512 << 20, "redis": 2 << 30, "postgres": 4 << 30}


@dataclass(frozen=True)
class Instance:
    """One replica of a service: its pod, its scrape instance label and the node it runs on."""

    service: str
    index: int
    pod: str
    instance: str
    node: str


@dataclass(frozen=True)
class Endpoint:
    """An HTTP route of a service with its traffic at a diurnal level of 1, and its latency."""

    service: str
    path: str
    method: str
    base_rps: float
    # Share of requests per status code in quiet times; sums to 1.
    statuses: tuple[tuple[str, float], ...]
    # Log-normal latency: median seconds and sigma of log(latency).
    median_s: float
    sigma: float

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Tenant:
    """A customer of the platform, with its plan and share of the traffic.

    ``model_pod`` is the index of the ml-engine instance that holds the tenant's model: when
    that instance is down (the ml-engine spike), the tenant's recommendation calls are the ones
    that fail.
    """

    tenant_id: str
    plan: str
    share: float
    model_pod: int = 0


@dataclass(frozen=True)
class Service:
    """A service (a Prometheus job and the container of the same name)."""

    name: str
    instances: tuple[Instance, ...]
    memory_limit_bytes: int


# Quiet shares and latencies are set against the seed's objectives (models/slo.py: availability
# 99.9 %, latency 99 % under 100 ms, error rate 0.1 %) and the plans' SLAs (starter 99 %, pro
# 99.9 %, enterprise 99.95 % non-5xx): quiet times meet them with budget left, and the scripted
# incidents are what spends it. Worked out in closed form: the diurnal load is common to all
# endpoints, so a service's share is the base_rps-weighted mean of its endpoints' shares, and an
# endpoint's share under 100 ms is its log-normal CDF at 0.1 s.
#
#   endpoint            5xx       under 100 ms            service       5xx (of 0.1 %)   under 100 ms (of 1 %)
#   recommendations     0.05 %    99.45 % (40 ms, 0.36)    backend-api   0.029 % (29 %)   99.75 % (25 %)
#   items               0.02 %    99.79 % (18 ms, 0.6)     auth          0.020 % (20 %)   99.74 % (26 %)
#   feedback, profile   0.02 %    ~100 %                   ml-engine     0.030 % (30 %)   99.90 % (10 %)
#   login               0.02 %    99.06 % (45 ms, 0.34)    tenants (backend-api and auth calls): 0.028 % 5xx,
#   refresh             0.02 %    ~100 %                   within even enterprise's 0.05 %
#   embed, ann_search   0.03 %    99.96 %, 99.83 %
#
# 4xx shares are left as they are: a client's error is not the service's. What the world looked
# like before these figures, and why it changed: docs/demo.md.
#
# The incidents (incidents.py, series_catalog.py) then spend budgets. Over 7 days (seed 42): the
# ml-engine spike (25 min every 7 h; ~43 % of ml-engine's calls fail, recommendations 12 %) takes
# ml-engine to 2.6 % 5xx (26x its budget) and backend-api to 0.24 % (2.4x); the latency
# regression (40 min every 11 h, recommendations at REGRESSION_LATENCY) takes backend-api to 98 %
# under 100 ms (2x); the spike's slow inference takes ml-engine to 98.5 % (1.5x). auth keeps
# its budgets. During a spike HighErrorRate fires on ml-engine (43 % > 5 %) and so do the
# ErrorBudgetBurn pages (1h and 5m above 14.4x); during a regression the p95 of
# /api/v1/recommendations is ~1.5 s (HighLatency pages for that endpoint: > 1 s; backend-api's
# p95 by job is ~0.8 s). The spike's failed recommendations are those of the tenants
# whose model ml-engine-1 holds (Tenant.model_pod, requests.py): over 30 days they get 99.6 %
# and the pro and enterprise ones among them miss their SLA (8 of 40 tenants); the others keep
# 99.97 %.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "backend-api",
        "/api/v1/recommendations",
        "POST",
        55.0,
        (("200", 0.9915), ("400", 0.004), ("429", 0.004), ("500", 0.0003), ("502", 0.0001), ("503", 0.0001)),
        0.040,
        0.36,
    ),
    Endpoint(
        "backend-api",
        "/api/v1/items",
        "GET",
        70.0,
        (("200", 0.9848), ("404", 0.012), ("429", 0.003), ("500", 0.0002)),
        0.018,
        0.6,
    ),
    Endpoint(
        "backend-api", "/api/v1/feedback", "POST", 22.0, (("201", 0.9918), ("400", 0.008), ("500", 0.0002)), 0.012, 0.5
    ),
    Endpoint(
        "backend-api",
        "/api/v1/users/profile",
        "GET",
        30.0,
        (("200", 0.9718), ("401", 0.02), ("404", 0.008), ("500", 0.0002)),
        0.009,
        0.5,
    ),
    Endpoint(
        "auth",
        "/api/v1/auth/login",
        "POST",
        9.0,
        (("200", 0.9318), ("401", 0.065), ("429", 0.003), ("500", 0.0002)),
        0.045,
        0.34,
    ),
    Endpoint(
        "auth", "/api/v1/auth/refresh", "POST", 24.0, (("200", 0.9818), ("401", 0.018), ("500", 0.0002)), 0.007, 0.4
    ),
    Endpoint(
        "ml-engine", "/internal/embed", "POST", 55.0, (("200", 0.9997), ("500", 0.0002), ("503", 0.0001)), 0.022, 0.45
    ),
    Endpoint(
        "ml-engine",
        "/internal/ann_search",
        "POST",
        47.0,
        (("200", 0.9997), ("500", 0.0002), ("503", 0.0001)),
        0.031,
        0.4,
    ),
)

LATENCY_BUCKETS: tuple[str, ...] = (
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1",
    "2.5",
    "5",
    "10",
    "+Inf",
)


@dataclass(frozen=True)
class Topology:
    """The whole static platform for one seed."""

    namespace: str
    services: tuple[Service, ...]
    endpoints: tuple[Endpoint, ...]
    tenants: tuple[Tenant, ...]
    # Share of an endpoint's traffic that each instance index serves (load balancer skew).
    instance_split: tuple[float, float]

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def instances(self) -> tuple[Instance, ...]:
        return tuple(i for s in self.services for i in s.instances)

    def endpoints_of(self, service: str) -> tuple[Endpoint, ...]:
        return tuple(e for e in self.endpoints if e.service == service)


def build_topology(seed: int, namespace: str = "production", tenant_count: int = 40) -> Topology:
    """The platform for ``seed``: 5 services x 2 pods, 8 endpoints, ``tenant_count`` tenants."""
    rng = random.Random(f"topology-{seed}")
    services = []
    for s_index, name in enumerate(SERVICES):
        instances = tuple(
            Instance(
                name, i, f"{name}-{_POD_HASH[name]}-{i}", f"{name}-{i}:{_PORT[name]}", NODES[(s_index + i) % len(NODES)]
            )
            for i in range(2)
        )
        services.append(Service(name, instances, _MEMORY_LIMIT[name]))
    # A few big enterprise customers, a middle of pro, a long tail of starter (Zipf-like sizes).
    raw = []
    for n in range(tenant_count):
        plan = "enterprise" if n % 8 == 0 else ("pro" if n % 3 == 0 else "starter")
        size = {"enterprise": 6.0, "pro": 2.5, "starter": 1.0}[plan] * rng.uniform(0.6, 1.4) / (1 + n * 0.04)
        raw.append((f"tenant_{n + 1:03d}", plan, size))
    total = sum(size for _, _, size in raw)
    # Models are placed biggest tenant first, alternately on the two ml-engine pods, so each pod
    # holds about half the traffic and a mix of plans.
    by_size = sorted(range(tenant_count), key=lambda n: -raw[n][2])
    pod = {n: rank % 2 for rank, n in enumerate(by_size)}
    tenants = tuple(Tenant(tid, plan, size / total, pod[n]) for n, (tid, plan, size) in enumerate(raw))
    first = round(rng.uniform(0.5, 0.54), 3)
    return Topology(namespace, tuple(services), ENDPOINTS, tenants, (first, 1.0 - first))
