"""SLO: each service against the objectives (availability 99.9 %, latency 99 % under 100 ms,
error rate 0.1 %): the indicator, the error budget left over 30 days, burn rates over 5m / 30m /
1h / 6h, and in plain words when the budget runs out at the current burn rate.

The figures are backends/slo.py's (the same as `zeta slo`); when Prometheus holds less than 30
days, they are over the data it has and the screen says how much.

When the context has a ClickHouse section, a second table holds each tenant's SLA over 30 days
from its usage (the catalog's ``sla_compliance``: non-5xx share against its plan's target,
starter 99 %, pro 99.9 %, enterprise 99.95 %), missed ones first. A ClickHouse failure leaves
the SLOs on screen and says so above the tenant table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from zeta_tui.errors import ZetaError
from zeta_tui.models.series import QueryResult
from zeta_tui.models.slo import (
    BURN_WINDOWS,
    PERIOD_DAYS,
    ObjectiveKind,
    SloStatus,
    burn_text,
    format_span,
    plain_words,
    remaining_text,
    sli_text,
)
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import show_usage_note, usage_note
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.table_rows import Cell

if TYPE_CHECKING:
    from zeta_tui.backends.analytics import AnalyticsSource

SLA_DAYS = 30
SLA_COLUMNS = (
    Column("Tenant", "tenant", 11, name=True),
    Column("Plan", "plan", 10),
    Column("Available", "availability", 10),
    Column("SLA", "target", 8),
    Column("", "met", 9),
    Column("Requests", "requests", 9),
    Column("5xx", "errors", 7),
)


@dataclass(frozen=True)
class SloView:
    """The services' SLOs, and the tenants' SLAs when ClickHouse is configured (or why not)."""

    statuses: tuple[SloStatus, ...]
    slas: tuple[Mapping[str, Any], ...] | None = None
    sla_error: str | None = None
    sla_note: str = ""  # where the SLA figures came from, when not zeta's rollup
    #: what service discovery chose or found missing (a namespace fallback, requests from a histogram)
    notes: tuple[str, ...] = ()


class SloScreen(PollingScreen[SloView]):
    def compose_body(self) -> ComposeResult:
        yield Static("", id="slo-history")
        yield FittedTable(id="slo-table", zebra_stripes=True)
        yield Static("", id="slo-words")
        yield Static("", id="sla-title")
        yield usage_note()
        yield FittedTable(SLA_COLUMNS, id="sla-table", zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        table = self.query_one("#slo-table", FittedTable)
        self._wide = self.app.size.width >= 120  # p95 beside the latency SLI only where it fits
        table.set_columns(
            (
                Column("Service", "service", 11, name=True),
                Column("Objective", "objective", 13 if self._wide else 12),
                Column("SLI", "sli", 22 if self._wide else 9),
                Column("Target", "target", 16),  # "≥ 99 % < 100 ms" whole
                Column("Budget left", "left", 11),
                *(Column(f"Burn {window}", f"burn-{window}", 9) for window in BURN_WINDOWS),
            )
        )
        table.focus()
        self._statuses: list[SloStatus] = []
        sla = self.query_one("#sla-table", FittedTable)
        has_sla = self.app.session.clickhouse is not None
        sla.display = has_sla
        self.query_one("#sla-title", Static).display = has_sla

    def prefetch(self) -> None:
        """Not at start-up: the SLOs are 22 queries, and they would compete with the first
        screen's; they are fetched when the screen is shown."""

    async def fetch(self, time_range: TimeRange) -> QueryResult[SloView]:
        from zeta_tui.backends.slo import fetch_slo, slo_services

        prom = self.require_prometheus()
        inventory = await self.app.session.inventory(self.app.clock())
        slo = fetch_slo(
            prom, self.app.catalog, inventory, slo_services(inventory, self.app.context.services), at=self.app.clock()
        )
        clickhouse = self.app.session.clickhouse
        if clickhouse is None:
            result = await slo
            return QueryResult(SloView(tuple(result.data), notes=inventory.notes), result.warnings)
        result, slas = await asyncio.gather(slo, self._fetch_slas(clickhouse), return_exceptions=True)
        if isinstance(result, BaseException):
            raise result
        if isinstance(slas, ZetaError):
            return QueryResult(SloView(tuple(result.data), None, slas.render(), notes=inventory.notes), result.warnings)
        if isinstance(slas, BaseException):
            raise slas
        sla_rows, sla_error, sla_note = slas
        view = SloView(tuple(result.data), sla_rows, sla_error, sla_note, notes=inventory.notes)
        return QueryResult(view, result.warnings)

    async def _fetch_slas(self, clickhouse: AnalyticsSource) -> tuple[tuple[Mapping[str, Any], ...], None, str]:
        until = datetime.fromtimestamp(self.app.clock(), tz=UTC).date()
        answer = await clickhouse.named("sla_compliance", {"days": SLA_DAYS, "until": until}, today=until)
        return tuple(answer.records()), None, answer.note

    def show(self, view: SloView) -> None:
        self._show_slas(view)
        value = view.statuses
        self._statuses = list(value)
        error = self.app.theme_variables.get("error", "red")
        rows: list[tuple[str, Sequence[Cell]]] = []
        for s in value:
            left = Text(remaining_text(s))
            if s.exhausted:
                left = Text(f"✖ {remaining_text(s)}", style=f"bold {error}")
            sli = sli_text(s)
            if self._wide and s.objective.kind is ObjectiveKind.LATENCY and s.p95_seconds is not None:
                sli += f" (p95 {s.p95_seconds * 1000:.0f} ms)"
            burns = s.burn_rates
            rows.append(
                (
                    f"{s.service}/{s.objective.name}",
                    [
                        s.service,
                        s.objective.name,
                        sli,
                        s.objective.describe_target(),
                        left,
                        *(burn_text(burns[w]) for w in BURN_WINDOWS),
                    ],
                )
            )
        self.query_one("#slo-table", FittedTable).show_rows(rows)
        history = next((s.history_seconds for s in value if s.history_seconds is not None), None)
        # The count first: at 80 columns the end of the line is cut.
        spent = sum(1 for s in value if s.exhausted)
        note = f"{spent} of {len(value)} budgets spent · " if value else ""
        note += f"error budgets over {PERIOD_DAYS} days"
        if history is not None and history < PERIOD_DAYS * 86400 - 3600:
            note += f", read over the {format_span(history)} of data Prometheus holds"
        note = " · ".join([note, *view.notes])
        self.query_one("#slo-history", Static).update(note, layout=False)
        self._show_words()

    def _show_slas(self, view: SloView) -> None:
        if self.app.session.clickhouse is None:
            return
        title = self.query_one("#sla-title", Static)
        if view.slas is None:
            title.update(f"tenant SLAs: ✖ {view.sla_error or 'no answer'}", layout=False)
            return
        show_usage_note(self, (view.sla_note,))
        error = self.app.theme_variables.get("error", "red")
        missed = sum(1 for r in view.slas if not int(r["met"]))
        title.update(
            f"tenant SLAs over {SLA_DAYS} days (ClickHouse usage): {missed} of {len(view.slas)} missed", layout=False
        )
        rows: list[tuple[str, Sequence[Cell]]] = []
        for r in view.slas:
            met = Text("met") if int(r["met"]) else Text("✖ MISSED", style=f"bold {error}")
            rows.append(
                (
                    str(r["tenant_id"]),
                    [
                        str(r["tenant_id"]),
                        str(r["plan"]),
                        f"{float(r['availability_pct']):.3f} %",
                        f"{float(r['target_pct']):g} %",
                        met,
                        f"{int(r['requests']):,}",
                        f"{int(r['server_errors']):,}",
                    ],
                )
            )
        self.query_one("#sla-table", FittedTable).show_rows(rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_words()

    def _show_words(self) -> None:
        table = self.query_one("#slo-table", DataTable)
        if not table.row_count or not getattr(self, "_statuses", None):
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        status = next((s for s in self._statuses if f"{s.service}/{s.objective.name}" == key), None)
        if status is not None:
            self.query_one("#slo-words", Static).update(
                f"{status.service} {status.objective.name}: {plain_words(status)}", layout=False
            )
