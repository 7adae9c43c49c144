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
    """A customer of the platform, with its plan and share of the traffic."""

    tenant_id: str
    plan: str
    share: float


@dataclass(frozen=True)
class Service:
    """A service (a Prometheus job and the container of the same name)."""

    name: str
    instances: tuple[Instance, ...]
    memory_limit_bytes: int


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("backend-api", "/api/v1/recommendations", "POST", 55.0,
             (("200", 0.9885), ("400", 0.004), ("429", 0.004), ("500", 0.0025), ("502", 0.0005), ("503", 0.0005)), 0.085, 0.55),
    Endpoint("backend-api", "/api/v1/items", "GET", 70.0, (("200", 0.983), ("404", 0.012), ("429", 0.003), ("500", 0.002)), 0.018, 0.6),
    Endpoint("backend-api", "/api/v1/feedback", "POST", 22.0, (("201", 0.99), ("400", 0.008), ("500", 0.002)), 0.012, 0.5),
    Endpoint("backend-api", "/api/v1/users/profile", "GET", 30.0, (("200", 0.97), ("401", 0.02), ("404", 0.008), ("500", 0.002)), 0.009, 0.5),
    Endpoint("auth", "/api/v1/auth/login", "POST", 9.0, (("200", 0.93), ("401", 0.065), ("429", 0.003), ("500", 0.002)), 0.06, 0.45),
    Endpoint("auth", "/api/v1/auth/refresh", "POST", 24.0, (("200", 0.98), ("401", 0.018), ("500", 0.002)), 0.007, 0.4),
    Endpoint("ml-engine", "/internal/embed", "POST", 55.0, (("200", 0.997), ("500", 0.002), ("503", 0.001)), 0.022, 0.45),
    Endpoint("ml-engine", "/internal/ann_search", "POST", 47.0, (("200", 0.9965), ("500", 0.002), ("503", 0.0015)), 0.031, 0.5),
)

LATENCY_BUCKETS: tuple[str, ...] = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")


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
            Instance(name, i, f"{name}-{_POD_HASH[name]}-{i}", f"{name}-{i}:{_PORT[name]}", NODES[(s_index + i) % len(NODES)]) for i in range(2)
        )
        services.append(Service(name, instances, _MEMORY_LIMIT[name]))
    # A few big enterprise customers, a middle of pro, a long tail of starter (Zipf-like sizes).
    raw = []
    for n in range(tenant_count):
        plan = "enterprise" if n % 8 == 0 else ("pro" if n % 3 == 0 else "starter")
        size = {"enterprise": 6.0, "pro": 2.5, "starter": 1.0}[plan] * rng.uniform(0.6, 1.4) / (1 + n * 0.04)
        raw.append((f"tenant_{n + 1:03d}", plan, size))
    total = sum(size for _, _, size in raw)
    tenants = tuple(Tenant(tid, plan, size / total) for tid, plan, size in raw)
    first = round(rng.uniform(0.5, 0.54), 3)
    return Topology(namespace, tuple(services), ENDPOINTS, tenants, (first, 1.0 - first))
