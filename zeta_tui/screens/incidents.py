"""Incidents: every critical that fired in the last 7 days, with its time to detect and to resolve,
where it was routed and whether it was missed; above them, the platform's figures against the
seed's success criteria (MTTD < 5 min, MTTR < 1 h, no missed critical).

The window is the last 7 days, whatever the console's range (the criteria are means over a
period; `zeta incidents --since` asks for another). Definitions are models/incidents.py's; the
history comes from Prometheus's ALERTS and Alertmanager (backends/incident_history.py). Without
Alertmanager the receivers and the misses are unknown, and the pane says so.

Enter opens the evidence of the incident's first critical (its graph and facts, in the incident's
window); ``l`` and ``o`` open the service's error logs and traces over the incident, from 10
minutes before its condition began to 10 minutes after it resolved. Esc walks each back.

The history is a week of raw samples, so it is asked at most once a minute, and not before the
screen is first shown unless the console opens on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from zeta_tui.backends.incident_history import IncidentReport, incident_report, read_history
from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.messages import ShowLogs, ShowTraces
from zeta_tui.models.alert_overview import AlertRow
from zeta_tui.models.incidents import CriticalAlert, Incident, alert_service
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange, format_age, format_duration
from zeta_tui.screens.alert_detail import AlertDetailScreen
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

#: the window, back from now: the seed's criteria are means over a period
WINDOW_SECONDS = 7 * 86400.0
#: the least time between two readings of the history
MIN_POLL_SECONDS = 60.0
#: how far before and after an incident its logs and traces are searched
JOIN_MARGIN = 600.0

#: at 80 columns the times of firing and resolution, the related alerts and then the receivers go
#: first (MTTD and MTTR say when it fired and resolved; Enter shows the rest)
COLUMNS = (
    Column("Began", "began", 11),
    Column("Service", "service", 9, name=True),
    Column("Critical", "critical", 12, name=True),
    Column("Fired", "fired", 11, drop=4),
    Column("MTTD", "mttd", 6),
    Column("Resolved", "resolved", 11, drop=3),
    Column("MTTR", "mttr", 8),
    Column("Missed", "missed", 6, name=True),
    Column("Receivers", "receivers", 9, name=True, drop=1),
    Column("Related", "related", 9, name=True, drop=2),
)

VERDICT_VARIABLE = {True: "success", False: "error", None: "warning"}


def incident_row(incident: Incident, now: float) -> list[str]:
    """One incident's cells, in COLUMNS order."""
    names = list(dict.fromkeys(c.episode.name for c in incident.criticals))
    receivers = dict.fromkeys(r for c in incident.criticals for r in (c.receivers or ()))
    unknown = any(c.receivers is None for c in incident.criticals)
    missed = dict.fromkeys(c.missed_because.replace("no pager route", "no pager") for c in incident.criticals)
    missed.pop("", None)
    return [
        _clock(incident.began),
        incident.service or "—",
        names[0] + (f" +{len(names) - 1}" if len(names) > 1 else ""),
        _clock(incident.detected),
        format_age(incident.mttd),
        "open" if incident.resolved is None else _clock(incident.resolved),
        f"open {format_age(now - incident.detected)}" if incident.mttr is None else format_age(incident.mttr),
        ", ".join(missed) or "no",
        ", ".join(receivers) or ("?" if unknown else "—"),
        ", ".join(dict.fromkeys(f"{e.name} {e.severity or '?'}" for e in incident.related)) or "—",
    ]


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%m-%d %H:%M")


def summary_text(report: IncidentReport, colours: dict[str, str]) -> Text:
    """The summary above the list: the window and its incidents, then each criterion with its
    verdict in words (and colour)."""
    summary = report.summary
    text = Text()
    window = format_duration(summary.until - summary.since)
    opened = f", {summary.open} open" if summary.open else ""
    text.append(f"Last {window}: {summary.incidents} incidents{opened}\n", style="bold")
    for n, c in enumerate(summary.criteria):
        target = c.target if c.target.startswith("<") else f"target {c.target}"
        name = "missed" if c.name == "missed criticals" else c.name
        text.append(f"{' · ' if n else ''}{name} {c.measured} ({target}) ")
        text.append(c.verdict, style=f"bold {colours.get(VERDICT_VARIABLE[c.met], '')}".strip())
    text.append("\nlog search < 5s: not measured here")
    if report.unknown:
        text.append(" · receivers unknown: no Alertmanager")
    elif report.pager_receivers:
        text.append(f" · pagers: {', '.join(report.pager_receivers)}")
    else:
        text.append(" · no pager receiver in Alertmanager's configuration")
    return text


def alert_row(critical: CriticalAlert) -> AlertRow:
    """An incident's critical as the alert screens know an alert (its detail opens on it)."""
    ep = critical.episode
    state = "resolved" if ep.resolved is not None else ("silenced" if critical.silenced_by else "active")
    return AlertRow(
        labels=dict(ep.labels),
        annotations={},
        state=state,
        since=ep.fired or ep.began,
        source="prometheus",
        receivers=critical.receivers or (),
        silenced_by=critical.silenced_by or (),
        condition_since=ep.began,
        ended=ep.resolved,
    )


class IncidentsScreen(PollingScreen[IncidentReport]):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App
    min_poll_seconds = MIN_POLL_SECONDS

    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Evidence",
            id="incidents.open",
            tooltip="The first critical of the incident: its graph and facts over the incident",
        ),
        Binding("l", "logs", "Error logs", id="incidents.logs", tooltip="The service's ERROR logs over the incident"),
        Binding("o", "traces", "Traces", id="incidents.traces", tooltip="The service's traces with errors over it"),
    ]

    DEFAULT_CSS = """
    #incidents-summary { height: auto; max-height: 5; padding: 0 1; color: $accent; }
    #incidents-table { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.incidents: list[Incident] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="incidents-summary")
        yield FittedTable(COLUMNS, id="incidents-table", zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        self.query_one(FittedTable).focus()

    def prefetch(self) -> None:
        """Only when the console opens on Incidents: a week of history is not read at every start."""
        if self.app.first_screen == "incidents":
            super().prefetch()

    def header_range(self) -> str:
        return f"last {format_duration(WINDOW_SECONDS)}"

    async def fetch(self, time_range: TimeRange) -> QueryResult[IncidentReport]:
        session = self.app.session
        prom = self.require_prometheus()
        am = session.alertmanager
        label = self.app.context.labels.service
        now = self.app.clock()
        history = await read_history(
            prom, am, now - WINDOW_SECONDS, now, service_of=lambda labels: alert_service(labels, label)
        )
        warnings = history.warnings + tuple(
            f"{e.title}: {e.message} (receivers and missed criticals unknown)" for e in history.errors
        )
        if am is None:
            why = session.unavailable.get("alertmanager")
            reason = (
                f"{why.message} ({why.hint})"
                if why is not None
                else f'no [alertmanager] section: add [contexts.{self.app.context_name}.alertmanager] with url = "http://host:9093"'
            )
            warnings += (f"{reason}: receivers and missed criticals unknown",)
        return QueryResult(await run_off_loop(incident_report, history, label), warnings)

    def show(self, value: IncidentReport) -> None:
        now = self.app.clock()
        self.incidents = value.incidents
        theme = self.app.theme_variables
        colours = {name: theme.get(name, "") for name in VERDICT_VARIABLE.values()}
        self.query_one("#incidents-summary", Static).update(summary_text(value, colours))
        rows = [(i.key, incident_row(i, now)) for i in value.incidents]
        self.query_one(FittedTable).show_rows(rows)

    def current(self) -> Incident | None:
        table = self.query_one(FittedTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((i for i in self.incidents if i.key == key), None)

    def _window(self, incident: Incident) -> tuple[float, float]:
        return incident.window(self.app.clock(), JOIN_MARGIN)

    def action_open(self) -> None:
        incident = self.current()
        if incident is None:
            self.notify("no incident selected", severity="warning")
            return
        self.app.push_screen(AlertDetailScreen(alert_row(incident.first), self._window(incident)))

    def action_logs(self) -> None:
        incident = self.current()
        if incident is None:
            self.notify("no incident selected", severity="warning")
            return
        service = incident.service
        query = f'service:"{service}" AND level:ERROR' if service else "level:ERROR"
        self.post_message(ShowLogs(query, *self._window(incident)))

    def action_traces(self) -> None:
        incident = self.current()
        if incident is None:
            self.notify("no incident selected", severity="warning")
            return
        self.post_message(ShowTraces(incident.service, True, *self._window(incident)))

    @on(DataTable.RowSelected, "#incidents-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()
