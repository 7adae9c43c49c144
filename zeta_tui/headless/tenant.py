"""`zeta tenant ID [--days N] [--at T] [--range 1h] [--json]`: the Tenant screen's figures.

Two halves, as on the screen (models/tenant.py says how each figure is computed):
- ClickHouse: the tenant's endpoints over ``--days`` whole UTC days to today (default 7), quota
  this month, cost against MRR, SLA against its plan;
- Prometheus: NDCG@10 now against its 7-day median, the latest training job, data freshness
  (STALE over TenantDataStale's 1 h), recommendations served over ``--range`` (default 1h),
  and its open alerts (Alertmanager's, or Prometheus's firing ALERTS without one).
A half whose backend the context lacks says so and what to add; a half whose backend fails
says which and why. The text and the JSON carry both halves' figures, or their errors.

Exit status, as `zeta ml`: 0 all well; 1 the latest training job failed, quality dropped, the
data is stale or an alert is firing; 2 configuration error (also: neither backend configured,
or neither knows the tenant); 3 a configured backend could not be read (its URL and message on
stderr), which wins over 1: with a half unread, whether all is well is unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from zeta_tui.errors import ConfigError, NotConfigured, ZetaError
from zeta_tui.headless.ml import job_json
from zeta_tui.headless.options import range_ending
from zeta_tui.headless.output import print_figures, utc_stamp
from zeta_tui.headless.table import format_table
from zeta_tui.models.tenant import DATA_STALE_AFTER_S, TenantMl, TenantReport, TenantUsage
from zeta_tui.models.timerange import format_age

EXIT_FAILING = 1
EXIT_BACKEND_DOWN = 3
#: the example the "add this section" hints give, as the screens word them
EXAMPLES = {
    "prometheus": 'with url = "http://host:9090"',
    "clickhouse": 'with path = "..." (an embedded store) or url = "https://clickhouse:8443"',
}


def not_configured(context: str, section: str) -> NotConfigured:
    return NotConfigured(
        f"context {context!r} has no [{section}] section",
        hint=f"add [contexts.{context}.{section}] {EXAMPLES[section]} to the config file",
    )


def run_tenant(args: argparse.Namespace) -> int:
    from zeta_tui.backends.alertmanager import AlertmanagerClient
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.backends.tenant import fetch_tenant
    from zeta_tui.config.loader import load_context
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    tenant = args.tenant_id.strip()
    if not tenant:
        raise ConfigError("the tenant id is empty", hint="e.g. zeta tenant tenant_007")
    if args.days < 1:
        raise ConfigError(f"--days {args.days}: at least 1", hint="e.g. --days 7")
    time_range = range_ending(args.at, args.range)
    loaded = load_context(args.config, args.context)
    ctx = loaded.context
    if ctx.prometheus is None and ctx.clickhouse is None:
        raise ConfigError(
            f"context {loaded.name!r} has neither a [prometheus] nor a [clickhouse] section",
            where=str(loaded.path),
            hint=f"add [contexts.{loaded.name}.prometheus] {EXAMPLES['prometheus']} "
            f"and/or [contexts.{loaded.name}.clickhouse] {EXAMPLES['clickhouse']}",
        )
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    prom = PrometheusClient(ctx.prometheus) if ctx.prometheus is not None else None
    am = AlertmanagerClient(ctx.alertmanager) if ctx.alertmanager is not None and prom is not None else None
    source = AnalyticsSource(ctx.clickhouse) if ctx.clickhouse is not None else None
    until = datetime.fromtimestamp(time_range.end, tz=UTC).date()
    missing = {s: not_configured(loaded.name, s) for s in ("prometheus", "clickhouse")}

    async def main() -> Any:
        try:
            return await fetch_tenant(
                tenant,
                prom=prom,
                am=am,
                source=source,
                catalog=catalog,
                time_range=time_range,
                days=args.days,
                until=until,
                missing=missing,
            )
        finally:
            for client in (prom, am):
                if client is not None:
                    await client.aclose()
            if source is not None:
                await source.close()

    result = asyncio.run(main())
    report: TenantReport = result.data
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    down = [e for e in (report.ml_error, report.usage_error) if e is not None and not isinstance(e, NotConfigured)]
    for error in down:
        print(error.render(), file=sys.stderr)
    if not down and not _known(report):
        raise ConfigError(
            f"no data for tenant {tenant!r}: Prometheus has no series with tenant_id={tenant!r} and ClickHouse no "
            "usage for it",
            hint="check the id (`zeta sql -n top_tenants` lists them; the Tenants screen too)",
        )
    print_figures(args.json, lambda: to_json(report), lambda: to_text(report))
    if report.ml is not None and report.ml.alerts_error:
        print(f"Alertmanager could not be read: {report.ml.alerts_error}", file=sys.stderr)
    if down or (report.ml is not None and report.ml.alerts_error):
        return EXIT_BACKEND_DOWN
    return 0 if report.ml is None or report.ml.healthy else EXIT_FAILING


def _known(report: TenantReport) -> bool:
    usage = report.usage
    has_usage = usage is not None and bool(usage.endpoints or usage.quota or usage.cost or usage.sla)
    return has_usage or (report.ml is not None and report.ml.known)


def _error_json(error: ZetaError | None) -> dict[str, str] | None:
    if error is None:
        return None
    kind = "not_configured" if isinstance(error, NotConfigured) else "unavailable"
    return {"kind": kind, "message": error.message, "where": error.where, "hint": error.hint}


def _num(v: Any) -> Any:
    return float(v) if v is not None else None


def usage_json(u: TenantUsage) -> dict[str, Any]:
    """The ClickHouse half: counts as integers, rates in percent, money in USD."""
    return {
        "days": u.days,
        "until": u.until.isoformat(),
        "requests": u.requests,
        "errors": u.errors,
        "endpoints": [
            {
                "endpoint": r["endpoint"],
                "method": r["method"],
                "requests": int(r["requests"]),
                "errors": int(r["errors"]),
                "error_rate_pct": _num(r["error_rate_pct"]),
                "avg_ms": _num(r["avg_ms"]),
                "p95_ms": _num(r["p95_ms"]),
                "bytes": int(r["bytes"]),
            }
            for r in u.endpoints
        ],
        "quota": None
        if u.quota is None
        else {k: _num(u.quota[k]) for k in ("calls", "monthly_quota_calls", "used_pct", "projected_pct")},
        "cost": None
        if u.cost is None
        else {k: _num(u.cost[k]) for k in ("cost_usd", "monthly_cost_usd", "cost_per_call_usd", "mrr_usd")},
        "sla": None
        if u.sla is None
        else {
            "availability_pct": _num(u.sla["availability_pct"]),
            "target_pct": _num(u.sla["target_pct"]),
            "met": bool(int(u.sla["met"])),
        },
        "notes": [n for n in u.notes if n],
    }


def ml_json(m: TenantMl) -> dict[str, Any]:
    """The Prometheus half: times RFC 3339 UTC, durations in seconds, ratios 0-1."""
    q, j = m.quality, m.training
    return {
        "at": utc_stamp(m.at),
        "range": m.range_label,
        "healthy": m.healthy,
        "problems": m.problems(),
        "quality": None
        if q is None
        else {
            "metric": "ndcg_10",
            "value": q.ndcg,
            "model_version": q.model_version or None,
            "median_7d": q.median_7d,
            "drop": q.drop,
            "dropped": q.dropped,
        },
        "training": None if j is None else job_json(j),
        "freshness": {
            "last_ingest": utc_stamp(m.last_ingest),
            "age_seconds": m.data_age_s,
            "stale_after_seconds": DATA_STALE_AFTER_S,
            "stale": m.stale,
        },
        "recommendations_served_per_second": m.served_per_second,
        "alerts_source": m.alerts_source,
        "alerts_error": m.alerts_error or None,
        "alerts": [
            {"alertname": a.name, "severity": a.severity or None, "state": a.state, "since": utc_stamp(a.since)}
            for a in m.alerts
        ],
    }


def to_json(r: TenantReport) -> dict[str, Any]:
    return {
        "tenant_id": r.tenant_id,
        "prometheus": ml_json(r.ml) if r.ml is not None else None,
        "prometheus_error": _error_json(r.ml_error),
        "clickhouse": usage_json(r.usage) if r.usage is not None else None,
        "clickhouse_error": _error_json(r.usage_error),
    }


def _why(error: ZetaError | None, half: str) -> str:
    if error is None:
        return f"{half}: no answer"
    if isinstance(error, NotConfigured):
        return f"{half}: not shown: {error.message} ({error.hint})"
    return f"{half}: could not be read: {error.message}" + (f" ({error.where})" if error.where else "")


def ml_text(m: TenantMl) -> str:
    q, j = m.quality, m.training
    lines = []
    if q is None or q.ndcg is None:
        lines.append("quality: no NDCG@10 series")
    else:
        median = "-" if q.median_7d is None else f"{q.median_7d:.3f}"
        change = "" if q.drop is None else f" ({-q.drop * 100:+.1f} %)"
        lines.append(
            f"quality: NDCG@10 {q.ndcg:.3f} ({q.model_version or 'no version label'}), 7-day median {median}{change}"
            + ("  DROP" if q.dropped else "")
        )
    if j is None:
        lines.append("training: no training job series")
    else:
        took = (
            f"running for {format_age(j.running_for_s)}"
            if j.running_for_s is not None
            else f"took {format_age(j.duration_s)}"
            if j.duration_s is not None
            else ""
        )
        reason = f" ({j.reason})" if j.reason else ""
        failing = f", failing for {format_age(j.failing_for_s)}" if j.failing_for_s is not None else ""
        lines.append(f"training: {j.status}{reason}, started {utc_stamp(j.started) or '-'} {took}{failing}".rstrip())
    age = m.data_age_s
    if age is None:
        lines.append("data: no ingest timestamp")
    else:
        limit = format_age(DATA_STALE_AFTER_S)
        stale = "  STALE" if m.stale else ""
        lines.append(f"data: newest {format_age(age)} old ({utc_stamp(m.last_ingest)}), stale after {limit}{stale}")
    served = "-" if m.served_per_second is None else f"{m.served_per_second:.2f}/s"
    lines.append(f"recommendations served over {m.range_label}: {served}")
    source = "Alertmanager" if m.alerts_source == "alertmanager" else "Prometheus ALERTS (no Alertmanager)"
    table = format_table(
        ["ALERT", "SEVERITY", "STATE", "SINCE"],
        [[a.name, a.severity or "-", a.state, utc_stamp(a.since) or "-"] for a in m.alerts],
    )
    if m.alerts_error:
        lines.append(f"alerts ({source}): unknown: {m.alerts_error}")
    else:
        lines.append(f"alerts ({source}): " + (f"{len(m.alerts)} open\n{table}" if m.alerts else "none open"))
    return "\n".join(lines)


def usage_text(u: TenantUsage) -> str:
    requests, errors = u.requests, u.errors
    rate = f"{errors / requests * 100:.2f} %" if requests else "-"
    lines = [f"usage over {u.days} day(s) to {u.until.isoformat()}: {requests:,} requests, {rate} errors (4xx+5xx)"]
    if u.quota is not None:
        q = u.quota
        lines.append(
            f"quota: {int(q['calls']):,} of {int(q['monthly_quota_calls']):,} this month "
            f"({float(q['used_pct']):.0f} %, {float(q['projected_pct']):.0f} % projected)"
        )
    if u.cost is not None:
        c = u.cost
        lines.append(
            f"cost: ${float(c['cost_usd']):,.2f} over the window, ${float(c['monthly_cost_usd']):,.2f} a month "
            f"against ${float(c['mrr_usd']):,.0f} MRR"
        )
    if u.sla is not None:
        s = u.sla
        met = "met" if int(s["met"]) else "MISSED"
        lines.append(f"SLA: {float(s['availability_pct']):.3f} % available, target {float(s['target_pct']):g} %: {met}")
    table = format_table(
        ["ENDPOINT", "METHOD", "REQUESTS", "ERRORS", "P95"],
        [
            [
                str(r["endpoint"]),
                str(r["method"]),
                f"{int(r['requests']):,}",
                f"{float(r['error_rate_pct'] or 0):.2f} %",
                f"{float(r['p95_ms']):.0f} ms",
            ]
            for r in u.endpoints
        ],
        right=(2, 3, 4),
    )
    lines.append(table)
    notes = [n for n in u.notes if n]
    if notes:
        lines.append("note: " + "; ".join(dict.fromkeys(notes)))
    return "\n".join(lines)


def to_text(r: TenantReport) -> str:
    head = f"tenant {r.tenant_id}"
    if r.ml is not None:
        problems = r.ml.problems()
        head += f" at {utc_stamp(r.ml.at)}: " + (", ".join(problems) if problems else "no problem")
    prom = "Prometheus (model, data, alerts)\n" + ml_text(r.ml) if r.ml is not None else _why(r.ml_error, "Prometheus")
    ch = (
        "ClickHouse (usage, quota, cost, SLA)\n" + usage_text(r.usage)
        if r.usage is not None
        else _why(r.usage_error, "ClickHouse")
    )
    return "\n\n".join([head, prom, ch])
