"""Ask every question about one tenant at once and fold the answers (models/tenant.py).

The Prometheus half is one gather of queries/promql/tenant_*.promql (and Alertmanager's alerts
for the tenant when the context has one); the ClickHouse half is one gather of the analytics
catalog's queries. ``fetch_tenant`` runs both halves together; a half whose backend is missing
or fails carries its error, and the other half is still shown. The Tenant screen and
`zeta tenant` call ``fetch_tenant``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from zeta_tui.errors import ZetaError
from zeta_tui.models.alerts import Alert
from zeta_tui.models.series import InstantSample, QueryResult, Series
from zeta_tui.models.tenant import (
    TenantAlert,
    TenantMl,
    TenantReport,
    TenantUsage,
    Trend,
    alert_from_labels,
    mine,
    ndcg_trends,
    quality_of,
    sort_alerts,
    training_of,
)
from zeta_tui.models.timerange import TimeRange, format_duration
from zeta_tui.querying.promql_catalog import PromCatalog

#: days of the ClickHouse latency trend
TREND_DAYS = 30


def _scalar(samples: list[InstantSample]) -> float | None:
    v = samples[0].v if samples else None
    return v if v is not None and math.isfinite(v) else None


def _grid(time_range: TimeRange, step: float) -> tuple[float, ...]:
    n = int((time_range.end - time_range.start) // step)
    return tuple(time_range.start + i * step for i in range(n + 1))


def _am_alert(a: Alert) -> TenantAlert:
    if a.is_silenced:
        state = "silenced"
    elif a.is_inhibited:
        state = "inhibited"
    elif a.is_muted:
        state = "muted"
    else:
        state = "firing"
    return alert_from_labels(a.labels, a.annotations, state, a.starts_at or None, "alertmanager")


async def fetch_tenant_ml(
    prom: Any, catalog: PromCatalog, tenant: str, *, time_range: TimeRange, am: Any = None
) -> QueryResult[TenantMl]:
    """The Prometheus half as of ``time_range.end``, the rates and charts over ``time_range``.

    Raises ZetaError if Prometheus (or Alertmanager, when given) fails any question.
    """
    at = time_range.end
    span = format_duration(time_range.seconds)
    step = time_range.step()
    window = time_range.rate_window()
    # Every query is rendered before any request: a render that raises leaves no coroutine unawaited.
    quality_q = catalog.render("tenant_quality", tenant=tenant)
    median_q = catalog.render("tenant_quality_median", tenant=tenant)
    training_q = catalog.render("tenant_training", tenant=tenant)
    ingest_q = catalog.render("tenant_data_last_ingest", tenant=tenant)
    served_q = catalog.render("tenant_recommendations_served", tenant=tenant, range=span)
    trend_q = catalog.render("tenant_recommendations_served", tenant=tenant, range=window)
    alerts_q = catalog.render("tenant_alerts_firing", tenant=tenant)

    async def alerts() -> Any:
        if am is None:
            return await prom.query(alerts_q, at=at)
        try:
            return await am.alerts([f'tenant_id="{tenant}"'])
        except ZetaError as exc:  # Alertmanager down: the alerts are unknown, the rest still stands
            return exc

    answers = await asyncio.gather(
        prom.query(quality_q, at=at),
        prom.query(median_q, at=at),
        prom.query(training_q, at=at),
        prom.query(ingest_q, at=at),
        prom.query(served_q, at=at),
        prom.query_range(quality_q, time_range.start, time_range.end, step),
        prom.query_range(trend_q, time_range.start, time_range.end, step),
        alerts(),
    )
    quality, median, training, ingest, served, ndcg_range, trend_range, alert_answer = answers
    alerts_error = ""
    if isinstance(alert_answer, ZetaError):
        found: list[TenantAlert] = []
        alerts_error = f"{alert_answer.title}: {alert_answer.message}" + (
            f" ({alert_answer.where})" if alert_answer.where else ""
        )
    elif am is not None:
        found = [_am_alert(a) for a in alert_answer]
    else:
        found = [
            alert_from_labels(s.labels, {}, "firing", None, "prometheus")
            for s in alert_answer.data
            if s.label("tenant_id") == tenant
        ]
    xs = _grid(time_range, step)
    ndcg_series: list[Series] = list(ndcg_range.data)
    trend_series: list[Series] = list(trend_range.data)
    figures = TenantMl(
        tenant_id=tenant,
        at=at,
        range_label=time_range.label or span,
        quality=quality_of(tenant, [(s.label("model_version"), s.v) for s in quality.data], _scalar(median.data)),
        ndcg=ndcg_trends([(s.label("model_version"), [(p.t, p.v) for p in s.samples]) for s in ndcg_series], xs),
        training=training_of(tenant, [(s.label("__name__"), s.labels, s.v) for s in training.data], now=at),
        last_ingest=_scalar(ingest.data),
        served_per_second=_scalar(served.data),
        served_trend=(
            Trend("recs/s", xs, tuple({p.t: p.v for p in trend_series[0].samples}.get(x, math.nan) for x in xs))
            if trend_series
            else None
        ),
        alerts=sort_alerts(found),
        alerts_source="alertmanager" if am is not None else "prometheus",
        alerts_error=alerts_error,
    )
    prom_answers = answers[:-1] if am is not None else answers  # Alertmanager's answer is a plain list
    warnings = [w for a in prom_answers for w in a.warnings]
    return QueryResult(figures, tuple(dict.fromkeys(warnings)))


async def fetch_tenant_usage(source: Any, tenant: str, *, days: int, until: date) -> TenantUsage:
    """The ClickHouse half: five catalog queries at once (the tenant's endpoints and latency trend,
    the quota, cost and SLA rows of every tenant, of which its own)."""
    window = {"days": days, "until": until}
    endpoints, trend, quota, cost, sla = await asyncio.gather(
        source.named("tenant_usage", {"tenant": tenant, **window}, today=until),
        source.named("latency_trend", {"tenant": tenant, "days": TREND_DAYS, "until": until}, today=until),
        source.named("quota_utilization", {"until": until}, today=until),
        source.named("cost_per_tenant", window, today=until),
        source.named("sla_compliance", window, today=until),
    )
    return TenantUsage(
        days,
        until,
        tuple(endpoints.records()),
        tuple(trend.records()),
        mine(quota.records(), tenant),
        mine(cost.records(), tenant),
        mine(sla.records(), tenant),
        (endpoints.note, trend.note, quota.note, sla.note),
    )


def trend_days(until: date) -> list[date]:
    """The days of the latency trend, oldest first."""
    first = until - timedelta(days=TREND_DAYS - 1)
    return [first + timedelta(days=i) for i in range(TREND_DAYS)]


async def fetch_tenant(
    tenant: str,
    *,
    prom: Any,
    am: Any,
    source: Any,
    catalog: PromCatalog,
    time_range: TimeRange,
    days: int,
    until: date,
    missing: Mapping[str, ZetaError],
) -> QueryResult[TenantReport]:
    """Both halves at once. A backend that is None gives ``missing[name]`` (why it is absent:
    NotConfigured, or the error it failed to start with); one that fails gives its error. Anything
    but a ZetaError is a bug and is raised."""

    async def ml() -> QueryResult[TenantMl]:
        if prom is None:
            raise missing["prometheus"]
        return await fetch_tenant_ml(prom, catalog, tenant, time_range=time_range, am=am)

    async def usage() -> TenantUsage:
        if source is None:
            raise missing["clickhouse"]
        return await fetch_tenant_usage(source, tenant, days=days, until=until)

    ml_answer, usage_answer = await asyncio.gather(ml(), usage(), return_exceptions=True)
    for answer in (ml_answer, usage_answer):
        if isinstance(answer, BaseException) and not isinstance(answer, ZetaError):
            raise answer
    report = TenantReport(
        tenant,
        usage=None if isinstance(usage_answer, BaseException) else usage_answer,
        usage_error=usage_answer if isinstance(usage_answer, ZetaError) else None,
        ml=None if isinstance(ml_answer, BaseException) else ml_answer.data,
        ml_error=ml_answer if isinstance(ml_answer, ZetaError) else None,
    )
    warnings = () if isinstance(ml_answer, BaseException) else ml_answer.warnings
    return QueryResult(report, warnings)
