"""One tenant: its usage by endpoint, quota, cost and SLA (ClickHouse), and its model quality,
training, data freshness, recommendations served and open alerts (Prometheus).

backends/tenant.py's ``fetch_tenant`` asks both halves at once, as `zeta tenant` does; each half
draws what it got, or one line saying what it needs (no such section) or why its backend
failed, so the screen is useful with either backend alone. The ClickHouse half's window is
whole UTC days (``w`` cycles 7, 30, 1); the Prometheus half's is the shell's time range (its
rates, the NDCG@10 chart) and its figures are as of now. Two charts: latency per day over 30
days and NDCG@10 per model version over the range (with the 7-day median); side by side where
there is room, one at a time below 100x34 (``c`` cycles). ``l`` opens the tenant's error logs
over the window. docs/tenant.md says how each figure is computed.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import DataTable, Static

from zeta_tui.errors import NotConfigured, ZetaError
from zeta_tui.messages import GoBack, ShowLogs, ShowProduct
from zeta_tui.models.analytics import Record, as_date, bytes_text, count_text, next_window, pct_text, window_text
from zeta_tui.models.series import QueryResult
from zeta_tui.models.tenant import TenantMl, TenantReport, TenantUsage
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, show_usage_note, today_utc, usage_note
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.screens.tenant_facts import missing_text, ml_facts, usage_facts
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

ENDPOINT_COLUMNS = (
    Column("Endpoint", "endpoint", 16, name=True),
    Column("Method", "method", 6),
    Column("Requests", "requests", 9),
    Column("Errors", "errors", 9),
    Column("avg", "avg", 7),
    Column("p95", "p95", 7),
    Column("Bytes", "bytes", 10, drop=1),
)
#: the examples of the "add this section" hints (as screens/analytics.py and PollingScreen word them)
EXAMPLES = {
    "clickhouse": 'with path = "..." (an embedded store) or url = "https://clickhouse:8443"',
    "prometheus": "with url = ...",
}
CHARTS = ("#tenant-chart", "#tenant-ndcg")


class TenantDetailScreen(PollingScreen[TenantReport]):
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
        Binding(
            "c",
            "cycle_chart",
            "Chart",
            id="tenant.chart",
            tooltip="Next chart (latency per day, NDCG@10), on screens too small for both",
        ),
        Binding(
            "f",
            "product",
            "Product",
            id="tenant.product",
            tooltip="This tenant's funnel, CTR by model version, A/B verdict and retention (the Product screen)",
        ),
    ]

    DEFAULT_CSS = """
    #tenant-ml { height: auto; padding: 0 1; }
    #tenant-charts { grid-size: 2 1; height: 1fr; min-height: 7; }
    #tenant-charts.-compact { grid-size: 1 1; }
    #tenant-charts.-short { height: 9; }
    #tenant-charts.-fill { height: 1fr; }
    #tenant-charts > LineChart { height: 1fr; border: round $panel-lighten-2; }
    """

    def __init__(self, tenant_id: str, top: Record | None = None, days: int = 7) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.top = top
        self.days = days
        self._chart = 0

    def crumb(self) -> str:
        return self.tenant_id

    def action_back(self) -> None:
        self.post_message(GoBack())  # back to the list, or along a join

    def compose_body(self) -> ComposeResult:
        yield Static("", id="tenant-title")
        yield usage_note()
        yield Static("", id="tenant-facts")
        yield Static("", id="tenant-ml")
        yield FittedTable(ENDPOINT_COLUMNS, id="tenant-endpoints", zebra_stripes=True)
        with Grid(id="tenant-charts"):
            yield LineChart("Latency per day, last 30 days", lambda v: f"{v:.0f} ms", id="tenant-chart")
            yield LineChart("NDCG@10 per model version", lambda v: f"{v:.3f}", id="tenant-ndcg")

    def on_mount(self) -> None:
        self.query_one("#tenant-endpoints", DataTable).focus()
        self._title()
        self._layout_charts()

    def on_resize(self) -> None:
        self._layout_charts()

    def _halves(self) -> tuple[bool, bool]:
        """Which halves have something to draw: (ClickHouse, Prometheus); both before an answer."""
        report = self.snapshot.value
        if report is None:
            return True, True
        return report.usage is not None, report.ml is not None

    def _layout_charts(self) -> None:
        usage, ml = self._halves()
        shown = [c for c, there in zip(CHARTS, (usage, ml)) if there] or list(CHARTS[:1])
        compact = len(shown) == 1 or self.app.size.width < 100 or self.app.size.height < 34
        charts = self.query_one("#tenant-charts")
        charts.set_class(compact, "-compact")
        # Under 34 rows the chart gets 9 (3 of plot) and the table the rest (it scrolls); without
        # the table (no ClickHouse) the chart takes the room.
        charts.set_class(usage and self.app.size.height < 34, "-short")
        self.query_one("#tenant-endpoints").set_class(self.app.size.height < 34, "-short")
        charts.set_class(not usage, "-fill")
        chosen = shown[self._chart % len(shown)]
        for chart in CHARTS:
            self.query_one(chart).display = chart in shown and (not compact or chart == chosen)
        self.query_one("#tenant-endpoints").display = usage

    def action_cycle_chart(self) -> None:
        self._chart += 1
        self._layout_charts()

    def _title(self, usage: TenantUsage | None = None) -> None:
        top = self.top or {}
        name = f" · {top['name']}" if top.get("name") else ""
        plan = f" · {top['plan']}" if top.get("plan") else ""
        window = f" · {window_text(usage.days, usage.until)}" if usage is not None else ""
        self.query_one("#tenant-title", Static).update(f"{self.tenant_id}{name}{plan}{window}", layout=False)

    def question(self) -> Any:
        return (self.tenant_id, self.days)

    def _missing(self, section: str) -> ZetaError:
        try:
            self.app.session.require(section, EXAMPLES[section])
        except ZetaError as exc:
            return exc
        raise AssertionError(f"{section} is configured")  # pragma: no cover - only asked when it is not

    async def fetch(self, time_range: TimeRange) -> QueryResult[TenantReport]:
        from zeta_tui.backends.tenant import fetch_tenant

        session = self.app.session
        prom, source = session.prometheus, session.clickhouse
        result = await fetch_tenant(
            self.tenant_id,
            prom=prom,
            am=session.alertmanager,
            source=source,
            catalog=self.app.catalog,
            time_range=time_range,
            days=self.days,
            until=today_utc(self.app.clock()),
            missing={s: self._missing(s) for s, c in (("prometheus", prom), ("clickhouse", source)) if c is None},
        )
        report = result.data
        errors = [e for e in (report.ml_error, report.usage_error) if e is not None]
        if report.ml is None and report.usage is None and errors:
            # Nothing to draw: the pane shows the error (a failed backend's before a missing one's) and retries.
            raise next((e for e in errors if not isinstance(e, NotConfigured)), errors[0])
        warnings = list(result.warnings)
        for name, error in (("Prometheus", report.ml_error), ("ClickHouse", report.usage_error)):
            if error is not None and not isinstance(error, NotConfigured):
                warnings.append(f"{name}: {error.message}")
        return QueryResult(report, tuple(warnings))

    def show(self, value: TenantReport) -> None:
        theme = self.app.theme_variables
        error, warning = theme.get("error", "red"), theme.get("warning", "yellow")
        facts = self.query_one("#tenant-facts", Static)
        if value.usage is not None:
            self._title(value.usage)
            show_usage_note(self, value.usage.notes)
            facts.update(usage_facts(self.top, value.usage, error), layout=False)
            self._show_usage(value.usage, error)
        else:
            self._title()
            show_usage_note(self, ())
            facts.update(missing_text("clickhouse", value.usage_error or _unknown(), self.app.context_name, warning))
        facts.styles.height = 2 if value.usage is not None else 1  # the missing half says it in one line
        ml = self.query_one("#tenant-ml", Static)
        if value.ml is not None:
            ml.update(ml_facts(value.ml, error, "dim"))
            self._show_ndcg(value.ml, self.app.size.height >= 34 or value.usage is None)
        else:
            ml.update(missing_text("prometheus", value.ml_error or _unknown(), self.app.context_name, warning))
        self._layout_charts()

    def _show_usage(self, usage: TenantUsage, error: str) -> None:
        rows = []
        for r in usage.endpoints:
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
        from zeta_tui.backends.tenant import trend_days

        days = trend_days(usage.until)
        xs = tuple(day_seconds(d) for d in days)
        by_day = {as_date(r["date"]): r for r in usage.trend}
        nan = float("nan")
        lines = [
            ChartLine(label, xs, tuple(float(by_day[d][column]) if d in by_day else nan for d in days))
            for label, column in (("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"))
        ]
        self.query_one("#tenant-chart", LineChart).show(lines, (xs[0], xs[-1]))

    def _show_ndcg(self, ml: TenantMl, tall: bool) -> None:
        chart = self.query_one("#tenant-ndcg", LineChart)
        lines = [ChartLine(t.label, t.xs, t.ys, colour=i) for i, t in enumerate(ml.ndcg)]
        median = ml.quality.median_7d if ml.quality is not None else None
        of_median = f" · 7-day median {median:.3f}" if median is not None else ""
        chart.border_title = f"NDCG@10 per model version, {ml.range_label}{of_median}"
        # The median as a line where the chart is tall enough to tell it from the versions' (3 rows
        # of plot put both in one row of cells). Drawn first, so a version that sits on its median
        # (a tenant with nothing wrong) is drawn over it, not hidden by it; its colour is the last.
        if lines and median is not None and math.isfinite(median) and tall:
            xs = lines[0].xs
            lines.insert(0, ChartLine("7-day median", xs, tuple(median for _ in xs), colour=4))
        chart.empty_message = "no NDCG@10 series for this tenant"
        x_range = (lines[0].xs[0], lines[0].xs[-1]) if lines and lines[0].xs else None
        chart.show(lines, x_range)

    def action_window(self) -> None:
        self.days = next_window(self.days)
        self.refresh_data()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Product analytics read ClickHouse's events: without a [clickhouse] section, no key for them.
        if action == "product":
            return self.app.session is not None and self.app.session.clickhouse is not None
        return True

    def action_product(self) -> None:
        self.post_message(ShowProduct(self.tenant_id))

    async def action_logs(self) -> None:
        from datetime import timedelta

        until = today_utc(self.app.clock())
        start = day_seconds(until - timedelta(days=self.days - 1))
        self.post_message(ShowLogs(f'tenant_id:"{self.tenant_id}" AND level:ERROR', start, self.app.clock()))


def _unknown() -> ZetaError:
    return ZetaError("no answer")
