"""Service Health table: one row per service, worst first, figures with sparklines."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.widgets import units
from zeta_tui.widgets.sparkline_text import sparkline
from zeta_tui.widgets.table_rows import replace_rows

STATUS_MARK = {ServiceStatus.UP: "●", ServiceStatus.DEGRADED: "◐", ServiceStatus.DOWN: "✖", ServiceStatus.UNKNOWN: "?"}
STATUS_VARIABLE = {ServiceStatus.UP: "success", ServiceStatus.DEGRADED: "warning", ServiceStatus.DOWN: "error", ServiceStatus.UNKNOWN: "foreground-muted"}

# (column label, history key, formatter of the current value)
FIGURES = (
    ("CPU", "cpu", lambda r: units.cores(r.cpu_cores)),
    ("Memory", "memory", lambda r: _memory(r)),
    ("Disk I/O", "disk", lambda r: units.bytes_rate(r.disk_bytes_per_s)),
    ("Net I/O", "network", lambda r: units.bytes_rate(r.network_bytes_per_s)),
    ("Restarts", "restarts", lambda r: units.count(r.restarts)),
)


# Column widths without sparklines (with them: an 11-wide value, a space, the sparkline).
FIGURE_WIDTH = {"cpu": 6, "memory": 12, "disk": 10, "network": 10, "restarts": 8}


def _memory(row: ServiceHealth) -> str:
    ratio = row.memory_ratio
    used = units.bytes_(row.memory_bytes)
    return f"{used} {units.percent(ratio, 0)}" if ratio is not None else used


def spark_width_for(table_width: int) -> int:
    """Sparklines only where they fit: none below 110 columns, then up to 12 wide."""
    if table_width < 110:
        return 0
    return min(12, (table_width - 70) // len(FIGURES))


class ServiceHealthTable(DataTable):
    """Reactive-free on purpose: the screen calls show(rows) when new data arrive."""

    DEFAULT_CSS = """
    ServiceHealthTable { height: auto; max-height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: tuple[ServiceHealth, ...] = ()
        self._spark_width = -1

    def on_mount(self) -> None:
        self._rebuild_columns(spark_width_for(self.size.width))

    def _rebuild_columns(self, spark_width: int) -> None:
        self._spark_width = spark_width
        self.clear(columns=True)
        # Fixed widths: a table that sizes its columns from the rows that arrive moves under the
        # reader's eyes, and Textual may draw the header with the widths from before the rows.
        self.add_column("Service", key="service", width=11)
        self.add_column("Status", key="status", width=10)
        for label, key, _ in FIGURES:
            width = FIGURE_WIDTH.get(key, 10)
            self.add_column(label, key=key, width=width if spark_width <= 0 else 12 + spark_width)

    def on_resize(self) -> None:
        width = spark_width_for(self.size.width)
        if width != self._spark_width:
            self._rebuild_columns(width)
            self.show(self._rows)  # columns were rebuilt, so every row is re-added

    def show(self, rows: Sequence[ServiceHealth]) -> None:
        selected = self.selected_service()
        self._rows = tuple(rows)
        variables = self.app.theme_variables
        table_rows = []
        for row in self._rows:
            colour = variables.get(STATUS_VARIABLE[row.status], "")
            status = Text(f"{STATUS_MARK[row.status]} {row.status.value}", style=f"bold {colour}".strip())
            cells: list[Text | str] = [Text(row.name, style="bold"), status]
            for _, key, fmt in FIGURES:
                cells.append(self._figure(fmt(row), row.history.get(key, ())))
            table_rows.append((row.name, cells))
        replace_rows(self, table_rows)
        if selected is not None and selected in {r.name for r in self._rows}:
            index = self.get_row_index(selected)
            if index != self.cursor_row:  # moving the cursor repaints the table
                self.move_cursor(row=index)

    def _figure(self, value: str, history: Sequence[float]) -> Text:
        if self._spark_width <= 0 or not history:
            return Text(value)
        # Floor one span below the minimum (never below zero): a change shows clearly, but a
        # small wiggle on a large value does not look like a swing from nothing to full.
        finite = [v for v in history if v == v]
        lo = max(0.0, 2 * min(finite) - max(finite)) if finite else None
        line = sparkline(history, self._spark_width, lo=lo)
        return Text.assemble((f"{value:>11} ", ""), (line, self.app.theme_variables.get("primary", "")))

    def selected_service(self) -> str | None:
        if not self._rows or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return str(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
