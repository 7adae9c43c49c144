"""API Performance: request rate, p50/p95/p99 latency, errors by status, slowest endpoints."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import Input, Static

from zeta_tui.messages import GoBack
from zeta_tui.models.performance import ApiPerformance
from zeta_tui.models.series import QueryResult, Series
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying.promql_catalog import alternation, regex_escape
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets import units
from zeta_tui.widgets.endpoint_table import SlowestEndpointsTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

CHARTS = ("chart-latency", "chart-rate", "chart-errors")
COMPACT_HEIGHT = 34  # below this many rows only one chart is shown; `c` cycles through them


def _line(series: Series, label: str) -> ChartLine:
    return ChartLine(label, tuple(s.t for s in series.samples), tuple(s.v for s in series.samples))


def endpoint_filter_regex(text: str) -> str:
    """What the user typed (a plain substring) as an RE2 regex matching whole endpoint labels."""
    text = text.strip()
    if not text:
        return ".*"
    return f".*{regex_escape(text)}.*"


class ApiPerformanceScreen(PollingScreen[ApiPerformance]):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="api.filter", tooltip="Filter endpoints by a substring"),
        Binding(
            "s",
            "next_service",
            "Service",
            id="api.service",
            tooltip="Cycle the service filter (all, then each service)",
        ),
        Binding("c", "next_chart", "Chart", id="api.chart", tooltip="Show the next chart when only one fits"),
        Binding(
            "escape",
            "clear_filter",
            "Clear/back",
            id="api.clear",
            tooltip="Clear the service and endpoint filters; with none, go back",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.service: str | None = None
        self.endpoint_text = ""
        self._chart_index = 0
        #: the services with HTTP metrics, from the last discovery (what `s` cycles through)
        self._http_services: list[str] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="api-filters"):
            yield Static(id="api-scope")
            yield Input(placeholder="/ filter endpoints", id="api-endpoint-filter")
        with Grid(id="api-charts"):
            yield LineChart("Latency p50 / p95 / p99", units.seconds, id="chart-latency")
            yield LineChart("Requests per endpoint", units.per_second, id="chart-rate")
            yield LineChart("4xx/5xx by status", units.per_second, id="chart-errors")
        yield Static("Top 10 slowest endpoints (p95 over the range)", classes="section-title")
        yield SlowestEndpointsTable(id="api-slowest")

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        self._show_scope()
        self._layout_charts()
        self.query_one(SlowestEndpointsTable).focus()

    def on_resize(self) -> None:
        self._layout_charts()

    def _layout_charts(self) -> None:
        compact = self.app.size.height < COMPACT_HEIGHT or self.app.size.width < 100
        for i, chart_id in enumerate(CHARTS):
            self.query_one(f"#{chart_id}").display = not compact or i == self._chart_index
        self.query_one("#api-charts").set_class(compact, "-compact")

    # --- the question --------------------------------------------------------------------

    def question(self) -> tuple[str | None, str]:
        return (self.service, self.endpoint_text)

    def set_service(self, service: str | None) -> None:
        self.service = service
        self._show_scope()
        if self.is_mounted:
            self.refresh_data()

    def set_scope(self, service: str | None, endpoint: str) -> None:
        """One service and an endpoint filter at once (a join from a trace's span)."""
        self.endpoint_text = endpoint
        if self.is_mounted:
            self.query_one("#api-endpoint-filter", Input).value = endpoint
        self.set_service(service)

    def _services(self) -> list[str]:
        return [self.service] if self.service else list(self._http_services)

    def _show_scope(self) -> None:
        if not self.children:
            return  # not composed yet; on_mount shows it
        scope = f"service: {self.service or 'all'}"
        self.query_one("#api-scope", Static).update(scope)

    async def fetch(self, time_range: TimeRange) -> QueryResult[ApiPerformance]:
        prom = self.require_prometheus()
        from zeta_tui.backends.api_performance import fetch_api_performance  # httpx: not at start-up
        from zeta_tui.models.discovery import Signal

        inventory = await self.app.session.inventory(time_range.end)
        self._http_services = (
            inventory.with_signal(Signal.REQUESTS) or inventory.with_signal(Signal.LATENCY) or inventory.names()
        )
        return await fetch_api_performance(
            prom,
            self.app.catalog,
            inventory,
            services=self._services(),
            endpoints_regex=endpoint_filter_regex(self.endpoint_text),
            time_range=time_range,
        )

    def show(self, value: ApiPerformance) -> None:
        self.query_one(SlowestEndpointsTable).show(value.slowest(10))
        # The table goes out in this frame; the charts (plotext) follow in the next.
        self.call_after_refresh(self._show_charts, value)

    def _show_charts(self, value: ApiPerformance) -> None:
        tr = self.app.current_range()
        x_range = (tr.start, tr.end)
        latency = [_line(s, name) for name, s in value.latency.items() if s is not None]
        chart = self.query_one("#chart-latency", LineChart)
        chart.empty_message = f"no HTTP latency for {alternation(self._services())}"
        chart.show(latency, x_range)
        for chart_id in CHARTS[1:]:
            self.query_one(f"#{chart_id}", LineChart).empty_message = "no data in this time range"
        self.query_one("#chart-rate", LineChart).show(
            [_line(s, s.label("endpoint")) for s in value.request_rate], x_range
        )
        self.query_one("#chart-errors", LineChart).show(
            [_line(s, s.label("status")) for s in value.errors_by_status], x_range
        )

    # --- actions -------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one("#api-endpoint-filter", Input).focus()

    @on(Input.Submitted, "#api-endpoint-filter")
    def _endpoint_submitted(self, event: Input.Submitted) -> None:
        self.endpoint_text = event.value
        self.query_one(SlowestEndpointsTable).focus()
        self.refresh_data()

    def action_next_service(self) -> None:
        choices: list[str | None] = [None, *self._http_services]
        self.set_service(choices[(choices.index(self.service) + 1) % len(choices)] if self.service in choices else None)

    def action_next_chart(self) -> None:
        self._chart_index = (self._chart_index + 1) % len(CHARTS)
        self._layout_charts()

    def action_clear_filter(self) -> None:
        if self.service is None and not self.endpoint_text:
            self.post_message(GoBack())  # nothing to clear: Esc walks back
            return
        self.query_one("#api-endpoint-filter", Input).value = ""
        self.endpoint_text = ""
        self.set_service(None)
