"""Tenants: who drives the load, who fails, who is near their quota — from ClickHouse usage.

The table is the catalog's ``top_tenants`` over the window (every tenant, not only ten, so the
sort and the filter work on all of them); the chart is ``requests_over_time`` for the five
biggest tenants of the window. The window is whole UTC days ending today (``w`` cycles 7 → 30
→ 1), not the shell's time range: usage is rolled up per day. Enter opens the tenant.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from zeta_tui.messages import GoBack
from zeta_tui.models.analytics import (
    TENANT_SORTS,
    Record,
    as_date,
    bytes_text,
    count_text,
    filter_tenants,
    next_window,
    pct_text,
    sort_tenants,
    window_text,
)
from zeta_tui.models.series import QueryResult
from zeta_tui.models.snapshot import Snapshot
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, require_clickhouse, show_usage_note, today_utc, usage_note
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

#: Tenants drawn in the requests-over-time chart.
CHART_TENANTS = 5
#: Most tenants the table asks for (the catalog query's LIMIT).
TABLE_LIMIT = 5000
#: The answer cache's name for this screen's last answer.
CACHE_NAME = "tenants"
# The tenant's name goes first where 80 columns are short, then the bytes.
TENANT_COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("Name", "name", 12, name=True, drop=2),
    Column("Plan", "plan", 10),
    Column("Requests", "requests", 9),
    Column("Errors", "errors", 8),
    Column("p95", "p95", 7),
    Column("Bytes", "bytes", 10, drop=1),
    Column("Quota used", "quota", 10),
)


@dataclass(frozen=True)
class TenantsView:
    """One answer: the window, every tenant's row, and requests per day per tenant."""

    days: int
    until: date
    rows: tuple[Record, ...]
    over_time: tuple[Record, ...]
    notes: tuple[str, ...] = ()  # where the figures came from, when not zeta's rollup


def quota_cell(value: Any, error_colour: str, warning_colour: str) -> Text:
    """Quota used as text, marked when near (≥ 80 %) or over (≥ 100 %) — a mark, not only a colour."""
    if value is None:
        return Text("—")
    v = float(value)
    if v >= 100:
        return Text(f"✖ {v:.0f} %", style=f"bold {error_colour}")
    if v >= 80:
        return Text(f"▲ {v:.0f} %", style=warning_colour)
    return Text(f"{v:.0f} %")


class TenantsScreen(PollingScreen[TenantsView]):
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="tenants.open",
            tooltip="Open the highlighted tenant: endpoints, latency, quota, cost",
        ),
        Binding(
            "ctrl+t",
            "open",
            "Tenant",
            show=False,
            id="tenants.tenant",
            tooltip="Open the highlighted tenant (as Enter)",
        ),
        Binding(
            "s",
            "sort",
            "Sort",
            id="tenants.sort",
            tooltip="Sort by requests, error rate, p95, bytes, quota used, tenant",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="tenants.filter",
            tooltip="Show tenants whose id, name or plan contain the words",
        ),
        Binding("escape", "clear_filter", "Clear", id="tenants.clear", tooltip="Clear the filter", show=False),
        Binding(
            "w", "window", "Window", id="tenants.window", tooltip="Cycle the window: 7, 30 or 1 day(s) ending today"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.days = 7
        self.sort_index = 0
        self.filter_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static("", id="tenants-summary")
        yield usage_note()
        yield Input(placeholder="filter tenants: id, name or plan (Enter applies, Esc clears)", id="tenants-filter")
        yield FittedTable(TENANT_COLUMNS, id="tenants-table", zebra_stripes=True)
        yield LineChart("Requests per day, biggest tenants", count_text, id="tenants-chart")

    def on_mount(self) -> None:
        table = self.query_one("#tenants-table", DataTable)
        self.query_one("#tenants-filter", Input).display = False
        self._layout()
        table.focus()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        # Below 34 rows the chart would be a few squashed lines: the table gets the room.
        self.query_one("#tenants-chart").display = self.app.size.height >= 34

    def prefetch(self) -> None:
        """Only when the console opens on Tenants: otherwise the first screen's queries come first and
        this asks when shown.

        Either way the last answer (from the answer cache) is on screen at once, marked stale
        with its age, until the new one lands: a cold start spends half a second opening an
        embedded ClickHouse before the first query.
        """
        self._seed_from_cache()
        if self.app.first_screen == "tenants" and not self.snapshot.from_cache:
            super().prefetch()

    def _seed_from_cache(self) -> None:
        if not self.app.live or self.snapshot.value is not None:
            return  # tests and snapshots never read the user's cache
        from zeta_tui.config.answer_cache import AnswerCache

        entry = AnswerCache().load(self.app.context_name, CACHE_NAME)
        try:
            if entry is None or int(entry["days"]) != self.days:
                return
            view = TenantsView(
                int(entry["days"]),
                as_date(entry["until"]),
                tuple(entry["rows"]),
                tuple(entry["over_time"]),
                tuple(map(str, entry.get("notes", ()))),
            )
        except (KeyError, TypeError, ValueError):
            return  # an entry from another version: no entry
        self.snapshot = Snapshot(value=view, fetched_at=float(entry["saved_at"]), from_cache=True)

    async def _remember(self, view: TenantsView) -> None:
        if not self.app.live:
            return
        from zeta_tui.config.answer_cache import AnswerCache

        entry = {
            "saved_at": self.app.clock(),
            "days": view.days,
            "until": view.until.isoformat(),
            "rows": list(view.rows),
            "over_time": list(view.over_time),
            "notes": list(view.notes),
        }
        await asyncio.to_thread(AnswerCache().save, self.app.context_name, CACHE_NAME, entry)

    def question(self) -> Any:
        return self.days

    async def fetch(self, time_range: TimeRange) -> QueryResult[TenantsView]:
        source = require_clickhouse(self)
        until = today_utc(self.app.clock())
        days = self.days
        chart_days = max(days, 7)
        top, over_time = await asyncio.gather(
            source.named("top_tenants", {"days": days, "until": until, "limit": TABLE_LIMIT}, today=until),
            source.named("requests_over_time", {"days": chart_days, "until": until}, today=until),
        )
        view = TenantsView(days, until, tuple(top.records()), tuple(over_time.records()), (top.note, over_time.note))
        await self._remember(view)
        return QueryResult(view)

    def show(self, value: TenantsView) -> None:
        show_usage_note(self, value.notes)
        self._show_table(value)
        self._show_chart(value)

    # --- drawing --------------------------------------------------------------------------------

    def _shown_rows(self, value: TenantsView) -> list[Record]:
        return sort_tenants(filter_tenants(value.rows, self.filter_text), self.sort_index)

    def _show_table(self, value: TenantsView) -> None:
        variables = self.app.theme_variables
        error, warning = variables.get("error", "red"), variables.get("warning", "yellow")
        rows = []
        for r in self._shown_rows(value):
            errors = Text(pct_text(r["error_rate_pct"]))
            if float(r["error_rate_pct"] or 0) >= 5:
                errors = Text(f"✖ {pct_text(r['error_rate_pct'])}", style=f"bold {error}")
            cells: list[Any] = [
                str(r["tenant_id"]),
                str(r["name"] or ""),
                str(r["plan"] or ""),
                count_text(r["requests"]),
                errors,
                f"{float(r['p95_ms']):.0f} ms",
                bytes_text(r["bytes"]),
                quota_cell(r["quota_used_pct"], error, warning),
            ]
            rows.append((str(r["tenant_id"]), cells))
        self.query_one("#tenants-table", FittedTable).show_rows(rows)
        total = sum(int(r["requests"]) for r in value.rows)
        label = TENANT_SORTS[self.sort_index][0]
        window = (
            window_text(value.days, value.until)
            if self.app.size.width >= 120
            else f"{value.days} d to {value.until:%b %d}"
        )
        summary = f"{window} · {len(value.rows)} tenants · {count_text(total)} requests · by {label}"
        if self.filter_text:
            summary += f" · filter {self.filter_text!r}: {len(rows)} shown"
        self.query_one("#tenants-summary", Static).update(summary, layout=False)

    def _show_chart(self, value: TenantsView) -> None:
        totals: dict[str, int] = {}
        for r in value.over_time:
            totals[str(r["tenant_id"])] = totals.get(str(r["tenant_id"]), 0) + int(r["requests"])
        biggest = sorted(totals, key=lambda t: (-totals[t], t))[:CHART_TENANTS]
        first = value.until - timedelta(days=max(value.days, 7) - 1)
        days = [first + timedelta(days=i) for i in range((value.until - first).days + 1)]
        xs = tuple(day_seconds(d) for d in days)
        lines = []
        for tenant in biggest:
            per_day = {as_date(r["date"]): int(r["requests"]) for r in value.over_time if r["tenant_id"] == tenant}
            lines.append(ChartLine(tenant, xs, tuple(float(per_day.get(d, 0)) for d in days)))
        self.query_one("#tenants-chart", LineChart).show(lines, (xs[0], xs[-1]) if xs else None)

    # --- actions --------------------------------------------------------------------------------

    def _redraw(self) -> None:
        if self.snapshot.value is not None:
            self._show_table(self.snapshot.value)

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(TENANT_SORTS)
        self._redraw()

    def action_window(self) -> None:
        self.days = next_window(self.days)
        self.refresh_data()

    def action_filter(self) -> None:
        field = self.query_one("#tenants-filter", Input)
        field.display = True
        field.value = self.filter_text
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "tenants-filter":
            self.filter_text = event.value.strip()
            event.input.display = False
            self.query_one("#tenants-table", DataTable).focus()
            self._redraw()

    def action_clear_filter(self) -> None:
        field = self.query_one("#tenants-filter", Input)
        if not self.filter_text and not field.display:
            self.post_message(GoBack())  # nothing to clear: Esc walks back
            return
        field.display = False
        self.filter_text = ""
        self.query_one("#tenants-table", DataTable).focus()
        self._redraw()

    def action_open(self) -> None:
        table = self.query_one("#tenants-table", DataTable)
        if not table.row_count or self.snapshot.value is None:
            return
        tenant = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        row = next((r for r in self.snapshot.value.rows if r["tenant_id"] == tenant), None)
        from zeta_tui.screens.tenant_detail import TenantDetailScreen

        screen = TenantDetailScreen(tenant, row, self.days)
        screen.ask_ahead()  # asked while the screen is built
        self.app.push_screen(screen)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
