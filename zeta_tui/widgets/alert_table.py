"""The alerts list: severity as a word and a colour, what fired, for how long, who it went to."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from zeta_tui.models.alert_overview import AlertRow
from zeta_tui.models.timerange import format_age
from zeta_tui.widgets.table_rows import replace_rows

SEVERITY_VARIABLE = {"critical": "error", "error": "error", "warning": "warning", "info": "accent"}
STATE_WORD = {"active": "FIRING", "pending": "pending", "silenced": "silenced", "inhibited": "inhibited", "muted": "muted"}


def row_key(row: AlertRow) -> str:
    return row.fingerprint or f"{row.source}:" + ",".join(f"{k}={v}" for k, v in sorted(row.labels.items()))


class AlertTable(DataTable):
    """Rows in the order given (the overview sorts them); the screen sets ``colours``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.colours: dict[str, str] = {}
        self.rows_shown: list[AlertRow] = []

    def on_mount(self) -> None:
        wide = self.app.size.width >= 120
        self.add_column("Severity", key="severity", width=8)
        self.add_column("State", key="state", width=9)
        self.add_column("Alert", key="alert", width=20 if wide else 15)
        self.add_column("Service", key="service", width=14 if wide else 10)
        self.add_column("For", key="for", width=6 if wide else 5)
        # From the condition beginning to the alert firing: the seed's "detection within 5 minutes".
        self.add_column("Detected in" if wide else "Det.", key="detected", width=11 if wide else 5)
        if wide:
            self.add_column("Receiver", key="receiver", width=18)
        self.add_column("Summary", key="summary")

    def show(self, rows: Sequence[AlertRow], now: float) -> None:
        self.rows_shown = list(rows)
        wide = "receiver" in self.columns
        table_rows = []
        for row in rows:
            colour = self.colours.get(SEVERITY_VARIABLE.get(row.severity, ""), "")
            severity = Text(row.severity.upper() or "—", style=f"bold {colour}".strip())
            muted = row.state in ("silenced", "inhibited", "muted")
            state = Text(STATE_WORD.get(row.state, row.state), style="dim" if muted or row.state == "pending" else "bold")
            detected = row.detection_seconds
            cells = [
                severity, state, row.name, row.service or "—",
                format_age(now - row.since) if row.since else "?",
                format_age(detected) if detected is not None else "—",
            ]
            if wide:
                cells.append(", ".join(row.receivers) or "—")
            cells.append(row.summary)
            table_rows.append((row_key(row), cells))
        replace_rows(self, table_rows)

    def current(self) -> AlertRow | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((r for r in self.rows_shown if row_key(r) == key), None)
