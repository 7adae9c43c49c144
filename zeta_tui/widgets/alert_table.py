"""The alerts list: severity as a word and a colour, what fired, for how long, who it went to."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from zeta_tui.models.alert_overview import AlertRow
from zeta_tui.models.timerange import format_age
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.table_rows import Cell

SEVERITY_VARIABLE = {"critical": "error", "error": "error", "warning": "warning", "info": "accent"}
STATE_WORD = {
    "active": "FIRING",
    "pending": "pending",
    "silenced": "silenced",
    "inhibited": "inhibited",
    "muted": "muted",
}


def row_key(row: AlertRow) -> str:
    return row.fingerprint or f"{row.source}:" + ",".join(f"{k}={v}" for k, v in sorted(row.labels.items()))


NARROW = (
    Column("Severity", "severity", 8),
    Column("State", "state", 9),
    Column("Alert", "alert", 12, name=True),
    Column("Service", "service", 9, name=True),
    Column("For", "for", 5),
    # From the condition beginning to the alert firing: the seed's "detection within 5 minutes".
    Column("Det.", "detected", 5),
    Column("Receiver", "receiver", 12, name=True, drop=1),
    Column("Summary", "summary", 10, name=True),
)
WIDE = tuple(Column("Detected in", "detected", 11) if c.key == "detected" else c for c in NARROW)


class AlertTable(FittedTable):
    """Rows in the order given (the overview sorts them); the screen sets ``colours``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(NARROW, id=id, zebra_stripes=True)
        self.colours: dict[str, str] = {}
        self.rows_shown: list[AlertRow] = []

    def on_resize(self) -> None:
        columns = WIDE if self.app.size.width >= 120 else NARROW
        if columns != self._columns:
            self.set_columns(columns)
        else:
            super().on_resize()

    def on_mount(self) -> None:
        self.on_resize()

    def show(self, rows: Sequence[AlertRow], now: float) -> None:
        self.rows_shown = list(rows)
        table_rows: list[tuple[str, Sequence[Cell]]] = []
        for row in rows:
            colour = self.colours.get(SEVERITY_VARIABLE.get(row.severity, ""), "")
            severity = Text(row.severity.upper() or "—", style=f"bold {colour}".strip())
            muted = row.state in ("silenced", "inhibited", "muted")
            state = Text(
                STATE_WORD.get(row.state, row.state), style="dim" if muted or row.state == "pending" else "bold"
            )
            detected = row.detection_seconds
            cells: list[Cell] = [
                severity,
                state,
                row.name,
                row.service or "—",
                format_age(now - row.since) if row.since else "?",
                format_age(detected) if detected is not None else "—",
                ", ".join(row.receivers) or "—",
                row.summary,
            ]
            table_rows.append((row_key(row), cells))
        self.show_rows(table_rows)

    def current(self) -> AlertRow | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((r for r in self.rows_shown if row_key(r) == key), None)
