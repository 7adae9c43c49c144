"""One tenant: its usage by endpoint, error rate, latency trend, quota, cost and SLA.

Five catalog queries answer it together: ``tenant_usage`` (the table), ``latency_trend`` for
the tenant (the chart, 30 days), and the tenant's rows of ``quota_utilization``,
``cost_per_tenant`` and ``sla_compliance`` (the facts line). ``l`` opens the tenant's error
logs over the window, the join from spend to evidence.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from zeta_tui.messages import GoBack, ShowLogs
from zeta_tui.models.analytics import Record, as_date, bytes_text, count_text, money, next_window, pct_text, window_text
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, require_clickhouse, show_usage_note, today_utc, usage_note
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

TREND_DAYS = 30
ENDPOINT_COLUMNS = (
    Column("Endpoint", "endpoint", 16, name=True),
    Column("Method", "method", 6),
    Column("Requests", "requests", 9),
    Column("Errors", "errors", 8),
    Column("avg", "avg", 7),
    Column("p95", "p95", 7),
    Column("Bytes", "bytes", 10, drop=1),
)


@dataclass(frozen=True)
class TenantView:
    days: int
    until: date
    endpoints: tuple[Record, ...]
    trend: tuple[Record, ...]
    quota: Record | None
    cost: Record | None
    sla: Record | None
    notes: tuple[str, ...] = ()  # where the usage figures came from, when not zeta's rollup


def _mine(records: list[Record], tenant: str) -> Record | None:
    return next((r for r in records if r["tenant_id"] == tenant), None)


def facts_text(tenant: str, top: Record | None, view: TenantView, error: str) -> Text:
    """The tenant's facts in two lines: traffic, quota; cost against revenue, SLA against its plan."""
    out = Text()
    requests = sum(int(r["requests"]) for r in view.endpoints)
    errors = sum(int(r["errors"]) for r in view.endpoints)
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


class TenantDetailScreen(PollingScreen[TenantView]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="tenant.back", tooltip="Back to the tenants"),
        Binding(
            "w", "window", "Window", id="tenant.window", tooltip="Cycle the window: 7, 30 or 1 day(s) ending today"
        ),
        Binding(
            "l",
            "logs",
            "Error logs",
            id="tenant.logs",
            tooltip="This tenant's ERROR logs over the window (the Logs screen)",
        ),
    ]

    def __init__(self, tenant_id: str, top: Record | None = None, days: int = 7) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.top = top
        self.days = days

    def crumb(self) -> str:
        return self.tenant_id

    def action_back(self) -> None:
        self.post_message(GoBack())  # back to the list, or along a join

    def compose_body(self) -> ComposeResult:
        yield Static("", id="tenant-title")
        yield usage_note()
        yield Static("", id="tenant-facts")
        yield FittedTable(ENDPOINT_COLUMNS, id="tenant-endpoints", zebra_stripes=True)
        yield LineChart(f"Latency per day, last {TREND_DAYS} days", lambda v: f"{v:.0f} ms", id="tenant-chart")

    def on_mount(self) -> None:
        table = self.query_one("#tenant-endpoints", DataTable)
        table.focus()
        self._title()

    def _title(self, view: TenantView | None = None) -> None:
        top = self.top or {}
        name = f" · {top['name']}" if top.get("name") else ""
        plan = f" · {top['plan']}" if top.get("plan") else ""
        window = f" · {window_text(view.days, view.until)}" if view is not None else ""
        self.query_one("#tenant-title", Static).update(f"{self.tenant_id}{name}{plan}{window}", layout=False)

    def question(self) -> Any:
        return (self.tenant_id, self.days)

    async def fetch(self, time_range: TimeRange) -> QueryResult[TenantView]:
        source = require_clickhouse(self)
        until = today_utc(self.app.clock())
        window = {"days": self.days, "until": until}
        endpoints, trend, quota, cost, sla = await asyncio.gather(
            source.named("tenant_usage", {"tenant": self.tenant_id, **window}, today=until),
            source.named("latency_trend", {"tenant": self.tenant_id, "days": TREND_DAYS, "until": until}, today=until),
            source.named("quota_utilization", {"until": until}, today=until),
            source.named("cost_per_tenant", window, today=until),
            source.named("sla_compliance", window, today=until),
        )
        return QueryResult(
            TenantView(
                self.days,
                until,
                tuple(endpoints.records()),
                tuple(trend.records()),
                _mine(quota.records(), self.tenant_id),
                _mine(cost.records(), self.tenant_id),
                _mine(sla.records(), self.tenant_id),
                (endpoints.note, trend.note, quota.note, sla.note),
            )
        )

    def show(self, value: TenantView) -> None:
        self._title(value)
        show_usage_note(self, value.notes)
        error = self.app.theme_variables.get("error", "red")
        self.query_one("#tenant-facts", Static).update(facts_text(self.tenant_id, self.top, value, error), layout=False)
        rows = []
        for r in value.endpoints:
            errors = Text(pct_text(r["error_rate_pct"]))
            if float(r["error_rate_pct"] or 0) >= 5:
                errors = Text(f"✖ {pct_text(r['error_rate_pct'])}", style=f"bold {error}")
            cells: list[Any] = [
                str(r["endpoint"]),
                str(r["method"]),
                count_text(r["requests"]),
                errors,
                f"{float(r['avg_ms']):.0f} ms",
                f"{float(r['p95_ms']):.0f} ms",
                bytes_text(r["bytes"]),
            ]
            rows.append((f"{r['method']} {r['endpoint']}", cells))
        self.query_one("#tenant-endpoints", FittedTable).show_rows(rows)
        first = value.until - timedelta(days=TREND_DAYS - 1)
        days = [first + timedelta(days=i) for i in range(TREND_DAYS)]
        xs = tuple(day_seconds(d) for d in days)
        by_day = {as_date(r["date"]): r for r in value.trend}
        nan = float("nan")
        lines = [
            ChartLine(label, xs, tuple(float(by_day[d][column]) if d in by_day else nan for d in days))
            for label, column in (("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"))
        ]
        self.query_one("#tenant-chart", LineChart).show(lines, (xs[0], xs[-1]))

    def action_window(self) -> None:
        self.days = next_window(self.days)
        self.refresh_data()

    async def action_logs(self) -> None:
        until = today_utc(self.app.clock())
        start = day_seconds(until - timedelta(days=self.days - 1))
        self.post_message(ShowLogs(f'tenant_id:"{self.tenant_id}" AND level:ERROR', start, self.app.clock()))
