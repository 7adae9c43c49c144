"""Ask Prometheus for the API Performance charts and endpoint table in one round."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from zeta_tui.backends.discovery import query_params
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.models.discovery import ServiceInventory
from zeta_tui.models.performance import ApiPerformance, EndpointStats
from zeta_tui.models.series import InstantSample, QueryResult, Series
from zeta_tui.models.timerange import TimeRange, format_duration
from zeta_tui.querying.promql_catalog import PromCatalog

QUANTILES = {"p50": "0.5", "p95": "0.95", "p99": "0.99"}


async def fetch_api_performance(
    prom: PrometheusClient,
    catalog: PromCatalog,
    inventory: ServiceInventory,
    *,
    services: list[str],
    endpoints_regex: str,
    time_range: TimeRange,
) -> QueryResult[ApiPerformance]:
    """Charts and the endpoint table for ``services`` (names the inventory's service label holds)."""
    step = time_range.step()
    conv = inventory.conventions
    base = {
        **query_params(inventory, services),
        "endpoints": endpoints_regex or ".*",
        "window": time_range.rate_window(),
        "range": format_duration(time_range.seconds),
    }
    start, end = time_range.start, time_range.end

    def rng(name: str, **extra: str) -> Coroutine[Any, Any, QueryResult[list[Series]]]:
        return prom.query_range(catalog.render(name, **base, **extra), start, end, step)

    def inst(name: str, **extra: str) -> Coroutine[Any, Any, QueryResult[list[InstantSample]]]:
        return prom.query(catalog.render(name, **base, **extra), at=end)

    ranges, instants = await asyncio.gather(
        asyncio.gather(
            rng("endpoint_request_rate"),
            rng("error_rate_by_status"),
            *(rng("latency_quantile", quantile=q) for q in QUANTILES.values()),
        ),
        asyncio.gather(
            inst("endpoint_rate_total"),
            inst("endpoint_error_ratio"),
            *(inst("endpoint_latency_quantile", quantile=q) for q in QUANTILES.values()),
        ),
    )
    said = [r.warnings for r in ranges] + [r.warnings for r in instants]
    warnings = tuple(dict.fromkeys(w for ws in said for w in ws))
    rate_series, status_series, *latency_series = ranges
    rate_total, error_ratio, *endpoint_quantiles = instants

    def by_endpoint(result: QueryResult[list[InstantSample]]) -> dict[tuple[str, str], float]:
        return {(s.label(conv.service), s.label(conv.endpoint)): s.v for s in result.data}

    rates = by_endpoint(rate_total)
    errors = by_endpoint(error_ratio)
    quantiles = [by_endpoint(r) for r in endpoint_quantiles]
    keys = sorted(set(rates) | set(errors) | set().union(*quantiles))
    endpoints = tuple(
        EndpointStats(
            service=job,
            endpoint=endpoint,
            request_rate=rates.get((job, endpoint)),
            p50=quantiles[0].get((job, endpoint)),
            p95=quantiles[1].get((job, endpoint)),
            p99=quantiles[2].get((job, endpoint)),
            error_ratio=errors.get((job, endpoint)),
        )
        for job, endpoint in keys
    )
    latency = {name: (r.data[0] if r.data else None) for name, r in zip(QUANTILES, latency_series)}
    # The charts' series carry the domain's words (service, endpoint, status), whatever the
    # context's labels are called.
    rate_lines = [
        Series({"service": s.label(conv.service), "endpoint": s.label(conv.endpoint)}, s.samples)
        for s in rate_series.data
    ]
    status_lines = [Series({"status": s.label(conv.status)}, s.samples) for s in status_series.data]
    perf = ApiPerformance(
        request_rate=tuple(sorted(rate_lines, key=lambda s: (s.label("service"), s.label("endpoint")))),
        latency=latency,
        errors_by_status=tuple(sorted(status_lines, key=lambda s: s.label("status"))),
        endpoints=endpoints,
    )
    return QueryResult(perf, warnings)
