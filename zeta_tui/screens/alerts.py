"""Alerts: what is firing and pending, severity first, then newest; Enter opens the evidence.

Firing alerts come from Alertmanager (receivers, silenced / inhibited), pending ones from
Prometheus's rules; an alert both know is one row (models/alert_overview.py). "Detected in" is
from the condition beginning (Prometheus's activeAt) to the alert firing. One backend down is a
warning on the pane while the other's alerts stay on screen; both down is the pane's error. A
section the context lacks is a warning too, and the summary says "pending unknown" (no
Prometheus) or "silences unknown" (no Alertmanager) instead of counting what it cannot see.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from zeta_tui.backends.alert_overview import AlertsFetched, fetch_alerts
from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.errors import BackendUnavailable
from zeta_tui.models.alert_overview import AlertRow, merge, row_order
from zeta_tui.models.bulk import gc_paused, let_go
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.alert_table import AlertTable

#: rows the table holds at most (the most severe, then newest, first): a DataTable fills on the
#: event loop (1,000 alert rows took 0.26 s, 200 about 0.05 s), and nobody triages from row 201
MAX_ROWS = 200


@dataclass(frozen=True)
class AlertList:
    """What the screen shows: its rows in order (at most MAX_ROWS), the counts over every row,
    and what cannot be known (AlertsFetched.unknown)."""

    unknown: tuple[str, ...]
    rows: list[AlertRow]
    total: int
    firing: int
    critical: int
    pending: int
    muted: int


def alert_list(fetched: AlertsFetched) -> AlertList:
    """Merge, sort and count the alerts (off the event loop: an Alertmanager answering 50 MB
    holds ~100,000 alerts). The alerts not shown are let go of here, a slice at a time, not on
    the event loop when the answer is dropped. The collector is paused meanwhile (models/bulk.py):
    100,000 new rows would set off a full collection that holds the GIL for 0.1 s."""
    with gc_paused():
        return _alert_list(fetched)


def _alert_list(fetched: AlertsFetched) -> AlertList:
    rows = merge(fetched.am_alerts, fetched.prom_alerts)
    # The first MAX_ROWS of sort_rows' order. nsmallest keeps a heap of MAX_ROWS from Python, so
    # the decode thread lets the event loop run; sorted() of 100,000 rows is one C call that held
    # the GIL for 0.4 s.
    top = heapq.nsmallest(MAX_ROWS, rows, key=row_order)
    firing = [r for r in rows if r.state == "active"]
    shown = AlertList(
        fetched.unknown,
        top,
        len(rows),
        len(firing),
        sum(1 for r in firing if r.severity == "critical"),
        sum(1 for r in rows if r.state == "pending"),
        sum(1 for r in rows if r.state in ("silenced", "inhibited", "muted")),
    )
    let_go(firing)
    let_go(rows)
    let_go(fetched.am_alerts)
    let_go(fetched.prom_alerts)
    return shown


class AlertsScreen(PollingScreen[AlertList]):
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Evidence",
            id="alerts.open",
            tooltip="The alert's expression graphed around it, with keys to its logs and traces",
        ),
        Binding(
            "s",
            "silence",
            "Silence",
            id="alerts.silence",
            tooltip="Silence the selected alert (matchers prefilled; asks first)",
        ),
        Binding("S", "silences", "Silences", id="alerts.silences", tooltip="List silences; expire one"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="alerts-summary")
        yield AlertTable(id="alerts-table")

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        table = self.query_one(AlertTable)
        theme = self.app.theme_variables
        table.colours = {name: theme.get(name, "") for name in ("error", "warning", "accent")}
        table.focus()

    async def fetch(self, time_range: TimeRange) -> QueryResult[AlertList]:
        session = self.app.session
        am, prom = session.alertmanager, session.prometheus
        if am is None and prom is None:
            name = self.app.context_name
            raise BackendUnavailable(
                f"context {name!r} has no [alertmanager] and no [prometheus] section",
                hint=(
                    f'add [contexts.{name}.alertmanager] with url = "http://host:9093" (and [prometheus] for '
                    "pending alerts)"
                ),
            )
        fetched = await fetch_alerts(am, prom)
        # A section the context lacks is said on the pane, with what it hides and what to add.
        for section, client, port, hidden in (
            ("alertmanager", am, 9093, "silences, inhibitions and receivers unknown, Prometheus's alerts only"),
            ("prometheus", prom, 9090, "pending alerts unknown"),
        ):
            if client is None:
                why = session.unavailable.get(section)
                reason = (
                    f"{why.message} ({why.hint})"
                    if why is not None
                    else f'no [{section}] section: add [contexts.{self.app.context_name}.{section}] with url = "http://host:{port}"'
                )
                fetched.warnings += (f"{reason}: {hidden}",)
        if fetched.errors and (len(fetched.errors) == 2 or am is None or prom is None):
            raise fetched.errors[0]  # nothing could be read
        warnings = fetched.warnings + tuple(
            f"{e.title}: {e.message} (the list may be incomplete)" for e in fetched.errors
        )
        return QueryResult(await run_off_loop(alert_list, fetched), warnings)

    def show(self, value: AlertList) -> None:
        rows = value.rows
        self.query_one(AlertTable).show(rows, self.app.clock())
        unknown = value.unknown
        parts = [
            f"{value.firing} firing" + (f" ({value.critical} critical)" if value.critical else ""),
            "pending unknown" if "pending" in unknown else f"{value.pending} pending",
            "silences unknown" if "silences" in unknown else f"{value.muted} silenced or inhibited",
        ]
        if not rows:
            parts = ["nothing is firing, pending unknown" if "pending" in unknown else "nothing is firing or pending"]
        elif value.total > len(rows):
            parts.append(f"the first {len(rows):,} of {value.total:,} shown (`zeta alerts` lists them all)")
        self.query_one("#alerts-summary", Static).update(" · ".join(parts), layout=False)

    def action_open(self) -> None:
        row = self.query_one(AlertTable).current()
        if row is None:
            self.notify("no alert selected", severity="warning")
            return
        from zeta_tui.screens.alert_detail import AlertDetailScreen

        self.app.push_screen(AlertDetailScreen(row))

    def action_silence(self) -> None:
        from zeta_tui.screens.silences import SilenceForm, read_only_reason

        row = self.query_one(AlertTable).current()
        if row is None:
            self.notify("no alert selected", severity="warning")
            return
        reason = read_only_reason(self.app)
        if reason:
            self.notify(f"refused: {reason}", severity="error", timeout=10)
            return
        self.app.push_screen(SilenceForm(row), lambda created: self.refresh_data() if created else None)

    def action_silences(self) -> None:
        from zeta_tui.screens.silences import SilencesScreen

        self.app.push_screen(SilencesScreen())

    @on(DataTable.RowSelected, "#alerts-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
