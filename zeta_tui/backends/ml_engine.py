"""Ask Prometheus every ML Engine question at once (queries/promql/ml_*.promql) and fold the answers.

The screen asks for the charts too (``charts=True``): the same catalog queries over the range with
a step (query_range). The cache and ANN charts go in the same gather as the instant questions;
the quality chart is asked once they are in, for the worst CHART_TENANTS only (which the instant
answers name): asking every tenant's series over the range would grow with the tenants (5,000
tenants at 60 points are 300,000 samples, about 10 MB of JSON) for a chart that draws five.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.models.ml_engine import (
    ANN_QUANTILES,
    CHART_TENANTS,
    MlCharts,
    MlEngine,
    quality_lines,
    served_per_tenant,
    tenant_quality,
    training_jobs,
)
from zeta_tui.models.series import InstantSample, QueryResult, Series
from zeta_tui.models.timerange import TimeRange, format_duration
from zeta_tui.querying.promql_catalog import PromCatalog, alternation

#: the label every per-tenant ML series carries (the seed's and the world's)
TENANT = "tenant_id"

_PER_TENANT = ("ml_training_last_start", "ml_training_last_duration", "ml_training_last_success", "ml_quality_median")


def _by_tenant(samples: list[InstantSample]) -> dict[str, float]:
    return {s.label(TENANT): s.v for s in samples if s.label(TENANT)}


def _scalar(samples: list[InstantSample]) -> float | None:
    return samples[0].v if samples else None


def _first(series: list[Series]) -> Series | None:
    return series[0] if series else None


async def fetch_ml_engine(
    prom: PrometheusClient, catalog: PromCatalog, *, time_range: TimeRange, charts: bool = False
) -> QueryResult[MlEngine]:
    """Every figure as of ``time_range.end``; the range's figures over the whole range; with
    ``charts``, the charts over the range at ``time_range.step()``.

    Raises ZetaError (BackendUnavailable, QueryError, ...) if Prometheus fails any question.
    """
    at = time_range.end
    span = format_duration(time_range.seconds)
    # Every query is rendered before any request: a render that raises leaves no coroutine unawaited.
    per_tenant = [catalog.render(n) for n in _PER_TENANT]
    status_q = catalog.render("ml_training_status")
    quality_q = catalog.render("ml_quality_by_version")
    cache_q = catalog.render("ml_cache_hit_ratio", range=span)
    served_q = catalog.render("ml_recommendations_served", range=span)
    ann_qs = [catalog.render("ml_ann_latency_quantile", quantile=repr(q), range=span) for q in ANN_QUANTILES]
    queries = [status_q, quality_q, cache_q, served_q, *per_tenant, *ann_qs]
    step, window = time_range.step(), time_range.rate_window()
    chart_qs = (
        [
            catalog.render("ml_cache_hit_ratio", range=window),
            *(catalog.render("ml_ann_latency_quantile", quantile=repr(q), range=window) for q in ANN_QUANTILES),
        ]
        if charts
        else []
    )
    instants, ranges = await asyncio.gather(
        asyncio.gather(*(prom.query(q, at=at) for q in queries)),
        asyncio.gather(*(prom.query_range(q, time_range.start, at, step) for q in chart_qs)),
    )
    status, quality, cache, served, *rest = instants
    starts, durations, successes, median = (_by_tenant(a.data) for a in rest[: len(_PER_TENANT)])
    ann = rest[len(_PER_TENANT) :]

    jobs = training_jobs(
        [(s.label(TENANT), s.label("status"), s.label("reason")) for s in status.data if s.label(TENANT)],
        starts,
        durations,
        successes,
        now=at,
    )
    quality_rows = tenant_quality(
        [(s.label(TENANT), s.label("model_version"), s.v) for s in quality.data if s.label(TENANT)], median
    )
    figures = MlEngine(
        at=at,
        range_label=time_range.label or span,
        training=tuple(jobs),
        quality=tuple(quality_rows),
        cache_hit_ratio=_scalar(cache.data),
        ann_latency_s={q: _scalar(a.data) for q, a in zip(ANN_QUANTILES, ann)},
        served=tuple(served_per_tenant(_by_tenant(served.data))),
    )
    said = [a.warnings for a in instants] + [r.warnings for r in ranges]
    if charts:
        cache_range, *ann_ranges = ranges
        worst = [q.tenant_id for q in quality_rows[:CHART_TENANTS]]
        quality_series: list[Series] = []
        if worst:
            of_worst = catalog.render("ml_quality_of_tenants", tenants=alternation(worst))
            quality_range = await prom.query_range(of_worst, time_range.start, at, step)
            quality_series, said = quality_range.data, [*said, quality_range.warnings]
        figures = replace(
            figures,
            charts=MlCharts(
                step_s=step,
                window=window,
                quality=tuple(quality_lines(quality_series, worst, tenant_label=TENANT)),
                cache_hit_ratio=_first(cache_range.data),
                ann_latency_s={q: _first(a.data) for q, a in zip(ANN_QUANTILES, ann_ranges)},
            ),
        )
    warnings = [w for ws in said for w in ws]
    return QueryResult(figures, tuple(dict.fromkeys(warnings)))
