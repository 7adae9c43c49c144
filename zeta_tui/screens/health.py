"""Service Health: which services are up, degraded or down, and how they are doing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import DataTable, Static

from zeta_tui.messages import ShowService
from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets import units
from zeta_tui.widgets.line_chart import ChartLine, LineChart
from zeta_tui.widgets.service_table import ServiceHealthTable

DETAIL_MIN_HEIGHT = 20  # rows; below this the per-service charts are hidden
DETAIL_ALL_WIDTH = 120  # columns; below this one chart at a time, `c` cycles
DETAIL_CHARTS = ("detail-cpu", "detail-memory", "detail-network")


@dataclass(frozen=True)
class HealthView:
    """The rows, and what discovery chose or found missing (shown beside the counts)."""

    rows: tuple[ServiceHealth, ...]
    notes: tuple[str, ...] = ()


def summary(view: HealthView) -> str:
    rows = view.rows
    counts = Counter(r.status for r in rows)
    parts = [f"{counts[s]} {s.value}" for s in ServiceStatus if counts[s]]
    text = f"{len(rows)} services: " + ", ".join(parts) if rows else "no services found"
    lacking = [r for r in rows if r.missing]
    if len(lacking) == 1:
        text += f" · {lacking[0].name}: {lacking[0].missing}"
    elif lacking:
        text += f" · {len(lacking)} lack some signals"
    return " · ".join([text, *view.notes])


class HealthScreen(PollingScreen[HealthView]):
    BINDINGS = [
        Binding(
            "enter", "drill", "API perf", id="health.drill", tooltip="Open API Performance for the selected service"
        ),
        Binding(
            "c", "next_chart", "Chart", id="health.chart", tooltip="Show the next per-service chart when only one fits"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._chart_index = 0
        self._summary = ""

    def compose_body(self) -> ComposeResult:
        yield Static("no data yet", id="health-summary", classes="summary")
        yield ServiceHealthTable(id="health-table")
        with Grid(id="health-detail"):
            yield LineChart("CPU (cores)", units.cores, id="detail-cpu")
            yield LineChart("Memory", units.bytes_, id="detail-memory")
            yield LineChart("Network I/O", units.bytes_rate, id="detail-network")

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        self._layout_detail()

    def on_resize(self) -> None:
        self._layout_detail()

    def _layout_detail(self) -> None:
        # The per-service charts where they fit: three side by side, or one that `c` cycles.
        width, height = self.app.size
        grid = self.query_one("#health-detail")
        grid.display = height >= DETAIL_MIN_HEIGHT
        narrow = width < DETAIL_ALL_WIDTH
        grid.set_class(narrow, "-compact")
        for i, chart_id in enumerate(DETAIL_CHARTS):
            self.query_one(f"#{chart_id}").display = not narrow or i == self._chart_index

    def action_next_chart(self) -> None:
        self._chart_index = (self._chart_index + 1) % len(DETAIL_CHARTS)
        self._layout_detail()

    async def fetch(self, time_range: TimeRange) -> QueryResult[HealthView]:
        prom = self.require_prometheus()
        from zeta_tui.backends.service_health import fetch_service_health  # httpx: not at start-up

        inventory = await self.app.session.inventory(time_range.end)
        result = await fetch_service_health(prom, self.app.catalog, inventory, time_range=time_range)
        return QueryResult(HealthView(tuple(result.data), inventory.notes), result.warnings)

    def show(self, value: HealthView) -> None:
        text = summary(value)
        if text != self._summary:  # an update repaints even when the words are the same
            self._summary = text
            self.query_one("#health-summary", Static).update(text, layout=False)
        table = self.query_one(ServiceHealthTable)
        table.show(value.rows)
        # The table (what is broken) goes out in this frame; the charts follow in the next.
        self.call_after_refresh(lambda: self._show_detail(table.selected_service()))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail(str(event.row_key.value) if event.row_key is not None else None)

    def _show_detail(self, service: str | None) -> None:
        rows = {r.name: r for r in (self.snapshot.value.rows if self.snapshot.value else ())}
        row = rows.get(service or "")
        if row is None:
            return
        tr = self.app.current_range()
        times = row.history_times()
        memory_limit = (
            [ChartLine("limit", times, (row.memory_limit_bytes,) * len(times))] if row.memory_limit_bytes else []
        )
        charts = {
            "#detail-cpu": ("CPU (cores)", [ChartLine(row.name, times, row.history.get("cpu", ()))]),
            "#detail-memory": ("Memory", [ChartLine(row.name, times, row.history.get("memory", ())), *memory_limit]),
            "#detail-network": ("Network I/O", [ChartLine(row.name, times, row.history.get("network", ()))]),
        }
        for chart_id, (title, lines) in charts.items():
            chart = self.query_one(chart_id, LineChart)
            chart.empty_message = f"{row.name}: {row.missing}" if row.missing else "no data in this time range"
            if chart.border_title != f"{title} · {row.name}":  # setting it repaints, even unchanged
                chart.border_title = f"{title} · {row.name}"
            chart.show([line for line in lines if line.ys], (tr.start, tr.end))

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(ShowService(str(event.row_key.value)))

    async def action_drill(self) -> None:
        service = self.query_one(ServiceHealthTable).selected_service()
        if service is not None:
            self.post_message(ShowService(service))
