"""`zeta business [--at T] [--range 6h] [--json]`: the Business screen's figures, for people and scripts.

Two halves, each from its own backend (models/business.py says how each figure is computed):
API calls by plan from Prometheus (the seed's ``sum by (plan) (rate(api_calls_total[1h]))`` over
the range, and each plan's share at its end), and from ClickHouse the active tenants (24 h, 7 d,
30 d against the period before), MRR and ARR by plan, the 90-day MRR trend, new and churned
tenants, and the top tenants by usage. ClickHouse's day is the UTC day of --at.

A context with only one of the two sections gets that half, and stderr says what the other
needs. Exit status: 0 every configured half was read; 2 configuration error (neither section,
a bad option); 3 a configured backend could not be read (its half is missing from the output,
its URL and message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from zeta_tui.errors import ConfigError, NotConfigured, ZetaError
from zeta_tui.headless.options import range_ending
from zeta_tui.headless.output import print_figures, utc_stamp
from zeta_tui.headless.table import format_table
from zeta_tui.models.business import Business, CallsByPlan, Revenue

#: exit status when a configured backend could not be read
EXIT_BACKEND_DOWN = 3


def run_business(args: argparse.Namespace) -> int:
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.business import fetch_business
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.loader import load_context
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    time_range = range_ending(args.at, args.range)
    until = datetime.fromtimestamp(time_range.end, UTC).date()
    loaded = load_context(args.config, args.context)
    ctx, name = loaded.context, loaded.name
    if ctx.prometheus is None and ctx.clickhouse is None:
        raise ConfigError(
            f"context {name!r} has neither a prometheus nor a clickhouse section",
            where=str(loaded.path),
            hint=f"add [contexts.{name}.prometheus] (API calls by plan) and/or [contexts.{name}.clickhouse] "
            "(revenue and tenants), or pass --context",
        )
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    prom: Any = (
        PrometheusClient(ctx.prometheus)
        if ctx.prometheus is not None
        else NotConfigured(
            f"context {name!r} has no [prometheus] section: API calls by plan need it",
            hint=f'add [contexts.{name}.prometheus] with url = "http://host:9090"',
        )
    )
    analytics: Any = (
        AnalyticsSource(ctx.clickhouse)
        if ctx.clickhouse is not None
        else NotConfigured(
            f"context {name!r} has no [clickhouse] section: revenue and tenants need it",
            hint=f'add [contexts.{name}.clickhouse] with url = "https://clickhouse:8443" or path = "..."',
        )
    )

    async def main() -> Any:
        try:
            return await fetch_business(prom, catalog, analytics, time_range=time_range, until=until)
        finally:
            if not isinstance(prom, ZetaError):
                await prom.aclose()
            if not isinstance(analytics, ZetaError):
                await analytics.close()

    result = asyncio.run(main())
    figures: Business = result.data
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    code = 0
    for error, url in ((figures.calls_error, getattr(prom, "url", "")), (figures.revenue_error, "")):
        if error is None:
            continue
        print(error.render(), file=sys.stderr)
        if not isinstance(error, NotConfigured):
            code = EXIT_BACKEND_DOWN
            if url and url not in error.render():
                print(f"  Prometheus: {url}", file=sys.stderr)
    print_figures(args.json, lambda: to_json(figures), lambda: to_text(figures))
    return code


def _calls_json(c: CallsByPlan) -> dict[str, Any]:
    return {
        "total_per_second": c.total_per_second,
        "plans": [
            {
                "plan": p.plan,
                "per_second": p.per_second,
                "share": p.share,
                "points": [[t, v] for t, v in p.points],
            }
            for p in c.plans
        ],
    }


def _revenue_json(r: Revenue) -> dict[str, Any]:
    return {
        "day": r.until.isoformat(),
        "note": r.note or None,
        "active_tenants": [
            {
                "window_days": a.days,
                "active": a.active,
                "previous": a.previous,
                "change": a.change,
                "previous_from": a.previous_from.isoformat(),
                "partial": a.partial,
                "data_from": a.first_day.isoformat() if a.first_day else None,
            }
            for a in r.active
        ],
        "mrr_usd": r.mrr_usd,
        "arr_usd": r.arr_usd,
        "tenants": r.tenants,
        "plans": [{"plan": p.plan, "tenants": p.tenants, "mrr_usd": p.mrr_usd, "arr_usd": p.arr_usd} for p in r.plans],
        "mrr_trend": {
            "days": [d.isoformat() for d in r.trend.days],
            "by_plan": {plan: list(v) for plan, v in r.trend.by_plan.items()},
            "total": list(r.trend.total),
        },
        "changes": [
            {
                "change": c.change,
                "day": c.day.isoformat(),
                "tenant_id": c.tenant_id,
                "name": c.name,
                "plan": c.plan,
                "mrr_usd": c.mrr_usd,
            }
            for c in r.changes
        ],
        "top_tenants": [
            {
                "tenant_id": t.tenant_id,
                "name": t.name,
                "plan": t.plan,
                "mrr_usd": t.mrr_usd,
                "ended": t.ended,
                "requests_30d": t.requests,
                "calls_this_month": t.month_calls,
                "quota_calls": t.quota_calls,
                "quota_used_pct": t.quota_used_pct,
            }
            for t in r.top
        ],
    }


def to_json(b: Business) -> dict[str, Any]:
    """The figures as one JSON document (rates per second, shares 0-1, money in USD, days as ISO dates)."""
    return {
        "at": utc_stamp(b.at),
        "range": b.range_label,
        "api_calls_by_plan": None if b.calls is None else _calls_json(b.calls),
        "api_calls_error": None if b.calls_error is None else b.calls_error.message,
        "revenue": None if b.revenue is None else _revenue_json(b.revenue),
        "revenue_error": None if b.revenue_error is None else b.revenue_error.message,
    }


def money(v: float) -> str:
    """$12,345 (whole dollars); $1.2M from a million."""
    return f"${v / 1e6:.2f}M" if abs(v) >= 1e6 else f"${v:,.0f}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} %"


def calls_text(c: CallsByPlan, range_label: str) -> str:
    rows = [[p.plan, f"{p.per_second:.2f}", _pct(None if p.share is None else p.share * 100)] for p in c.plans]
    table = format_table(["PLAN", "CALLS/S", "SHARE"], rows, right=(1, 2))
    return f"API calls by plan (rate over 1h, now; chart over {range_label})\n{table}"


def revenue_text(r: Revenue) -> str:
    active = "  ".join(
        f"{a.label} {a.active} ({a.change:+d} vs {a.previous}{', ' + a.partial_note if a.partial else ''})"
        for a in r.active
    )
    plans = format_table(
        ["PLAN", "TENANTS", "MRR", "ARR"],
        [[p.plan, str(p.tenants), money(p.mrr_usd), money(p.arr_usd)] for p in r.plans],
        right=(1, 2, 3),
    )
    changes = format_table(
        ["CHANGE", "DAY", "TENANT", "NAME", "PLAN", "MRR"],
        [[c.change, c.day.isoformat(), c.tenant_id, c.name, c.plan, money(c.mrr_usd)] for c in r.changes],
        right=(5,),
    )
    top = format_table(
        ["TENANT", "NAME", "PLAN", "MRR", "REQUESTS 30D", "QUOTA USED"],
        [
            [
                t.tenant_id,
                t.name + (" (ended)" if t.ended else ""),
                t.plan or "-",
                money(t.mrr_usd),
                f"{t.requests:,}",
                _pct(t.quota_used_pct),
            ]
            for t in r.top
        ],
        right=(3, 4, 5),
    )
    trend = r.trend.total
    first, last = (trend[0], trend[-1]) if trend else (0.0, 0.0)
    parts = [
        f"Business on {r.until.isoformat()} (UTC): MRR {money(r.mrr_usd)}, ARR {money(r.arr_usd)}, "
        f"{r.tenants} paying tenants; {len(r.new)} new and {len(r.churned)} churned in {len(r.trend.days)} days",
        f"active tenants: {active}",
        f"MRR {money(first)} {len(r.trend.days)} days ago -> {money(last)} now\n{plans}",
        f"new and churned tenants\n{changes}",
        f"top tenants by usage (the seed's 30 days)\n{top}",
    ]
    if r.note:
        parts.insert(1, f"note: {r.note}")
    return "\n\n".join(parts)


def to_text(b: Business) -> str:
    parts = []
    if b.revenue is not None:
        parts.append(revenue_text(b.revenue))
    if b.calls is not None:
        parts.append(calls_text(b.calls, b.range_label))
    return "\n\n".join(parts) if parts else "nothing could be read (see stderr)"
