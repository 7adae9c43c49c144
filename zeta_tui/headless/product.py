"""`zeta product funnel|retention|ab [--tenant T] [--days N] [--until DATE] [--json]`: the Product
screen's figures, for people and scripts.

One fetch (backends/product.py) and one model (models/product.py), the screen's: the figures are
the same as on `:product`. Without --tenant, the tenant with the most served recommendations in
the window. ``ab`` prints the CTR of each version per day and the A/B verdict of the two most
recent versions (the two whose first served recommendation in the window is the latest).

Exit status: 0 read; 2 configuration error (no [clickhouse] section, a bad option); 3 ClickHouse
could not be read (its message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from typing import Any

from zeta_tui.errors import ConfigError, ParamError, ZetaError
from zeta_tui.headless.output import print_figures
from zeta_tui.headless.table import format_table
from zeta_tui.models.product import Product

#: exit status when ClickHouse could not be read
EXIT_BACKEND_DOWN = 3
WHAT = ("funnel", "retention", "ab")


def _until(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--until {text!r} is not a date", hint="write it as YYYY-MM-DD, e.g. --until 2026-02-10"
        ) from None


def run_product(args: argparse.Namespace) -> int:
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.product import fetch_product
    from zeta_tui.config.loader import load_context

    if not 1 <= args.days <= 366:
        raise ConfigError(f"--days {args.days} is out of range", hint="1 to 366 UTC days, e.g. --days 14")
    until = _until(args.until)
    loaded = load_context(args.config, args.context)
    if loaded.context.clickhouse is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [clickhouse] section: the product figures read its events table",
            where=str(loaded.path),
            hint=f'add [contexts.{loaded.name}.clickhouse] with url = "https://clickhouse:8443" or path = "..."',
        )
    source = AnalyticsSource(loaded.context.clickhouse)

    async def main() -> Product:
        try:
            return await fetch_product(source, args.tenant, days=args.days, until=until)
        finally:
            await source.close()

    try:
        figures = asyncio.run(main())
    except (ConfigError, ParamError):
        raise
    except ZetaError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_BACKEND_DOWN
    for note in figures.notes:
        print(f"note: {note}", file=sys.stderr)
    print_figures(args.json, lambda: to_json(figures, args.what), lambda: to_text(figures, args.what))
    return 0


def _head(p: Product) -> dict[str, Any]:
    return {
        "tenant": p.tenant,
        "tenant_is": p.tenant_source,
        "days": p.days,
        "until": p.until.isoformat(),
        "tenants": [{"tenant_id": t.tenant_id, "served": t.served} for t in p.tenants],
        "tenants_in_window": p.tenants_in_window,
    }


def to_json(p: Product, what: str) -> dict[str, Any]:
    """One of the three parts as JSON (percentages 0-100, seconds, days as ISO dates)."""
    doc = _head(p)
    if what == "funnel":
        doc["funnel"] = [
            {
                "step": s.step,
                "event": s.event,
                "users": s.users,
                "conv_prev_pct": s.conv_prev_pct,
                "conv_first_pct": s.conv_first_pct,
                "median_s_from_prev": s.median_s_from_prev,
            }
            for s in p.funnel
        ]
    elif what == "retention":
        doc["retention"] = [
            {
                "cohort_week": c.week.isoformat(),
                "users": c.users,
                "returned": list(c.returned),
                "returned_pct": list(c.returned_pct),
            }
            for c in p.cohorts
        ]
    else:
        doc["ctr"] = {
            "days": [d.isoformat() for d in p.ctr_days],
            "versions": [
                {
                    "model_version": v.version,
                    "served": v.served,
                    "clicks": v.clicks,
                    "ctr_pct": v.total_ctr_pct,
                    "first_served": v.first_day.isoformat() if v.served else None,
                    "ctr_pct_by_day": list(v.ctr_pct),
                }
                for v in p.versions
            ],
        }
        ab = p.ab
        doc["ab_test"] = (
            None
            if ab is None
            else {
                "a": _arm(ab.a),
                "b": _arm(ab.b),
                "diff_pt": ab.diff_pt,
                "ci_low_pt": ab.ci_low_pt,
                "ci_high_pt": ab.ci_high_pt,
                "z": ab.z,
                "p_value": ab.p_value,
                "needed_per_arm": ab.needed_per_arm,
                "query_verdict": ab.sql_verdict,
            }
        )
        doc["verdict"] = p.verdict
    return doc


def _arm(a: Any) -> dict[str, Any]:
    return {
        "model_version": a.version,
        "served": a.served,
        "clicks": a.clicks,
        "ctr_pct": a.ctr_pct,
        "purchases": a.purchases,
        "purchase_rate_pct": a.purchase_rate_pct,
    }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} %"


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f} s" if v < 120 else f"{v / 60:.1f} min" if v < 7200 else f"{v / 3600:.1f} h"


def to_text(p: Product, what: str) -> str:
    if p.tenant is None:
        return f"no tenant has recommendation events in the {p.days} days to {p.until.isoformat()} (UTC)"
    chosen = " (the most served)" if p.tenant_source == "most served" else ""
    head = f"{p.tenant}{chosen}, {p.days} days to {p.until.isoformat()} (UTC)"
    if what == "funnel":
        rows = [
            [s.label, f"{s.users:,}", _pct(s.conv_prev_pct), _pct(s.conv_first_pct), _secs(s.median_s_from_prev)]
            for s in p.funnel
        ]
        table = format_table(["STEP", "USERS", "FROM PREVIOUS", "FROM SERVED", "MEDIAN TIME"], rows, right=(1, 2, 3, 4))
        return f"Funnel of {head}, steps within 24 h of the served\n{table}"
    if what == "retention":
        weeks = max((len(c.returned_pct) for c in p.cohorts), default=0)
        rows = [
            [
                c.week.isoformat(),
                f"{c.users:,}",
                *(_pct(c.returned_pct[n]) if n < len(c.returned_pct) else "" for n in range(1, weeks)),
            ]
            for c in p.cohorts
        ]
        header = ["COHORT WEEK", "USERS", *(f"W{n}" for n in range(1, weeks))]
        table = format_table(header, rows, right=tuple(range(1, weeks + 1)))
        return f"Weekly retention of {p.tenant} (cohorts by first session; share back n weeks later)\n{table}"
    rows = [
        [
            v.version,
            f"{v.served:,}",
            f"{v.clicks:,}",
            _pct(v.total_ctr_pct),
            v.first_day.isoformat() if v.served else "-",
        ]
        for v in p.versions
    ]
    table = format_table(["VERSION", "SERVED", "CLICKS", "CTR", "FIRST SERVED"], rows, right=(1, 2, 3))
    return f"CTR by model version, {head}\n{table}\n\n{p.verdict}"
