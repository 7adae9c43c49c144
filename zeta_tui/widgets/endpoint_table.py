"""Top slowest endpoints: p50/p95/p99, request rate and error share over the range."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from zeta_tui.models.performance import EndpointStats
from zeta_tui.widgets import units
from zeta_tui.widgets.fitted_table import Column, FittedTable

ERROR_SHARE_WARN = 0.01

COLUMNS = (
    Column("Endpoint", "endpoint", 16, name=True),
    Column("Service", "service", 11, name=True),
    Column("Req/s", "req/s", 8),
    Column("p50", "p50", 8, drop=1),
    Column("p95", "p95", 8),
    Column("p99", "p99", 8),
    Column("5xx", "5xx", 8),
)


class SlowestEndpointsTable(FittedTable):
    DEFAULT_CSS = """
    SlowestEndpointsTable { height: auto; max-height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)

    def show(self, rows: Sequence[EndpointStats]) -> None:
        error_colour = self.app.theme_variables.get("error", "")
        table_rows: list[tuple[str, list]] = []
        for row in rows:
            share = row.error_ratio
            bad = share is not None and share == share and share >= ERROR_SHARE_WARN
            errors = Text(units.percent(share) + (" !" if bad else ""), style=f"bold {error_colour}" if bad else "")
            table_rows.append(
                (
                    f"{row.service} {row.endpoint}",
                    [
                        row.endpoint,
                        row.service,
                        units.per_second(row.request_rate),
                        units.seconds(row.p50),
                        Text(units.seconds(row.p95), style="bold"),
                        units.seconds(row.p99),
                        errors,
                    ],
                )
            )
        self.show_rows(table_rows)
