"""Top slowest endpoints: p50/p95/p99, request rate and error share over the range."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from zeta_tui.models.performance import EndpointStats
from zeta_tui.widgets import units
from zeta_tui.widgets.table_rows import replace_rows

ERROR_SHARE_WARN = 0.01


class SlowestEndpointsTable(DataTable):
    DEFAULT_CSS = """
    SlowestEndpointsTable { height: auto; max-height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def on_mount(self) -> None:
        # Fixed widths (see ServiceHealthTable): the endpoint column holds the world's longest path.
        for label, width in (("Endpoint", 24), ("Service", 11), ("Req/s", 8), ("p50", 8), ("p95", 8), ("p99", 8), ("5xx", 8)):
            self.add_column(label, key=label.lower(), width=width)

    def show(self, rows: Sequence[EndpointStats]) -> None:
        error_colour = self.app.theme_variables.get("error", "")
        table_rows: list[tuple[str, list]] = []
        for row in rows:
            share = row.error_ratio
            bad = share is not None and share == share and share >= ERROR_SHARE_WARN
            errors = Text(units.percent(share) + (" !" if bad else ""), style=f"bold {error_colour}" if bad else "")
            table_rows.append((f"{row.service} {row.endpoint}", [
                row.endpoint,
                row.service,
                units.per_second(row.request_rate),
                units.seconds(row.p50),
                Text(units.seconds(row.p95), style="bold"),
                units.seconds(row.p99),
                errors,
            ]))
        replace_rows(self, table_rows)
