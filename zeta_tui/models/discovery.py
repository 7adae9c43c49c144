"""The services a Prometheus has, and which signals each one has.

Discovery (backends/discovery.py) asks Prometheus which services carry `up`, the HTTP request
counter and the latency histogram, which pods they run in and which containers those pods
have; ``fold_inventory`` turns those answers into a ServiceInventory. A context's ``services``
list is a filter and an order on top of it, never a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from zeta_tui.models.conventions import MetricConventions


class Signal(Enum):
    """What Prometheus can say about a service; the value is how `zeta services` names it."""

    UP = "up"
    REQUESTS = "http_requests"
    LATENCY = "latency_histogram"
    CPU = "container_cpu"
    MEMORY = "container_memory"
    RESTARTS = "restarts"

    @property
    def short(self) -> str:
        return {
            "up": "up",
            "http_requests": "requests",
            "latency_histogram": "latency",
            "container_cpu": "cpu",
            "container_memory": "memory",
            "restarts": "restarts",
        }[self.value]


CONTAINER_SIGNALS = (Signal.CPU, Signal.MEMORY, Signal.RESTARTS)


@dataclass(frozen=True, slots=True)
class DiscoveredService:
    """One service: its name (the value of the service label), its signals, pods and containers."""

    name: str
    signals: frozenset[Signal] = frozenset()
    pods: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    #: False for a service named in the config that Prometheus does not have
    found: bool = True

    def missing(self) -> tuple[Signal, ...]:
        return tuple(s for s in Signal if s not in self.signals)

    def missing_text(self) -> str:
        """``no container cpu/memory/restarts`` and the like; "" when nothing is missing."""
        if not self.found:
            return "not found in Prometheus"
        missing = self.missing()
        if not missing:
            return ""
        if all(s in missing for s in CONTAINER_SIGNALS):
            rest = [s.short for s in missing if s not in CONTAINER_SIGNALS]
            return "no " + ", ".join([*rest, "container metrics"])
        return "no " + ", ".join(s.short for s in missing)


@dataclass(frozen=True, slots=True)
class ServiceInventory:
    """What one context's Prometheus has: services with their signals, the names its metrics
    use, the namespace regex the queries filter on, and notes on what was chosen and why."""

    services: tuple[DiscoveredService, ...]
    conventions: MetricConventions = field(default_factory=MetricConventions)
    #: RE2 regex for ``namespace=~"..."``: the context's namespace or no namespace label, or .*
    namespace_pattern: str = ".*"
    notes: tuple[str, ...] = ()
    #: the histogram's bucket bounds in seconds (empty when unknown)
    latency_bounds: tuple[float, ...] = ()

    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def get(self, name: str) -> DiscoveredService | None:
        return next((s for s in self.services if s.name == name), None)

    def with_signal(self, signal: Signal) -> list[str]:
        return [s.name for s in self.services if signal in s.signals]


@dataclass(frozen=True, slots=True)
class ServiceSeries:
    """One row of a ``count by (service, namespace, pod)`` answer."""

    service: str
    namespace: str = ""
    pod: str = ""


@dataclass(frozen=True, slots=True)
class ContainerSeries:
    """One container a cAdvisor or kube-state-metrics metric reports."""

    signal: Signal
    namespace: str
    pod: str
    container: str


def fold_inventory(
    *,
    up: Sequence[ServiceSeries],
    requests: Sequence[ServiceSeries],
    latency: Sequence[ServiceSeries],
    containers: Sequence[ContainerSeries],
    pattern: str,
    wanted: Sequence[str] = (),
    conventions: MetricConventions = MetricConventions(),
    notes: Sequence[str] = (),
    latency_bounds: Sequence[float] = (),
) -> ServiceInventory:
    """The services of these answers (already filtered to the namespace), in the order of
    ``wanted`` when given (a filter: others are left out; wanted ones not found are kept, marked),
    else by name. A container belongs to the service whose up series names its pod, else to the
    service of the same name."""
    signals: dict[str, set[Signal]] = {}
    pods: dict[str, dict[tuple[str, str], None]] = {}
    for signal, rows in ((Signal.UP, up), (Signal.REQUESTS, requests), (Signal.LATENCY, latency)):
        for row in rows:
            if not row.service:
                continue
            signals.setdefault(row.service, set()).add(signal)
            if row.pod:
                pods.setdefault(row.service, {})[(row.namespace, row.pod)] = None
    owner = {pod: service for service, owned in pods.items() for pod in owned}
    containers_of: dict[str, dict[str, None]] = {}
    for c in containers:
        service = owner.get((c.namespace, c.pod)) or (c.container if c.container in signals else None)
        if service is None:
            continue
        signals[service].add(c.signal)
        containers_of.setdefault(service, {})[c.container] = None
    names = list(dict.fromkeys(wanted)) if wanted else sorted(signals)
    services = tuple(
        DiscoveredService(
            name,
            frozenset(signals.get(name, ())),
            tuple(pod for _, pod in pods.get(name, {})),
            tuple(containers_of.get(name, {})),
            found=name in signals,
        )
        for name in names
    )
    return ServiceInventory(services, conventions, pattern, tuple(notes), tuple(latency_bounds))
