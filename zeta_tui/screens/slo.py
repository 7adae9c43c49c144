"""SLO: each service against the objectives (availability 99.9 %, latency 99 % under 100 ms,
error rate 0.1 %): the indicator, the error budget left over 30 days, burn rates over 5m / 30m /
1h / 6h, and in plain words when the budget runs out at the current burn rate.

The figures are backends/slo.py's (the same as `zeta slo`); when Prometheus holds less than 30
days, they are over the data it has and the screen says how much.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from zeta_tui.models.series import QueryResult
from zeta_tui.models.slo import BURN_WINDOWS, PERIOD_DAYS, ObjectiveKind, SloStatus, burn_text, format_span, plain_words, remaining_text, sli_text
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.table_rows import replace_rows


class SloScreen(PollingScreen[list[SloStatus]]):
    TITLE = "SLO"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="slo-history")
        yield DataTable(id="slo-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="slo-words")

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        table = self.query_one("#slo-table", DataTable)
        self._wide = self.app.size.width >= 120  # p95 beside the latency SLI only where it fits
        table.add_column("Service", key="service", width=12 if self._wide else 11)
        table.add_column("Objective", key="objective", width=13 if self._wide else 12)
        table.add_column("SLI", key="sli", width=22 if self._wide else 9)
        table.add_column("Target", key="target", width=15 if self._wide else 14)
        table.add_column("Budget left", key="left", width=11)
        for window in BURN_WINDOWS:
            table.add_column(f"Burn {window}", key=f"burn-{window}", width=9)
        table.focus()
        self._statuses: list[SloStatus] = []

    def prefetch(self) -> None:
        """Not at start-up: the SLOs are 22 queries, and they would compete with the first
        screen's; they are fetched when the screen is shown."""

    async def fetch(self, time_range: TimeRange) -> QueryResult[list[SloStatus]]:
        from zeta_tui.backends.slo import fetch_slo

        return await fetch_slo(self.require_prometheus(), self.app.catalog, list(self.app.context.services), at=self.app.clock())

    def show(self, value: list[SloStatus]) -> None:
        self._statuses = list(value)
        error = self.app.theme_variables.get("error", "red")
        rows = []
        for s in value:
            left = Text(remaining_text(s))
            if s.exhausted:
                left = Text(f"✖ {remaining_text(s)}", style=f"bold {error}")
            sli = sli_text(s)
            if self._wide and s.objective.kind is ObjectiveKind.LATENCY and s.p95_seconds is not None:
                sli += f" (p95 {s.p95_seconds * 1000:.0f} ms)"
            burns = s.burn_rates
            rows.append((f"{s.service}/{s.objective.name}",
                         [s.service, s.objective.name, sli, s.objective.describe_target(), left, *(burn_text(burns[w]) for w in BURN_WINDOWS)]))
        replace_rows(self.query_one("#slo-table", DataTable), rows)
        history = next((s.history_seconds for s in value if s.history_seconds is not None), None)
        note = f"error budgets over {PERIOD_DAYS} days"
        if history is not None and history < PERIOD_DAYS * 86400 - 3600:
            note += f" · over the {format_span(history)} of data Prometheus holds"
        spent = sum(1 for s in value if s.exhausted)
        note += f" · {spent} of {len(value)} budgets spent" if value else ""
        self.query_one("#slo-history", Static).update(note, layout=False)
        self._show_words()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_words()

    def _show_words(self) -> None:
        table = self.query_one("#slo-table", DataTable)
        if not table.row_count or not getattr(self, "_statuses", None):
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        status = next((s for s in self._statuses if f"{s.service}/{s.objective.name}" == key), None)
        if status is not None:
            self.query_one("#slo-words", Static).update(f"{status.service} {status.objective.name}: {plain_words(status)}", layout=False)
