"""Ask Prometheus for the API Performance charts and endpoint table in one round."""

from __future__ import annotations

import asyncio

from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.models.performance import ApiPerformance, EndpointStats
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange, format_duration
from zeta_tui.querying.promql_catalog import PromCatalog, alternation

QUANTILES = {"p50": "0.5", "p95": "0.95", "p99": "0.99"}


async def fetch_api_performance(
    prom: PrometheusClient,
    catalog: PromCatalog,
    *,
    services: list[str],
    endpoints_regex: str,
    time_range: TimeRange,
) -> QueryResult[ApiPerformance]:
    step = time_range.step()
    base = {
        "services": alternation(services),
        "endpoints": endpoints_regex or ".*",
        "window": time_range.rate_window(),
        "range": format_duration(time_range.seconds),
    }
    start, end = time_range.start, time_range.end

    def rng(name: str, **extra: str):
        return prom.query_range(catalog.render(name, **base, **extra), start, end, step)

    def inst(name: str, **extra: str):
        return prom.query(catalog.render(name, **base, **extra), at=end)

    jobs = [
        rng("endpoint_request_rate"),
        rng("error_rate_by_status"),
        *(rng("latency_quantile", quantile=q) for q in QUANTILES.values()),
        inst("endpoint_rate_total"),
        inst("endpoint_error_ratio"),
        *(inst("endpoint_latency_quantile", quantile=q) for q in QUANTILES.values()),
    ]
    results = await asyncio.gather(*jobs)
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    rate_series, status_series, *rest = results
    latency_series = rest[:3]
    rate_total, error_ratio, *endpoint_quantiles = rest[3:]

    def by_endpoint(result) -> dict[tuple[str, str], float]:
        return {(s.label("job"), s.label("endpoint")): s.v for s in result.data}

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
    perf = ApiPerformance(
        request_rate=tuple(sorted(rate_series.data, key=lambda s: (s.label("job"), s.label("endpoint")))),
        latency=latency,
        errors_by_status=tuple(sorted(status_series.data, key=lambda s: s.label("status"))),
        endpoints=endpoints,
    )
    return QueryResult(perf, warnings)
