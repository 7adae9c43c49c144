"""Service Health table: one row per service, worst first, figures with sparklines."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.coordinate import Coordinate

from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.widgets import units
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.sparkline_text import sparkline
from zeta_tui.widgets.table_rows import Cell

STATUS_MARK = {ServiceStatus.UP: "●", ServiceStatus.DEGRADED: "◐", ServiceStatus.DOWN: "✖", ServiceStatus.UNKNOWN: "?"}
STATUS_VARIABLE = {
    ServiceStatus.UP: "success",
    ServiceStatus.DEGRADED: "warning",
    ServiceStatus.DOWN: "error",
    ServiceStatus.UNKNOWN: "foreground-muted",
}

SPARKLINE_MAX = 12

# (column label, history key, width of the value, formatter of the current value, drop rank)
FIGURES = (
    ("Req/s", "requests", 8, lambda r: units.per_second(r.request_rate), 0),
    ("5xx", "errors", 6, lambda r: units.percent(r.error_ratio), 0),
    ("CPU", "cpu", 6, lambda r: units.cores(r.cpu_cores), 0),
    ("Memory", "memory", 12, lambda r: _memory(r), 0),
    ("Disk I/O", "disk", 10, lambda r: units.bytes_rate(r.disk_bytes_per_s), 3),
    ("Net I/O", "network", 10, lambda r: units.bytes_rate(r.network_bytes_per_s), 2),
    ("Restarts", "restarts", 8, lambda r: units.count(r.restarts), 0),
)
# Where the 80 columns go: the name and status, then the request and container figures; disk and
# network go first when there is no room, then the signals' column (the summary line says it too).
COLUMNS = (
    Column("Service", "service", 11, name=True),
    Column("Status", "status", 10),
    *(Column(label, key, width, drop=drop, grow=SPARKLINE_MAX + 1) for label, key, width, _, drop in FIGURES),
    Column("Signals", "signals", 0, name=True, drop=4),
)


def _memory(row: ServiceHealth) -> str:
    ratio = row.memory_ratio
    used = units.bytes_(row.memory_bytes)
    return f"{used} {units.percent(ratio, 0)}" if ratio is not None else used


class ServiceHealthTable(FittedTable):
    """Reactive-free on purpose: the screen calls show(rows) when new data arrive."""

    DEFAULT_CSS = """
    ServiceHealthTable { height: auto; max-height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id, zebra_stripes=False)
        self._health: tuple[ServiceHealth, ...] = ()

    def _layout(self) -> bool:
        rebuilt = super()._layout()
        if rebuilt and self._health:
            self.show(self._health)  # the sparklines' width follows the columns'
        return rebuilt

    def show(self, rows: Sequence[ServiceHealth]) -> None:
        selected = self.selected_service()
        self._health = tuple(rows)
        variables = self.app.theme_variables
        table_rows: list[tuple[str, Sequence[Cell]]] = []
        for row in self._health:
            colour = variables.get(STATUS_VARIABLE[row.status], "")
            status = Text(f"{STATUS_MARK[row.status]} {row.status.value}", style=f"bold {colour}".strip())
            cells: list[Text | str] = [Text(row.name, style="bold"), status]
            for _, key, width, fmt, _ in FIGURES:
                cells.append(self._figure(key, width, fmt(row), row.history.get(key, ())))
            cells.append(Text(row.missing, style="dim"))
            table_rows.append((row.name, cells))
        # The signals' column only while some service lacks one.
        columns = COLUMNS if any(r.missing for r in self._health) else COLUMNS[:-1]
        if columns != self._columns:
            self._rows = table_rows
            self.set_columns(columns)
        self.show_rows(table_rows)
        if selected is not None and selected in {r.name for r in self._health}:
            index = self.get_row_index(selected)
            if index != self.cursor_row:  # moving the cursor repaints the table
                self.move_cursor(row=index)

    def _figure(self, key: str, width: int, value: str, history: Sequence[float]) -> Text:
        spark_width = self.fitted_widths.get(key, width) - width - 1
        if spark_width <= 0 or not history:
            return Text(value)
        # Floor one span below the minimum (never below zero): a change shows clearly, but a
        # small wiggle on a large value does not look like a swing from nothing to full.
        finite = [v for v in history if v == v]
        lo = max(0.0, 2 * min(finite) - max(finite)) if finite else None
        line = sparkline(history, spark_width, lo=lo)
        return Text.assemble((f"{value:>{width}} ", ""), (line, self.app.theme_variables.get("primary", "")))

    def selected_service(self) -> str | None:
        if not self._health or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)
