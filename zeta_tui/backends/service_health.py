"""Ask Prometheus for every Service Health figure at once and fold the answers into rows."""

from __future__ import annotations

import asyncio
import math

from zeta_tui.backends.discovery import query_params
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.models.discovery import ServiceInventory
from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.models.series import QueryResult, Series
from zeta_tui.models.timerange import TimeRange, format_duration
from zeta_tui.querying.promql_catalog import PromCatalog

#: catalog query -> history key; every answer is one series per service (the service label)
_RANGE_QUERIES = {
    "service_up": "up",
    "service_requests": "requests",
    "service_error_ratio": "errors",
    "service_cpu": "cpu",
    "service_memory": "memory",
    "service_memory_limit": "memory_limit",
    "service_disk_io": "disk",
    "service_network_io": "network",
    "service_restarts": "restarts",
}


def _last(values: tuple[float, ...]) -> float | None:
    for v in reversed(values):
        if not math.isnan(v):
            return v
    return None


def _aligned(series: Series, tr: TimeRange, step: float) -> tuple[float, ...]:
    """Values on the full step grid of the range, NaN where Prometheus had no sample."""
    by_t = {round(s.t): s.v for s in series.samples}
    n = round((tr.end - tr.start) / step) + 1
    return tuple(by_t.get(round(tr.start + i * step), math.nan) for i in range(n))


async def fetch_service_health(
    prom: PrometheusClient,
    catalog: PromCatalog,
    inventory: ServiceInventory,
    *,
    time_range: TimeRange,
) -> QueryResult[list[ServiceHealth]]:
    """One row per service of the inventory, worst first. Raises ZetaError if Prometheus fails."""
    services = inventory.names()
    if not services:
        return QueryResult([], ())
    step = time_range.step()
    label = inventory.conventions.service
    params = {
        **query_params(inventory, services),
        "window": time_range.rate_window(),
        "range": format_duration(time_range.seconds),
    }
    names = list(_RANGE_QUERIES)
    # Every query is rendered before any request is made: a render that raises leaves no coroutine unawaited.
    rendered = [catalog.render(n, **params) for n in names]
    restarts_query = catalog.render("service_restarts_total", **params)
    ranges, restarts = await asyncio.gather(
        asyncio.gather(*(prom.query_range(q, time_range.start, time_range.end, step) for q in rendered)),
        prom.query(restarts_query, at=time_range.end),
    )
    warnings: list[str] = []
    history: dict[str, dict[str, tuple[float, ...]]] = {s: {} for s in services}
    for name, result in zip(names, ranges):
        warnings.extend(result.warnings)
        for series in result.data:
            service = series.label(label)
            if service in history:
                history[service][_RANGE_QUERIES[name]] = _aligned(series, time_range, step)
    restarts_total = {s.label(label): s.v for s in restarts.data}
    warnings.extend(restarts.warnings)

    rows = []
    for found in inventory.services:
        h = history[found.name]
        up = _last(h.get("up", ()))
        rows.append(
            ServiceHealth(
                name=found.name,
                status=ServiceStatus.from_up_ratio(up),
                up_ratio=up,
                cpu_cores=_last(h.get("cpu", ())),
                memory_bytes=_last(h.get("memory", ())),
                memory_limit_bytes=_last(h.get("memory_limit", ())),
                disk_bytes_per_s=_last(h.get("disk", ())),
                network_bytes_per_s=_last(h.get("network", ())),
                restarts=restarts_total.get(found.name),
                request_rate=_last(h.get("requests", ())),
                error_ratio=_last(h.get("errors", ())),
                missing=found.missing_text(),
                history={k: v for k, v in h.items() if k != "memory_limit"},
                history_start=time_range.start,
                history_step=step,
            )
        )
    rows.sort(key=ServiceHealth.sort_key)
    return QueryResult(rows, tuple(dict.fromkeys(warnings)))
