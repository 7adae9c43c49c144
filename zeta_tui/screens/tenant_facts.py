"""The Tenant screen's facts in words: the ClickHouse half's two lines (traffic and quota; cost
and SLA), the Prometheus half's four (quality, training, freshness and served, alerts), and the
one line a half shows instead when its backend is absent or down."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from zeta_tui.errors import NotConfigured, ZetaError
from zeta_tui.models.analytics import Record, count_text, money, pct_text
from zeta_tui.models.tenant import DATA_STALE_AFTER_S, TenantMl, TenantUsage
from zeta_tui.models.timerange import format_age
from zeta_tui.widgets.sparkline_text import sparkline

#: what each half shows, and the keys of its section, for the line that says it needs its backend
HALVES = {
    "clickhouse": ("usage, cost, SLA", 'path = "..." or url = "..."'),
    "prometheus": ("quality, training, freshness, alerts", 'url = "..."'),
}
SPARK_WIDTH = 12


def _clock(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def missing_text(section: str, error: ZetaError, context: str, warning: str) -> Text:
    """One line: what the half would show and the section it needs (or why its backend failed)."""
    shows, keys = HALVES[section]
    if isinstance(error, NotConfigured):
        return Text.assemble(f"{shows} need ", (f"[contexts.{context}.{section}]", f"bold {warning}"), f": {keys}")
    where = f" ({error.where})" if error.where else ""
    return Text.assemble(f"{shows}: ", (f"{error.title}{where}: {error.message}", f"bold {warning}"))


def usage_facts(top: Record | None, view: TenantUsage, error: str) -> Text:
    """The tenant's usage in two lines: traffic, quota; cost against revenue, SLA against its plan."""
    out = Text()
    requests, errors = view.requests, view.errors
    rate = errors / requests * 100 if requests else None
    plan = (view.quota or view.cost or view.sla or top or {}).get("plan", "")
    out.append(f"{count_text(requests)} requests · {pct_text(rate)} errors (4xx+5xx)")
    if view.quota is not None:
        q = view.quota
        out.append(
            f" · quota {count_text(int(q['calls']))} of {count_text(int(q['monthly_quota_calls']))} this month "
            f"({float(q['used_pct']):.0f} %, {float(q['projected_pct']):.0f} % projected)"
        )
        if float(q["projected_pct"]) > 100:
            out.append(" ▲ heading over", style=f"bold {error}")
    out.append("\n")
    if view.cost is not None:
        c = view.cost
        out.append(
            f"cost {money(float(c['cost_usd']))} over the window ({money(float(c['monthly_cost_usd']))} a month, "
            f"{money(float(c['cost_per_call_usd']), per_call=True)} a call) against {money(float(c['mrr_usd']))} MRR"
        )
        if float(c["monthly_cost_usd"]) > float(c["mrr_usd"]) > 0:
            out.append(" ✖ costs more than it pays", style=f"bold {error}")
    if view.sla is not None:
        s = view.sla
        out.append(
            f" · SLA ({plan}) {float(s['availability_pct']):.3f} % available, target {float(s['target_pct']):g} %: "
        )
        out.append("met" if int(s["met"]) else "✖ MISSED", style="" if int(s["met"]) else f"bold {error}")
    return out


def ml_facts(m: TenantMl, error: str, muted: str) -> Text:
    """Quality; training; freshness and served; alerts: a line each."""
    out = Text()
    q = m.quality
    out.append("quality ", style="bold")
    if q is None or q.ndcg is None:
        out.append("no NDCG@10 series for this tenant", style=muted)
    else:
        version = f" ({q.model_version})" if q.model_version else ""
        out.append(f"NDCG@10 {q.ndcg:.3f}{version}")
        if q.median_7d is not None:
            out.append(f" · 7-day median {q.median_7d:.3f}")
        if q.drop is not None:
            out.append(f": {-q.drop * 100:+.1f} %")
        if q.dropped:
            out.append(" ▼ DROP", style=f"bold {error}")
    out.append("\ntraining ", style="bold")
    j = m.training
    if j is None:
        out.append("no training job series", style=muted)
    elif j.failed:
        out.append(f"✖ failed ({j.reason or 'no reason given'})", style=f"bold {error}")
        if j.failing_for_s is not None:
            out.append(f", failing for {format_age(j.failing_for_s)}")  # since the last good model
        out.append(f" · last run {_clock(j.started)}, {format_age(j.duration_s or 0)}", style=muted)
    elif j.running_for_s is not None:
        out.append(f"running for {format_age(j.running_for_s)} (started {_clock(j.started)})")
    else:
        took = f", took {format_age(j.duration_s)}" if j.duration_s is not None else ""
        out.append(f"{j.status} {_clock(j.started)}{took}")
    out.append("\ndata ", style="bold")
    age = m.data_age_s
    if age is None:
        out.append("no ingest timestamp", style=muted)
    else:
        out.append(f"{format_age(age)} old (stale after {format_age(DATA_STALE_AFTER_S)})")
        if m.stale:
            out.append(" ✖ STALE", style=f"bold {error}")
    out.append(" · served ", style="bold")
    if m.served_per_second is None:
        out.append("-", style=muted)
    else:
        out.append(f"{m.served_per_second:.1f} recs/s")  # over the shell's range (the header says it)
        if m.served_trend is not None:
            out.append(" " + sparkline(m.served_trend.ys, SPARK_WIDTH, lo=0.0))  # from 0: a dip reads as a dip
    out.append("\nalerts ", style="bold")
    source = "" if m.alerts_source == "alertmanager" else " (Prometheus ALERTS: no Alertmanager)"
    if m.alerts_error:
        out.append(f"unknown: {m.alerts_error}", style=f"bold {error}")
    elif not m.alerts:
        out.append(f"none open{source}", style=muted)
    else:
        firing = len(m.firing)
        out.append(f"{firing} firing" if firing else "none firing", style=f"bold {error}" if firing else "")
        parts = [
            f"{a.name}"
            + (f" ({a.state})" if not a.firing else "")
            + (f" {format_age(m.at - a.since)}" if a.since else "")
            for a in m.alerts
        ]
        out.append(": " + " · ".join(parts) + source)
    return out
