"""Ask a Prometheus what it has: the names its HTTP metrics use, its services and their signals.

A config that holds only a URL must show that Prometheus's own services, whatever their
convention. So, per context and at most every few minutes (``ServiceDirectory``):

1. which of the known request counters and latency histograms exist (or the configured ones);
2. which labels they carry, to choose the service, endpoint and status labels: a label set in
   ``[contexts.NAME.labels]`` is used as written and reported with the labels the metric has
   when it is missing; an unset one is the first known spelling the metric carries;
3. which services carry `up`, requests and latency, in which namespaces and pods;
4. which containers run in those pods (cAdvisor, kube-state-metrics), else carry the service's
   name.

Every answer is an aggregate (``count by``) or a list of names, so its size follows the number
of services, pods and containers, never of samples. See docs/conventions.md.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import ContextConfig
from zeta_tui.errors import ConfigError
from zeta_tui.models.conventions import ENDPOINT_LABELS, STATUS_LABELS, MetricConventions, unit_from_name
from zeta_tui.models.discovery import ContainerSeries, ServiceInventory, ServiceSeries, Signal, fold_inventory
from zeta_tui.querying.promql_catalog import alternation, regex_escape

#: Latency histograms by how common they are: Prometheus client libraries (and the seed),
#: OpenTelemetry's semantic conventions (stable, then before 1.20 in milliseconds), Micrometer.
LATENCY_HISTOGRAMS = (
    "http_request_duration_seconds",
    "http_server_request_duration_seconds",
    "http_server_duration_milliseconds",
    "http_server_requests_seconds",
    "http_request_duration_milliseconds",
)
REQUEST_COUNTERS = ("http_requests_total", "http_server_requests_total")
CONTAINER_METRICS = {
    "container_cpu_usage_seconds_total": Signal.CPU,
    "container_memory_usage_bytes": Signal.MEMORY,
    "kube_pod_container_status_restarts_total": Signal.RESTARTS,
}
#: How far back label names and metric names are looked for.
LOOKBACK_SECONDS = 3600.0


def query_params(inventory: ServiceInventory, services: Sequence[str]) -> dict[str, str]:
    """The catalog parameters for ``services`` of this inventory: names, namespace, conventions."""
    return {
        "namespace": inventory.namespace_pattern,
        "services": alternation(list(services)),
        **inventory.conventions.params(),
    }


def namespace_filter(namespace: str, seen: Sequence[str]) -> tuple[str, str | None]:
    """The regex for ``namespace=~`` in every query, and a note when it is not the context's.

    Series without a namespace label (static scrape configs, most setups outside Kubernetes)
    always count. When the metrics carry namespaces but not the context's, every namespace is
    shown rather than nothing, and the note lists them.
    """
    found = sorted({n for n in seen if n})
    if not found or namespace in found:
        return f"{regex_escape(namespace)}|", None
    listed = ", ".join(found[:6]) + (f" and {len(found) - 6} more" if len(found) > 6 else "")
    return (
        ".*",
        (
            f"nothing in namespace {namespace!r}: showing every namespace ({listed}); "
            "set namespace in the context to choose one"
        ),
    )


class Discovery:
    """One round of questions to one Prometheus for one context."""

    def __init__(self, prom: PrometheusClient, context: ContextConfig, context_name: str, at: float | None) -> None:
        self.prom = prom
        self.context = context
        self.name = context_name
        self.at = at if at is not None else time.time()
        self.notes: list[str] = []

    async def run(self) -> ServiceInventory:
        names = await self._metric_names()
        conventions = self._metrics(names)
        conventions = await self._labels(conventions, names)
        svc = conventions.service
        has_latency = f"{conventions.latency}_bucket" in names
        up, requests, latency, bounds = await asyncio.gather(
            self._rows(f"count by ({svc}, namespace, pod) (up)") if "up" in names else _no_rows(),
            self._rows(f"count by ({svc}, namespace, pod) ({conventions.requests})")
            if conventions.requests in names
            else _no_rows(),
            self._rows(f"count by ({svc}, namespace) ({conventions.latency}_bucket)") if has_latency else _no_rows(),
            self._bounds(conventions) if has_latency else _no_bounds(),
        )
        seen = [r.get("namespace", "") for r in (*up, *requests, *latency)]
        pattern, note = namespace_filter(self.context.namespace, seen)
        if note:
            self.notes.append(note)

        def kept(rows: list[dict[str, str]]) -> list[ServiceSeries]:
            return [
                ServiceSeries(r.get(svc, ""), r.get("namespace", ""), r.get("pod", ""))
                for r in rows
                if pattern == ".*" or r.get("namespace", "") in ("", self.context.namespace)
            ]

        up_rows, request_rows, latency_rows = kept(up), kept(requests), kept(latency)
        services = sorted({r.service for r in (*up_rows, *request_rows, *latency_rows) if r.service})
        pods = sorted({r.pod for r in (*up_rows, *request_rows) if r.pod})
        containers = await self._containers(names, pattern, services, pods)
        inventory = fold_inventory(
            up=up_rows,
            requests=request_rows,
            latency=latency_rows,
            containers=containers,
            pattern=pattern,
            wanted=self.context.services,
            conventions=conventions,
            notes=self.notes,
            latency_bounds=bounds,
        )
        if not inventory.services:
            self.notes.append(
                f"no service has up or {conventions.requests} here; is this the Prometheus that scrapes them?"
            )
            inventory = replace(inventory, notes=tuple(self.notes))
        return inventory

    # --- the questions ----------------------------------------------------------------------

    async def _metric_names(self) -> set[str]:
        metrics = self.context.metrics
        wanted = ["up", *CONTAINER_METRICS]
        for name in (metrics.requests,) if metrics.requests else REQUEST_COUNTERS:
            wanted.append(name)
        for name in (metrics.latency,) if metrics.latency else LATENCY_HISTOGRAMS:
            wanted += [f"{name}_bucket", f"{name}_count"]
        answer = await self.prom.label_values(
            "__name__", [f'{{__name__=~"{alternation(wanted)}"}}'], self.at - LOOKBACK_SECONDS, self.at
        )
        return set(answer.data)

    def _metrics(self, names: set[str]) -> MetricConventions:
        cfg = self.context.metrics
        if cfg.latency:
            latency = cfg.latency
            if f"{latency}_bucket" not in names:
                raise ConfigError(
                    f"the latency histogram {latency!r} (metrics.latency) "
                    f"has no {latency}_bucket series in the last hour",
                    where=f"context {self.name!r}",
                    hint=f"set [contexts.{self.name}.metrics] latency to a histogram's name without _bucket",
                )
        else:
            latency = next((h for h in LATENCY_HISTOGRAMS if f"{h}_bucket" in names), LATENCY_HISTOGRAMS[0])
        if cfg.requests:
            requests = cfg.requests
            if requests not in names:
                raise ConfigError(
                    f"the request counter {requests!r} (metrics.requests) has no series in the last hour",
                    where=f"context {self.name!r}",
                    hint=(
                        f"set [contexts.{self.name}.metrics] requests to a counter's name, "
                        "or remove it to count the latency histogram's _count"
                    ),
                )
        else:
            found = next((c for c in REQUEST_COUNTERS if c in names), None)
            if found is None and f"{latency}_count" in names:
                found = f"{latency}_count"  # OpenTelemetry has no request counter: its histogram counts them
                self.notes.append(f"requests are counted from {found} (no request counter)")
            requests = found or REQUEST_COUNTERS[0]
        unit = cfg.latency_unit or unit_from_name(latency)
        if unit is None:
            unit = "seconds"
            self.notes.append(
                f"the unit of {latency} is not in its name: read as seconds; "
                "set metrics.latency_unit if it is milliseconds"
            )
        return MetricConventions(requests=requests, latency=latency, latency_unit=unit)

    async def _labels(self, conventions: MetricConventions, names: set[str]) -> MetricConventions:
        cfg = self.context.labels
        http_metric = conventions.requests if conventions.requests in names else f"{conventions.latency}_bucket"
        metrics = [m for m in ("up", http_metric) if m in names]
        carried = dict(zip(metrics, await asyncio.gather(*(self._label_names(m) for m in metrics))))
        on_any = set().union(*carried.values()) if carried else set()
        on_http = carried.get(http_metric)
        service = cfg.service or "job"
        if cfg.service and carried and cfg.service not in on_any:
            raise self._wrong_label("service", cfg.service, carried)
        chosen = {"service": service}
        for role, configured, spellings in (
            ("endpoint", cfg.endpoint, ENDPOINT_LABELS),
            ("status", cfg.status, STATUS_LABELS),
        ):
            default = getattr(MetricConventions, role)
            if on_http is None:  # no HTTP metric at all: nothing to check or detect
                chosen[role] = configured or default
            elif configured:
                if configured not in on_http:
                    raise self._wrong_label(role, configured, {http_metric: on_http})
                chosen[role] = configured
            else:
                found = next((label for label in spellings if label in on_http), None)
                if found is None:
                    self.notes.append(
                        f"no {role} label on {http_metric} (its labels: {_names(on_http)}); set labels.{role}"
                    )
                chosen[role] = found or default
        return replace(conventions, **chosen)

    async def _label_names(self, metric: str) -> set[str]:
        return set((await self.prom.label_names([metric], self.at - LOOKBACK_SECONDS, self.at)).data)

    async def _rows(self, expr: str) -> list[dict[str, str]]:
        return [dict(s.labels) for s in (await self.prom.query(expr, at=self.at)).data]

    async def _bounds(self, conventions: MetricConventions) -> tuple[float, ...]:
        answer = await self.prom.label_values(
            "le", [f"{conventions.latency}_bucket"], self.at - LOOKBACK_SECONDS, self.at
        )
        bounds = []
        for text in answer.data:
            try:
                bounds.append(float(text) * conventions.seconds_per_unit)
            except ValueError:
                continue
        return tuple(sorted(bounds))

    async def _containers(
        self, names: set[str], pattern: str, services: list[str], pods: list[str]
    ) -> list[ContainerSeries]:
        metrics = [m for m in CONTAINER_METRICS if m in names]
        if not metrics or not services:
            return []
        base = f'__name__=~"{alternation(metrics)}", namespace=~"{pattern}", container!="", container!="POD"'
        by_name = f'count by (__name__, namespace, pod, container) ({{{base}, container=~"{alternation(services)}"}})'
        expr = (
            by_name
            if not pods
            else f'count by (__name__, namespace, pod, container) ({{{base}, pod=~"{alternation(pods)}"}}) or {by_name}'
        )
        rows = await self._rows(expr)
        return [
            ContainerSeries(
                CONTAINER_METRICS[r["__name__"]], r.get("namespace", ""), r.get("pod", ""), r.get("container", "")
            )
            for r in rows
            if r.get("__name__") in CONTAINER_METRICS
        ]

    # --- messages ---------------------------------------------------------------------------

    def _wrong_label(self, role: str, label: str, carried: dict[str, set[str]]) -> ConfigError:
        have = "; ".join(f"{metric} has {_names(labels)}" for metric, labels in carried.items())
        spellings = (
            ENDPOINT_LABELS if role == "endpoint" else STATUS_LABELS if role == "status" else ("job", "service", "app")
        )
        every = set().union(*carried.values())
        likely = next((s for s in spellings if s in every and s != label), None)
        suggestion = f' = "{likely}"' if likely else " to one of those"
        return ConfigError(
            f"the label {label!r} (labels.{role}) is not on the metrics: {have}",
            where=f"context {self.name!r}",
            hint=f"set [contexts.{self.name}.labels] {role}{suggestion}",
        )


def _names(labels: set[str]) -> str:
    shown = sorted(n for n in labels if n != "__name__")
    return ", ".join(shown) if shown else "no labels"


async def _no_rows() -> list[dict[str, str]]:
    return []


async def _no_bounds() -> tuple[float, ...]:
    return ()


class ServiceDirectory:
    """A context's inventory, asked again when it is older than ``ttl`` seconds (a new service
    shows within a minute) or asked about another moment. Shared by every screen of a console
    (one round of discovery, not one per screen); a failed round is not kept, so the next fetch
    asks again."""

    def __init__(
        self,
        prom: PrometheusClient,
        context: ContextConfig,
        context_name: str,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prom = prom
        self.context = context
        self.context_name = context_name
        self.ttl = ttl
        self.clock = clock
        self._cached: tuple[float, float, ServiceInventory] | None = None  # (asked at, about, answer)
        self._lock: asyncio.Lock | None = None

    async def inventory(self, at: float | None = None) -> ServiceInventory:
        """The inventory as of ``at`` (None: now)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = self.clock()
            about = at if at is not None else now
            if self._cached is not None:
                asked, cached_about, answer = self._cached
                if now - asked < self.ttl and abs(about - cached_about) < self.ttl:
                    return answer
            answer = await discover(self.prom, self.context, self.context_name, at=at)
            self._cached = (now, about, answer)
            return answer

    def forget(self) -> None:
        self._cached = None

    def known(self) -> ServiceInventory | None:
        """The last inventory, however old (completion on the command line; no question asked)."""
        return self._cached[2] if self._cached is not None else None


async def discover(
    prom: PrometheusClient, context: ContextConfig, context_name: str, *, at: float | None = None
) -> ServiceInventory:
    """What ``prom`` has for ``context`` as of ``at`` (None: now). Raises ZetaError (ConfigError
    for a configured label or metric the server does not have)."""
    try:
        return await Discovery(prom, context, context_name, at).run()
    except ConfigError as exc:
        if "metrics.latency" in exc.message:
            exc.hint += await _similar_metrics(prom, context.metrics.latency or "", at)
        raise


async def _similar_metrics(prom: PrometheusClient, name: str, at: float | None) -> str:
    end = at if at is not None else time.time()
    every = (await prom.label_values("__name__", [], end - LOOKBACK_SECONDS, end)).data
    histograms = [n[: -len("_bucket")] for n in every if n.endswith("_bucket")]
    close = difflib.get_close_matches(name, histograms, n=3, cutoff=0.5) or histograms[:3]
    return f"; histograms here: {', '.join(close)}" if close else "; this Prometheus has no histogram"
