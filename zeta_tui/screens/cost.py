"""Cost: what serving the platform costs, per service and per tenant, and what to do about it.

Daily cost by service (stacked columns, ``daily_cost``), cost per call by service
(``cost_per_call``), cost per tenant against its revenue (``cost_per_tenant``), MRR by plan
(``mrr_by_plan``), and recommendations in plain words (models/analytics.py): a service whose
cost per call rose more than 20 % week over week, tenants who cost more than they pay, tenants
heading over their quota. The charts always cover at least the last 14 days (the
recommendations compare two weeks); the table covers the window (``w``: 7 → 30 → 1 days).
Below 100x34 one chart is shown at a time and ``c`` cycles them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable, Static

from zeta_tui.messages import ShowTenant
from zeta_tui.models.analytics import Record, as_date, count_text, money, next_window, recommendations, window_text
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, require_clickhouse, show_usage_note, today_utc, usage_note
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart
from zeta_tui.widgets.stacked_bars import Stack, StackedBars

#: The charts' span: two whole weeks, what the week-over-week recommendation compares.
CHART_DAYS = 14
COST_COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("Name", "name", 12, name=True, drop=3),
    Column("Plan", "plan", 10),
    Column("Cost", "cost", 9),
    Column("a month", "monthly", 9),
    Column("MRR", "mrr", 8),
    Column("Cost/MRR", "ratio", 9),
    Column("Calls", "calls", 9, drop=2),
    Column("per call", "per_call", 10, drop=1),
)


@dataclass(frozen=True)
class CostView:
    days: int
    until: date
    daily: tuple[Record, ...]  # daily_cost over max(days, CHART_DAYS)
    per_call: tuple[Record, ...]
    tenants: tuple[Record, ...]
    plans: tuple[Record, ...]
    quota: tuple[Record, ...]
    notes: tuple[str, ...] = ()  # where the usage figures (quota) came from, when not zeta's rollup


def cost_stack(daily: tuple[Record, ...], until: date, days: int) -> Stack:
    """Daily cost per service as stacked columns, services biggest first at the bottom."""
    first = until - timedelta(days=days - 1)
    dates = tuple(first + timedelta(days=i) for i in range(days))
    totals: dict[str, float] = {}
    cells: dict[tuple[str, date], float] = {}
    for r in daily:
        d, s = as_date(r["date"]), str(r["service"])
        if first <= d <= until:
            cells[(s, d)] = cells.get((s, d), 0.0) + float(r["cost_usd"])
            totals[s] = totals.get(s, 0.0) + float(r["cost_usd"])
    services = sorted(totals, key=lambda s: (-totals[s], s))
    return Stack(dates, tuple((s, tuple(cells.get((s, d), 0.0) for d in dates)) for s in services))


def revenue_text(plans: tuple[Record, ...], tenants: tuple[Record, ...]) -> str:
    """ "MRR $12,400 · ARR $148,800 · serving costs $3,100 a month (25 % of MRR)"."""
    mrr = sum(float(p["mrr_usd"]) for p in plans)
    monthly = sum(float(t["monthly_cost_usd"]) for t in tenants)
    text = f"MRR {money(mrr)} · ARR {money(mrr * 12)}"
    if mrr > 0 and tenants:
        text += f" · serving costs {money(monthly)} a month ({monthly / mrr * 100:.1f} % of MRR)"
    return text


def plans_text(plans: tuple[Record, ...]) -> str:
    """ "MRR by plan: enterprise $8,000 (5 tenants) · pro …"."""
    return "MRR by plan: " + " · ".join(
        f"{p['plan']} {money(float(p['mrr_usd']))} ({p['tenants']} tenants)" for p in plans
    )


class CostScreen(PollingScreen[CostView]):
    BINDINGS = [
        Binding(
            "w", "window", "Window", id="cost.window", tooltip="Cycle the window of the tenant table: 7, 30 or 1 day(s)"
        ),
        Binding("c", "cycle_chart", "Chart", id="cost.chart", tooltip="Next chart, on screens too small for both"),
        Binding("ctrl+t", "tenant", "Tenant", id="cost.tenant", tooltip="The highlighted tenant: its Tenant screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.days = 7
        self._chart = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="cost-summary")
        yield usage_note()
        yield Static("", id="cost-plans")
        with Grid(id="cost-charts"):
            yield StackedBars(f"Daily cost by service, last {CHART_DAYS} days", lambda v: money(v), id="cost-stack")
            yield LineChart("Cost per call by service", lambda v: money(v, per_call=True), id="cost-per-call")
        yield FittedTable(COST_COLUMNS, id="cost-tenants", zebra_stripes=True)
        with VerticalScroll(id="cost-advice"):
            yield Static("", id="cost-advice-text")

    def on_mount(self) -> None:
        table = self.query_one("#cost-tenants", DataTable)
        wide = self.app.size.width >= 120
        self._wide = wide
        self.query_one("#cost-plans").display = wide
        self.query_one("#cost-advice").display = False  # until there are data to advise on
        self._layout_charts()
        table.focus()

    def on_resize(self) -> None:
        self._layout_charts()

    def _layout_charts(self) -> None:
        compact = self.app.size.width < 100 or self.app.size.height < 34
        self.query_one("#cost-charts").set_class(compact, "-compact")
        self.query_one("#cost-stack").display = not compact or self._chart == 0
        self.query_one("#cost-per-call").display = not compact or self._chart == 1

    def prefetch(self) -> None:
        """Only when the console opens on Cost: otherwise the first screen's queries come first and
        this asks when shown."""
        if self.app.first_screen == "cost":
            super().prefetch()

    def question(self) -> Any:
        return self.days

    async def fetch(self, time_range: TimeRange) -> QueryResult[CostView]:
        source = require_clickhouse(self)
        until = today_utc(self.app.clock())
        span = {"days": max(self.days, CHART_DAYS), "until": until}
        daily, per_call, tenants, plans, quota = await asyncio.gather(
            source.named("daily_cost", span, today=until),
            source.named("cost_per_call", span, today=until),
            source.named("cost_per_tenant", {"days": self.days, "until": until}, today=until),
            source.named("mrr_by_plan", {}, today=until),
            source.named("quota_utilization", {"until": until}, today=until),
        )
        return QueryResult(
            CostView(
                self.days,
                until,
                tuple(daily.records()),
                tuple(per_call.records()),
                tuple(tenants.records()),
                tuple(plans.records()),
                tuple(quota.records()),
                (quota.note,),
            )
        )

    def show(self, value: CostView) -> None:
        window = window_text(value.days, value.until) if self._wide else f"{value.days} d to {value.until:%b %d}"
        self.query_one("#cost-summary", Static).update(
            f"{window} · {revenue_text(value.plans, value.tenants)}", layout=False
        )
        self.query_one("#cost-plans", Static).update(plans_text(value.plans), layout=False)
        show_usage_note(self, value.notes)
        self.query_one("#cost-stack", StackedBars).stack = cost_stack(value.daily, value.until, CHART_DAYS)
        self._show_per_call(value)
        self._show_tenants(value)
        self._show_advice(value)

    def _show_per_call(self, value: CostView) -> None:
        first = value.until - timedelta(days=CHART_DAYS - 1)
        dates = [first + timedelta(days=i) for i in range(CHART_DAYS)]
        xs = tuple(day_seconds(d) for d in dates)
        nan = float("nan")
        lines = []
        for service in sorted({str(r["service"]) for r in value.per_call}):
            by_day = {
                as_date(r["date"]): float(r["cost_per_call_usd"]) for r in value.per_call if r["service"] == service
            }
            lines.append(ChartLine(service, xs, tuple(by_day.get(d, nan) for d in dates)))
        self.query_one("#cost-per-call", LineChart).show(lines, (xs[0], xs[-1]))

    def _show_tenants(self, value: CostView) -> None:
        error = self.app.theme_variables.get("error", "red")
        rows = []
        for r in value.tenants:
            ratio = float(r["cost_to_mrr_pct"] or 0)
            ratio_cell = Text(f"{ratio:.0f} %")
            if ratio > 100:
                ratio_cell = Text(f"✖ {ratio:.0f} %", style=f"bold {error}")
            cells: list[Any] = [
                str(r["tenant_id"]),
                str(r["name"] or ""),
                str(r["plan"] or ""),
                money(float(r["cost_usd"])),
                money(float(r["monthly_cost_usd"])),
                money(float(r["mrr_usd"])),
                ratio_cell,
                count_text(int(r["api_calls"])),
                money(float(r["cost_per_call_usd"]), per_call=True),
            ]
            rows.append((str(r["tenant_id"]), cells))
        self.query_one("#cost-tenants", FittedTable).show_rows(rows)

    def _show_advice(self, value: CostView) -> None:
        found = recommendations(value.daily, value.tenants, value.quota, value.until)
        warning, error = self.app.theme_variables.get("warning", "yellow"), self.app.theme_variables.get("error", "red")
        text = Text()
        if not found:
            text.append(
                "No recommendations: cost per call is steady and every tenant pays for what it uses.", style="dim"
            )
        for i, rec in enumerate(found):
            if i:
                text.append("\n")
            mark = "▲ WARNING " if rec.severity == "warning" else "• note "
            text.append(mark, style=f"bold {error if rec.severity == 'warning' else warning}")
            text.append(rec.text)
        self.query_one("#cost-advice-text", Static).update(text)
        advice = self.query_one("#cost-advice")
        advice.border_title = f"Recommendations ({len(found)})"
        advice.display = True

    def action_window(self) -> None:
        self.days = next_window(self.days)
        self.refresh_data()

    def action_tenant(self) -> None:
        table = self.query_one("#cost-tenants", DataTable)
        if table.row_count:
            self.post_message(ShowTenant(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)))

    def action_cycle_chart(self) -> None:
        self._chart = (self._chart + 1) % 2
        self._layout_charts()
