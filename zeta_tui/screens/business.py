"""Business: is the platform growing — active tenants, API calls by plan, MRR/ARR, who came and went,
and who uses it most (the seed's Business dashboard).

The figures are `zeta business`'s (backends/business.py, models/business.py): one gather of both
halves. The Prometheus half (API calls by plan over the console's range, each plan's share now in
the legend) and the ClickHouse half (figures line, MRR trend over 90 days, top tenants) fail on
their own: a half that cannot be had is one line saying why (a context without ClickHouse: add
``[contexts.NAME.clickhouse]``), and the other half is drawn. ClickHouse's figures are of the UTC
day of the console's clock.

Below 120 columns or 34 rows one chart at a time (``c`` cycles); Enter on a tenant opens its screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from zeta_tui.errors import NotConfigured, ZetaError
from zeta_tui.messages import ShowTenant
from zeta_tui.models.business import Business, CallsByPlan, Revenue
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, require_clickhouse, today_utc
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.screens.tenants import quota_cell
from zeta_tui.widgets import units
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

#: below this many columns, or rows, one chart at a time
WIDE_COLUMNS = 120
TALL_ROWS = 34
#: below this many columns the figures use their short words
NARROW_COLUMNS = 110
CHARTS = ("business-calls", "business-mrr")

COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("Name", "name", 12, name=True, drop=2),
    Column("Plan", "plan", 10),
    Column("MRR", "mrr", 8),
    Column("Req 30d", "requests", 8),
    Column("Month calls", "month", 11, drop=1),
    Column("Quota used", "quota", 10),
)


def money(v: float) -> str:
    """$12,345; $1.23M from a million."""
    return f"${v / 1e6:.2f}M" if abs(v) >= 1e6 else f"${v:,.0f}"


def _signed(n: int) -> str:
    return f"{n:+d}" if n else "±0"


def figures_text(r: Revenue, colours: dict[str, str], narrow: bool = False) -> Text:
    """Two lines: active tenants against the period before, then MRR, ARR and the 90 days' arrivals
    and departures (``narrow``: the short words that fit 80 columns)."""
    text = Text()
    text.append("Active" if narrow else "Active tenants", style="bold")
    for i, a in enumerate(r.active):
        colour = colours.get("success" if a.change > 0 else "error" if a.change < 0 else "", "")
        label = a.label.replace(" ", "") if narrow else a.label
        text.append(f"{' · ' if i else ' '}{label} {a.active} ")
        text.append(_signed(a.change) if narrow else f"({_signed(a.change)}", style=colour)
        if a.partial:
            text.append(f" ({a.partial_note})" if narrow else f"; {a.partial_note}", style="dim")
        if not narrow:
            text.append(")")
    text.append("\n")
    text.append(f"MRR {money(r.mrr_usd)}", style="bold")
    paying = "" if narrow else f" · {r.tenants} paying"
    text.append(f" · ARR {money(r.arr_usd)}{paying} · {len(r.trend.days)} d: ")
    text.append(f"+{len(r.new)} new", style=colours.get("success", ""))
    text.append(" ")
    text.append(f"-{len(r.churned)} churned", style=colours.get("error", "") if r.churned else "")
    if r.changes and not narrow:
        latest = r.changes[0]
        text.append(f"  latest: {latest.tenant_id} {latest.change} {latest.day:%b %d}", style="dim")
    return text


def missing_line(error: ZetaError, what: str, section: str, context: str, *, hint: bool = True) -> str:
    """What a half that cannot be drawn needs, or what went wrong (and, with ``hint``, what to do)."""
    if isinstance(error, NotConfigured):
        return f"{what} need [contexts.{context}.{section}] in the config"
    where = f" ({error.where})" if error.where else ""
    advice = f" — {error.hint}" if error.hint and hint else ""
    return f"{what}: {section} failed{where}: {error.message}{advice}"


def calls_lines(c: CallsByPlan) -> list[ChartLine]:
    """One line per plan, its share now in the legend."""
    out = []
    for p in c.plans:
        share = "" if p.share is None else f" {p.share * 100:.1f}%"
        out.append(ChartLine(f"{p.plan}{share}", tuple(t for t, _ in p.points), tuple(v for _, v in p.points)))
    return out


def mrr_lines(r: Revenue) -> list[ChartLine]:
    """The total and each plan, a point a day."""
    xs = tuple(day_seconds(d) for d in r.trend.days)
    lines = [ChartLine("total", xs, r.trend.total)]
    lines += [ChartLine(plan, xs, values) for plan, values in r.trend.by_plan.items()]
    return lines


class BusinessScreen(PollingScreen[Business]):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding("enter", "open", "Tenant", id="business.open", tooltip="Open the highlighted tenant's screen"),
        Binding("c", "next_chart", "Chart", id="business.chart", tooltip="Show the next chart when only one fits"),
    ]

    DEFAULT_CSS = """
    #business-figures { height: auto; max-height: 3; padding: 0 1; color: $accent; }
    .business-note { height: 1; padding: 0 1; color: $warning; text-wrap: nowrap; text-overflow: ellipsis; }
    #business-charts { height: 1fr; min-height: 8; }
    #business-charts LineChart { width: 1fr; }
    #business-top-title { height: 1; padding: 0 1; text-style: bold; }
    #business-top { height: auto; max-height: 12; }
    BusinessScreen.-compact #business-top { max-height: 8; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._chart_index = 0
        self._chart_chosen = False  # the user pressed `c`: the chart shown is theirs to choose

    def compose_body(self) -> ComposeResult:
        yield Static("", id="business-figures")
        yield Static("", id="business-calls-note", classes="business-note")
        yield Static("", id="business-revenue-note", classes="business-note")
        with Horizontal(id="business-charts"):
            yield LineChart("API calls by plan (/s, share now)", units.per_second, id="business-calls")
            yield LineChart("MRR, 90 days (USD)", money, id="business-mrr")
        yield Static("Top tenants by usage (the seed's 30 days)", id="business-top-title")
        yield FittedTable(COLUMNS, id="business-top", zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        for note in self.query(".business-note"):
            note.display = False
        self._layout_charts()
        self.query_one(FittedTable).focus()

    def prefetch(self) -> None:
        """Only when the console opens on Business: at every start its ClickHouse queries would
        compete with the first screen's (opening an embedded store holds the GIL a moment)."""
        if self.app.first_screen == "business":
            super().prefetch()

    def on_resize(self) -> None:
        self._layout_charts()

    def _layout_charts(self) -> None:
        compact = self.app.size.width < WIDE_COLUMNS or self.app.size.height < TALL_ROWS
        self.set_class(compact, "-compact")
        for i, chart_id in enumerate(CHARTS):
            self.query_one(f"#{chart_id}").display = not compact or i == self._chart_index
        if self.snapshot.value is not None and self.snapshot.value.revenue is not None:
            self._show_figures(self.snapshot.value.revenue)

    def _show_figures(self, r: Revenue) -> None:
        theme = self.app.theme_variables
        colours = {k: theme.get(k, "") for k in ("success", "error", "warning")}
        narrow = self.app.size.width < NARROW_COLUMNS
        self.query_one("#business-figures", Static).update(figures_text(r, colours, narrow))

    def action_next_chart(self) -> None:
        self._chart_chosen = True
        self._chart_index = (self._chart_index + 1) % len(CHARTS)
        self._layout_charts()

    async def fetch(self, time_range: TimeRange) -> QueryResult[Business]:
        from zeta_tui.backends.business import fetch_business  # httpx and the catalog: not at start-up

        prom: object
        analytics: object
        try:
            prom = self.require_prometheus()
        except ZetaError as exc:
            prom = exc
        try:
            analytics = require_clickhouse(self)
        except ZetaError as exc:
            analytics = exc
        until = today_utc(self.app.clock())
        result = await fetch_business(
            prom,  # type: ignore[arg-type]
            self.app.catalog,
            analytics,  # type: ignore[arg-type]
            time_range=time_range,
            until=until,
        )
        figures = result.data
        if figures.calls is None and figures.revenue is None:
            # Nothing to draw: the pane shows the error, with its retry.
            raise figures.calls_error or figures.revenue_error or NotConfigured("nothing to read")
        return result

    def show(self, value: Business) -> None:
        context = self.app.context_name
        theme = self.app.theme_variables
        calls_note = self.query_one("#business-calls-note", Static)
        revenue_note = self.query_one("#business-revenue-note", Static)
        calls_chart = self.query_one("#business-calls", LineChart)
        mrr_chart = self.query_one("#business-mrr", LineChart)
        if value.calls is not None:
            calls_note.display = False
            calls_chart.empty_message = "no api_calls_total in the range"
            calls_chart.show(calls_lines(value.calls), (value.start, value.at))
        else:
            assert value.calls_error is not None
            calls_note.update(missing_line(value.calls_error, "API calls by plan", "prometheus", context, hint=False))
            calls_note.display = True
            calls_chart.empty_message = missing_line(value.calls_error, "API calls by plan", "prometheus", context)
            calls_chart.show([])
        if value.revenue is not None:
            r = value.revenue
            revenue_note.update(r.note)
            revenue_note.display = bool(r.note)
            self.query_one("#business-figures").display = True
            self.query_one("#business-top-title").display = True
            table = self.query_one(FittedTable)
            table.display = True
            if self.focused is None:
                table.focus()
            self._show_figures(r)
            mrr_chart.empty_message = "no tenants in the 90 days"
            mrr_chart.show(mrr_lines(r))
            self._show_top(r, theme)
        else:
            assert value.revenue_error is not None
            what = "Revenue and tenant blocks"
            line = missing_line(value.revenue_error, what, "clickhouse", context)
            revenue_note.update(missing_line(value.revenue_error, what, "clickhouse", context, hint=False))
            revenue_note.display = True
            for hidden in ("#business-figures", "#business-top-title", "#business-top"):
                self.query_one(hidden).display = False
            self.set_focus(None)  # no table: Enter has nothing to open (check_action), the footer does not offer it
            mrr_chart.empty_message = line
            mrr_chart.show([])
            self.query_one(FittedTable).show_rows([])
        self.refresh_bindings()

        if not self._chart_chosen:
            # One chart at a time: the one with data, while the user has not picked one.
            self._chart_index = 1 if value.calls is None and value.revenue is not None else 0
            self._layout_charts()

    def _show_top(self, r: Revenue, theme: dict[str, str]) -> None:
        error, warning = theme.get("error", "red"), theme.get("warning", "yellow")
        rows: list[tuple[str, list[Text | str]]] = []
        for t in r.top:
            rows.append(
                (
                    t.tenant_id,
                    [
                        t.tenant_id,
                        (t.name or "—") + (" (ended)" if t.ended else ""),
                        t.plan or "—",
                        money(t.mrr_usd),
                        units.count(t.requests),
                        units.count(t.month_calls),
                        quota_cell(t.quota_used_pct, error, warning),
                    ],
                )
            )
        self.query_one(FittedTable).show_rows(rows)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without the tenants table (no ClickHouse) Enter has nothing to open: not offered.
        if action == "open" and self.is_mounted:
            return bool(self.query_one(FittedTable).display)
        return True

    def current(self) -> str | None:
        table = self.query_one(FittedTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_open(self) -> None:
        tenant = self.current()
        if tenant is None:
            self.notify("no tenant selected", severity="warning")
            return
        self.post_message(ShowTenant(tenant))

    @on(DataTable.RowSelected, "#business-top")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
