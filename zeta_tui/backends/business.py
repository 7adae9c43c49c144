"""Ask both of the Business screen's backends everything at once and fold the answers (models/business.py).

One gather: the Prometheus half (the seed's ``sum by (plan) (rate(api_calls_total[1h]))`` as a range
query over the screen's range and as an instant query at its end) and the ClickHouse half (five
named queries of queries/clickhouse/catalog/business_*.sql, side by side). Each half fails on its
own: its error goes in the figures and the other half is still drawn. A backend the context lacks
is passed as the error saying so (NotConfigured with the section to add).
"""

from __future__ import annotations

import asyncio
from datetime import date

from zeta_tui.backends.analytics import AnalyticsSource
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.errors import ZetaError
from zeta_tui.models.business import (
    TOP_LIMIT,
    TREND_DAYS,
    Business,
    CallsByPlan,
    Revenue,
    active_tenants,
    calls_by_plan,
    mrr_trend,
    plan_revenue,
    tenant_changes,
    top_tenants,
)
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying.promql_catalog import PromCatalog
from zeta_tui.querying.usage_sources import merged_note

#: the label api_calls_total carries its plan in (the seed's and the world's)
PLAN = "plan"
CALLS_QUERY = "business_api_calls_by_plan"


async def fetch_calls(prom: PrometheusClient, catalog: PromCatalog, time_range: TimeRange) -> QueryResult[CallsByPlan]:
    """Calls per plan over the range (a line each) and at its end; ZetaError if Prometheus fails."""
    expr = catalog.render(CALLS_QUERY)
    now, lines = await asyncio.gather(
        prom.query(expr, at=time_range.end),
        prom.query_range(expr, time_range.start, time_range.end, time_range.step()),
    )
    figures = calls_by_plan(
        {s.label(PLAN): s.v for s in now.data},
        {s.label(PLAN): tuple((p.t, p.v) for p in s.samples) for s in lines.data},
    )
    return QueryResult(figures, tuple(dict.fromkeys((*now.warnings, *lines.warnings))))


async def fetch_revenue(source: AnalyticsSource, until: date) -> Revenue:
    """The five business queries as of the UTC day ``until``; ZetaError (SchemaMismatch, ...) if one fails."""
    active, plans, trend, changes, top = await asyncio.gather(
        source.named("business_active_tenants", {"until": until}, today=until),
        source.named("business_revenue_by_plan", {"until": until}, today=until),
        source.named("business_mrr_trend", {"days": TREND_DAYS, "until": until}, today=until),
        source.named("business_tenant_changes", {"days": TREND_DAYS, "until": until}, today=until),
        source.named("business_top_tenants", {"until": until, "limit": TOP_LIMIT}, today=until),
    )
    return Revenue(
        until=until,
        active=active_tenants(active.records(), until),
        plans=plan_revenue(plans.records()),
        trend=mrr_trend(trend.records(), until, TREND_DAYS),
        changes=tenant_changes(changes.records()),
        top=top_tenants(top.records()),
        note=merged_note([active.note, top.note]),
    )


async def fetch_business(
    prom: PrometheusClient | ZetaError,
    catalog: PromCatalog,
    analytics: AnalyticsSource | ZetaError,
    *,
    time_range: TimeRange,
    until: date,
) -> QueryResult[Business]:
    """Both halves at once; never raises a half's ZetaError (it is in the figures)."""

    async def calls() -> QueryResult[CallsByPlan] | ZetaError:
        if isinstance(prom, ZetaError):
            return prom
        try:
            return await fetch_calls(prom, catalog, time_range)
        except ZetaError as exc:
            return exc

    async def revenue() -> Revenue | ZetaError:
        if isinstance(analytics, ZetaError):
            return analytics
        try:
            return await fetch_revenue(analytics, until)
        except ZetaError as exc:
            return exc

    got_calls, got_revenue = await asyncio.gather(calls(), revenue())
    figures = Business(
        at=time_range.end,
        range_label=time_range.label,
        start=time_range.start,
        calls=None if isinstance(got_calls, ZetaError) else got_calls.data,
        calls_error=got_calls if isinstance(got_calls, ZetaError) else None,
        revenue=None if isinstance(got_revenue, ZetaError) else got_revenue,
        revenue_error=got_revenue if isinstance(got_revenue, ZetaError) else None,
    )
    warnings = () if isinstance(got_calls, ZetaError) else got_calls.warnings
    return QueryResult(figures, warnings)
