"""Alerts: what is firing and pending, severity first, then newest; Enter opens the evidence.

Firing alerts come from Alertmanager (receivers, silenced / inhibited), pending ones from
Prometheus's rules; an alert both know is one row (models/alert_overview.py). "Detected in" is
from the condition beginning (Prometheus's activeAt) to the alert firing. One backend down is a
warning on the pane while the other's alerts stay on screen; both down is the pane's error. A
section the context lacks is a warning too, and the summary says "pending unknown" (no
Prometheus) or "silences unknown" (no Alertmanager) instead of counting what it cannot see.

Alerts of one name on one service fold into one row, ``▸ ModelTrainingFailed ×5`` (fold_rows;
the service is the label the context's conventions name, ``labels.service``, "job" unless
configured, else service, job or container). The row stands where its most severe, most urgent
member would; its state is that member's, counted when the members differ (``4 FIRING``, and
"4 firing, 1 silenced" in the preview). Its "By" cell names the labels that tell the members
apart, computed from them (``tenant_id``). Enter, Space or Right opens it and lists the members
under it by those labels' values; Enter on a member opens its evidence as on any alert, Esc
comes back to the list as it was (fold open, cursor on the member); Space or Left folds it
again. ``s`` on a folded row silences every member (the labels they share, the service's
among them); on a member, that alert (its identifying labels and those that tell it apart).

The summary is not a column below 120 columns, so that the alert's name is never cut at 80:
the preview under the table (widgets/alert_table.py, AlertPreview) says the row under the
cursor in full, wrapped, with the receivers the narrow table leaves out. A second line under
each name was the other way: it would halve the alerts a 24-line terminal shows (fifteen rows
to seven), and a table cell cannot span columns, so the summary would still be cut at the
Alert column's width. From 120 columns the Summary column is back, cut at its end, and the
preview still holds it whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from zeta_tui.backends.alert_overview import AlertsFetched, fetch_alerts
from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.errors import BackendUnavailable
from zeta_tui.models.alert_overview import AlertFold, fold_rows, merge, service_labels
from zeta_tui.models.bulk import gc_paused, let_go
from zeta_tui.models.conventions import MetricConventions
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.alert_table import AlertPreview, AlertTable

#: folds the table holds at most (the most severe, then newest, first), and members of one: a
#: DataTable fills on the event loop (1,000 alert rows took 0.26 s, 200 about 0.05 s), and nobody
#: triages from row 201
MAX_ROWS = 200


@dataclass(frozen=True)
class AlertList:
    """What the screen shows: its folds in order (at most MAX_ROWS, each with at most MAX_ROWS
    members), the counts over every alert, and what cannot be known (AlertsFetched.unknown)."""

    unknown: tuple[str, ...]
    folds: list[AlertFold]
    total: int
    firing: int
    critical: int
    pending: int
    muted: int


def alert_list(fetched: AlertsFetched, labels: Sequence[str] = service_labels("job")) -> AlertList:
    """Merge, fold and count the alerts (off the event loop: an Alertmanager answering 50 MB
    holds ~100,000 alerts); ``labels`` say which label names a service (service_labels). The
    alerts not shown are let go of here, a slice at a time, not on the event loop when the answer
    is dropped. The collector is paused meanwhile (models/bulk.py): 100,000 new rows would set
    off a full collection that holds the GIL for 0.1 s."""
    with gc_paused():
        return _alert_list(fetched, labels)


def _alert_list(fetched: AlertsFetched, labels: Sequence[str]) -> AlertList:
    rows = merge(fetched.am_alerts, fetched.prom_alerts)
    folds = fold_rows(rows, labels, limit=MAX_ROWS, member_limit=MAX_ROWS)
    firing = [r for r in rows if r.state == "active"]
    shown = AlertList(
        fetched.unknown,
        folds,
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
            tooltip="The alert's evidence: its expression graphed, keys to its logs and traces (a fold: opens it)",
        ),
        Binding(
            "space",
            "fold",
            "Fold",
            id="alerts.fold",
            tooltip="Show the alerts of a folded row (×N), or fold them back (also Right and Left)",
        ),
        Binding(
            "s",
            "silence",
            "Silence",
            id="alerts.silence",
            tooltip="Silence the selected alert, or every alert of a folded row (matchers prefilled; asks first)",
        ),
        Binding("S", "silences", "Silences", id="alerts.silences", tooltip="List silences; expire one"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="alerts-summary")
        yield AlertTable(id="alerts-table")
        yield AlertPreview(id="alerts-preview")

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        table = self.query_one(AlertTable)
        theme = self.app.theme_variables
        table.colours = {name: theme.get(name, "") for name in ("error", "warning", "accent")}
        table.focus()

    def service_labels(self) -> tuple[str, ...]:
        """Which label names an alert's service: the context's label conventions first."""
        return service_labels(self.app.context.labels.service or MetricConventions().service)

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
        return QueryResult(await run_off_loop(alert_list, fetched, self.service_labels()), warnings)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Space is in the footer only while a row folds alerts (at 80 columns every key counts).
        if action == "fold":
            return any(f.is_group for table in self.query(AlertTable) for f in table.folds)
        return True

    def show(self, value: AlertList) -> None:
        table = self.query_one(AlertTable)
        had_folds = any(f.is_group for f in table.folds)
        table.show(value.folds, self.app.clock())
        if any(f.is_group for f in value.folds) != had_folds:
            self.refresh_bindings()
        self._preview()
        unknown = value.unknown
        parts = [
            f"{value.firing} firing" + (f" ({value.critical} critical)" if value.critical else ""),
            "pending unknown" if "pending" in unknown else f"{value.pending} pending",
            "silences unknown" if "silences" in unknown else f"{value.muted} silenced or inhibited",
        ]
        if not value.folds:
            parts = ["nothing is firing, pending unknown" if "pending" in unknown else "nothing is firing or pending"]
        elif value.total > (shown := sum(f.count for f in value.folds)):
            parts.append(f"{shown:,} of {value.total:,} shown (`zeta alerts` lists them all)")
        self.query_one("#alerts-summary", Static).update(" · ".join(parts), layout=False)

    def _preview(self) -> None:
        table = self.query_one(AlertTable)
        line = table.current_line()
        is_open = line is not None and line.fold.key in table.expanded
        self.query_one(AlertPreview).show_line(line, self.app.clock(), is_open=is_open)

    @on(DataTable.RowHighlighted, "#alerts-table")
    @on(AlertTable.Toggled)
    def _cursor_moved(self) -> None:
        self._preview()

    def action_open(self) -> None:
        """Enter: a folded row opens (its alerts listed under it); an alert's evidence opens."""
        table = self.query_one(AlertTable)
        line = table.current_line()
        if line is None:
            self.notify("no alert selected", severity="warning")
            return
        if line.is_fold:
            table.toggle()
            return
        from zeta_tui.screens.alert_detail import AlertDetailScreen

        self.app.push_screen(AlertDetailScreen(line.row))

    def action_fold(self) -> None:
        if not self.query_one(AlertTable).toggle():
            self.notify("this alert is alone: nothing to fold", severity="information")

    def action_silence(self) -> None:
        from zeta_tui.screens.silences import SilenceForm, read_only_reason

        line = self.query_one(AlertTable).current_line()
        if line is None:
            self.notify("no alert selected", severity="warning")
            return
        reason = read_only_reason(self.app)
        if reason:
            self.notify(f"refused: {reason}", severity="error", timeout=10)
            return
        # A folded row: what its alerts have alike (its service label among them), so one
        # silence mutes them all; a member: that alert, not the other tenants' of its fold.
        target = line.fold.shared if line.is_fold else line.fold.scope_of(line.row)
        self.app.push_screen(SilenceForm(target), lambda created: self.refresh_data() if created else None)

    def action_silences(self) -> None:
        from zeta_tui.screens.silences import SilencesScreen

        self.app.push_screen(SilencesScreen())

    @on(DataTable.RowSelected, "#alerts-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
