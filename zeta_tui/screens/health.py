"""Service Health: which services are up, degraded or down, and how they are doing."""

from __future__ import annotations

from collections import Counter

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from zeta_tui.backends.service_health import fetch_service_health
from zeta_tui.errors import BackendUnavailable
from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.service_table import ServiceHealthTable


def summary(rows: list[ServiceHealth]) -> str:
    counts = Counter(r.status for r in rows)
    parts = [f"{counts[s]} {s.value}" for s in ServiceStatus if counts[s]]
    return f"{len(rows)} services: " + ", ".join(parts) if rows else "no services configured"


class HealthScreen(PollingScreen[list[ServiceHealth]]):
    TITLE = "Service health"

    BINDINGS = [
        Binding("enter", "drill", "API perf", id="health.drill", tooltip="Open API Performance for the selected service"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="health-summary", classes="summary")
        yield ServiceHealthTable(id="health-table")

    async def fetch(self, time_range: TimeRange) -> QueryResult[list[ServiceHealth]]:
        prom = self.app.prometheus
        if prom is None:
            raise BackendUnavailable(
                f"context {self.app.context_name!r} has no [prometheus] section",
                hint=f"add [contexts.{self.app.context_name}.prometheus] url = ... to the config file",
            )
        ctx = self.app.context
        return await fetch_service_health(prom, self.app.catalog, namespace=ctx.namespace, services=list(ctx.services), time_range=time_range)

    def show(self, value: list[ServiceHealth]) -> None:
        self.query_one("#health-summary", Static).update(summary(value))
        self.query_one(ServiceHealthTable).show(value)

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.app.drill_to_service(str(event.row_key.value))

    async def action_drill(self) -> None:
        table = self.query_one(ServiceHealthTable)
        if table.row_count:
            await self.app.drill_to_service(str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value))
