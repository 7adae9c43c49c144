"""One alert's evidence: its expression graphed over a window locked around it, the threshold
drawn; under it the culprits (backends/evidence.py: the pods, endpoints, tenants and messages
that carry the failures, from Prometheus by label and from the logs); its labels and
annotations. `l` and `o` open the logs and the failing traces of the culprit under the cursor
(of the whole service when the table is empty) in the same window — the joins no other tool
makes in one step. The table has the focus when the screen opens: 5, ↓, Enter on the Alerts
screen puts the culprit on the first screen.

The expression comes from the generator URL Prometheus attaches to every alert (``g0.expr``),
else from the rules API: the alerting rule of that name whose labels the alert carries (the
HighLatency page and its warning share a name; their severity tells them apart). When it ends in
a comparison with a number (``... > 0.05``) the left side is graphed and the number drawn as the
threshold. Of the series the expression gives, the alert's own are drawn (its labels select
them: HighLatency's job and endpoint, not every endpoint's p95), and the title names the
service and, for a per-endpoint alert, the endpoint.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.messages import GoBack, ShowLogs, ShowTenant, ShowTraces
from zeta_tui.models.alert_overview import AlertRow, is_alert_series
from zeta_tui.models.snapshot import Snapshot, retry_delay
from zeta_tui.models.tenant import ALERT_TENANT_LABELS, tenant_in
from zeta_tui.models.timerange import format_age
from zeta_tui.querying.alert_expression import split_conditions
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets import units
from zeta_tui.widgets.evidence_table import EvidenceTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
BEFORE_SECONDS = 1800.0  # the window starts this long before the condition began
POINTS = 120


def alert_window(row: AlertRow, now: float) -> tuple[float, float]:
    """[start, end] around the alert: from half an hour before its condition began to now."""
    began = row.condition_since or row.since or now
    return began - BEFORE_SECONDS, max(now, began + 60)


def _lasted(row: AlertRow, now: float) -> str:
    """How long the alert has fired; for a resolved one, how long it fired and when it ended."""
    if not row.since:
        return "since ?"
    if row.ended is not None:
        return f"fired {format_age(row.ended - row.since)}, resolved {format_age(now - row.ended)} ago"
    return f"for {format_age(now - row.since)}"


class AlertDetailScreen(ConsoleScreen):
    TITLE = "Alert"
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding("escape", "back", "Back", id="alert.back", tooltip="Back to the alerts"),
        Binding(
            "l",
            "logs",
            "Error logs",
            id="alert.logs",
            tooltip="ERROR logs of the culprit under the cursor (else of the service) in the alert's window",
        ),
        Binding(
            "o",
            "traces",
            "Traces",
            id="alert.traces",
            tooltip="Traces with errors of the culprit under the cursor (else of the service) in the alert's window",
        ),
        Binding("ctrl+t", "tenant", "Tenant", id="alert.tenant", tooltip="The tenant of the alert's tenant_id label"),
    ]

    def __init__(self, row: AlertRow, window: tuple[float, float] | None = None) -> None:
        """``window`` fixes the graph's window (an incident of last Tuesday graphed around last
        Tuesday); by default it runs from half an hour before the condition began to now."""
        super().__init__()
        self.row = row
        self._fixed_window = window
        self.snapshot: Snapshot[int] = Snapshot()
        self.window = (0.0, 0.0)
        self._rule_query: asyncio.Future[str] | None = None

    def action_back(self) -> None:
        self.post_message(GoBack())  # back to the list, or along a join

    def action_tenant(self) -> None:
        tenant = tenant_in(self.row.labels.get, ALERT_TENANT_LABELS)
        if tenant:
            self.post_message(ShowTenant(tenant))
        else:
            self.notify("this alert has no tenant_id label", severity="warning")

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield PaneStatus(id="pane-status")
        yield Static("", id="alert-title")
        yield LineChart("Expression", units.number, id="alert-chart")  # an expression's unit is not known
        yield Static("Where the failures are: reading…", id="evidence-title")
        yield EvidenceTable(id="alert-evidence")
        with VerticalScroll(id="alert-facts"):
            yield Static("", id="alert-facts-text")
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.window = self._fixed_window or alert_window(self.row, self.app.clock())
        self.update_header()
        self._show_facts()
        self.query_one(EvidenceTable).focus()
        self.refresh_data()
        self._fetch_evidence()

    # --- shell hooks --------------------------------------------------------------------------

    def crumb(self) -> str:
        return self.row.name or "Alert"

    def header_range(self) -> str:
        return self._window_label()

    def update_header(self) -> None:
        super().update_header()
        self._show_status()

    def prefetch(self) -> None:
        """Nothing to prefetch: the graph is fetched when the screen opens."""

    def on_pause_changed(self) -> None:
        self.update_header()

    def refresh_data(self) -> None:
        self._fetch()

    def _window_label(self) -> str:
        from datetime import datetime

        start, end = self.window
        return f"{datetime.fromtimestamp(start):%H:%M:%S} .. {datetime.fromtimestamp(end):%H:%M:%S} (locked)"

    # --- the graph ----------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="alert", description="graph an alert")
    async def _fetch(self) -> None:
        chart = self.query_one(LineChart)
        try:
            prom = self.app.session.require("prometheus", "with url = ...")
            expr = await self._expression(prom)
            if not expr:
                raise BackendUnavailable(
                    f"no expression for {self.row.name}: the alert has no generator URL and Prometheus has no such "
                    "rule",
                    hint="the labels and annotations below are all there is",
                )
            # Each side compared with a constant (two for a multiwindow burn rate), else the whole.
            conditions = split_conditions(expr) or []
            graphed = [lhs for lhs, _op, _value in conditions] or [expr]
            start, end = self.window
            step = max(15.0, (end - start) / POINTS)
            results = await _graph(prom, graphed, start, end, step)
        except Exception as exc:  # a ZetaError, or garbage from the backend: the screen stays up
            error = (
                exc
                if isinstance(exc, ZetaError)
                else BackendUnavailable(
                    f"unexpected answer: {type(exc).__name__}: {exc}",
                    hint="Prometheus answered something Zeta cannot read; retrying",
                )
            )
            delay = (
                retry_delay(error, self.snapshot.failures + 1, self.app.context.refresh_seconds)
                or self.app.context.refresh_seconds
            )
            self.snapshot = self.snapshot.failed(error, self.app.clock() + delay)
            chart.empty_message = "no graph: the expression could not be read (see above)"
            chart.refresh()
            self._show_status()
            if self.app.live and not self.app.paused:
                self.set_timer(delay, self.refresh_data)  # the window is locked: the same question again
            return
        lines: list[ChartLine] = []
        for query, result in zip(graphed, results):
            # The alert's own series (HighErrorRate of ml-engine, not every job's ratio); all of
            # them when none matches (an expression whose series lost labels on the way).
            series = [s for s in result.data if is_alert_series(s.labels, self.row.labels)] or result.data
            named = query if len(graphed) > 1 else ""  # which side of the `and` a line is
            lines += [
                ChartLine(
                    _series_label(s.labels if len(series) > 1 or not named else {}, named),
                    tuple(p.t for p in s.samples),
                    tuple(p.v for p in s.samples),
                )
                for s in series
            ]
        for op, value in dict.fromkeys((op, value) for _lhs, op, value in conditions):
            lines.append(ChartLine(f"threshold {op} {value:g}", (start, end), (value, value)))
        chart.border_title = (graphed[0] if len(graphed) == 1 else expr)[:200]  # what is drawn
        chart.empty_message = "the expression has no data in this window"
        chart.show(lines, x_range=(start, end))
        self.snapshot = self.snapshot.succeeded(
            sum(len(r.data) for r in results), self.app.clock(), tuple(w for r in results for w in r.warnings)
        )
        self._show_status()

    async def _expression(self, prom) -> str:
        """The alert's expression: its generator URL's, else its rule's, asked of the rules API once
        for the graph and the culprits together (again only after a failed ask)."""
        if self.row.expression:
            return self.row.expression
        ask = self._rule_query
        if ask is None or (ask.done() and (ask.cancelled() or ask.exception() is not None)):
            ask = self._rule_query = asyncio.ensure_future(_rule_expression(prom, self.row.name, self.row.labels))
        return await asyncio.shield(ask)  # a cancelled worker leaves the other's answer alone

    @work(exclusive=True, exit_on_error=False, group="evidence", description="the alert's culprits")
    async def _fetch_evidence(self) -> None:
        from zeta_tui.backends.evidence import evidence_window, gather_evidence

        session = self.app.session
        end = self.window[1]
        began = self.row.condition_since or self.row.since
        window = evidence_window(began, end)
        try:
            inventory = await session.inventory(end) if session.prometheus is not None else None
            expression = await self._expression(session.prometheus) if session.prometheus is not None else ""
            evidence = await gather_evidence(
                session.prometheus, inventory, session.logs, self.row, expression=expression, window=window
            )
        except Exception as exc:  # the culprits are extra: the graph and the facts stay
            said = exc.message if isinstance(exc, ZetaError) else f"{type(exc).__name__}: {exc}"
            self.query_one("#evidence-title", Static).update(f"Where the failures are: not read ({said})")
            return
        self.query_one(EvidenceTable).show(evidence)
        self.query_one("#evidence-title", Static).update(_evidence_title(evidence, self.row.service, window[0]))
        self._show_facts()

    def _show_status(self) -> None:
        if self.is_mounted:
            self.query_one(PaneStatus).show(self.snapshot, self.app.clock(), 1e9, self.app.paused)

    def _show_facts(self) -> None:
        row, now = self.row, self.app.clock()
        detected = row.detection_seconds
        title = [
            f"{row.severity.upper() or '—'} {row.name}",
            " ".join(w for w in (row.service, row.endpoint) if w) or "—",
            row.state,
            _lasted(row, now),
        ]
        if detected is not None:
            title.append(f"detected in {format_age(detected)}")
        self.query_one("#alert-title", Static).update(" · ".join(title), layout=False)
        facts = Text()
        if self.is_mounted:
            evidence = self.query_one(EvidenceTable).evidence
            messages = [c for c in evidence.culprits if c.dimension == "message"]
            if messages:
                facts.append("Top error messages (numbers as #)\n", style="bold underline")
                for c in messages:
                    facts.append(f"  {100 * c.share:3.0f}%  {c.value}\n")
            for note in evidence.notes:
                facts.append(f"{note}\n", style="dim")
            if messages or evidence.notes:
                facts.append("\n")
        if row.summary:
            facts.append(row.summary + "\n\n", style="bold")
        for heading, values in (("Labels", row.labels), ("Annotations", row.annotations)):
            facts.append(f"{heading}\n", style="bold underline")
            for key, value in sorted(values.items()):
                facts.append(f"  {key}", style="bold")
                facts.append(f" = {value}\n")
        if detected is not None:
            facts.append(
                f"\nDetection: the condition began at {_clock(row.condition_since)}, the alert fired at "
                f"{_clock(row.condition_since + detected)}, {format_age(detected)} later"
            )
            facts.append(f" (the rule's for: {format_age(row.rule_for)})\n" if row.rule_for else "\n")
        if row.receivers:
            facts.append(f"\nRoutes to {', '.join(row.receivers)}\n")
        for what, ids in (("silenced by", row.silenced_by), ("inhibited by", row.inhibited_by)):
            if ids:
                facts.append(f"{what} {', '.join(ids)}\n", style="dim")
        if row.expression:
            facts.append(f"\nExpression\n  {row.expression}\n", style="dim")
        facts.append(
            "\nl: ERROR logs of the culprit under the cursor (or the service) · o: its traces with errors · "
            "Esc: back\n",
            style="dim",
        )
        self.query_one("#alert-facts-text", Static).update(facts)

    # --- joins --------------------------------------------------------------------------------

    def _culprit_filter(self) -> tuple[str, str]:
        table = self.query_one(EvidenceTable)
        finding = table.finding()
        return table.evidence.finding_filter(finding) if finding is not None else ("", "")

    def action_logs(self) -> None:
        from zeta_tui.backends.evidence import log_query

        field, value = self._culprit_filter()
        self.post_message(ShowLogs(log_query(self.row.service, field, value), *self.window))

    def action_traces(self) -> None:
        field, value = self._culprit_filter()
        # The trace search's tags are space-separated key=value words: a value with a space is left out.
        tags = ((field, value),) if field and " " not in value and "=" not in field else ()
        self.post_message(ShowTraces(self.row.service, True, *self.window, tags=tags))


def _evidence_title(evidence, service: str, since: float) -> str:
    """``Where the failures are since 14:02 · 312 5xx responses (prom) · 1,000 ERROR records (log)``."""
    parts = [f"Where the failures are since {_clock(since)[:5]}"]
    if evidence.metric_total:
        parts.append(f"{evidence.metric_total:,.0f} {evidence.failures} (prom)")
    if evidence.log_total:
        parts.append(f"{evidence.log_total:,} ERROR records (log)")
    if evidence.empty:
        parts.append(f"nothing found for {service or 'the alert'}" + (" (see below)" if evidence.notes else ""))
    return " · ".join(parts)


async def _graph(prom, queries: list[str], start: float, end: float, step: float) -> list:
    """Each of ``queries`` over the window. A recorded series (a burn rate's ``job:…:ratio_rate1h``)
    exists only since its rule began to be evaluated: when it starts after the window does, its
    recording rule's own expression is graphed instead, over raw data that reaches further back
    (the rules are read once, and only then)."""
    results = [await prom.query_range(query, start, end, step) for query in queries]
    late = [
        i
        for i, (query, result) in enumerate(zip(queries, results))
        if _METRIC_NAME.fullmatch(query)
        and min((s.samples[0].t for s in result.data if s.samples), default=end) > start + 2 * step
    ]
    if late:
        groups = (await prom.rules()).data
        recorded = {r.name: r.query for g in groups for r in g.rules if r.kind == "recording"}
        for i in late:
            if queries[i] in recorded:
                fuller = await prom.query_range(recorded[queries[i]], start, end, step)
                results[i] = fuller if fuller.data else results[i]
    return results


async def _rule_expression(prom, name: str, labels) -> str:
    """The query of the alerting rule called ``name`` (Prometheus's own alerts carry no URL):
    of several rules of that name, the one whose labels the alert carries (a page and its warning
    differ by severity), else the first."""
    groups = (await prom.rules()).data
    named = [r for g in groups for r in g.rules if r.kind == "alerting" and r.name == name]
    own = [r for r in named if all(labels.get(k) == v for k, v in r.labels.items())]
    return (own or named)[0].query if named else ""


def _clock(t: float) -> str:
    from datetime import datetime

    return f"{datetime.fromtimestamp(t):%H:%M:%S}"


def _series_label(labels, query: str = "") -> str:
    """A line's legend: its labels, after the query it answers when the graph has several (a
    recorded series by the last part of its name: ratio_rate6h)."""
    shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")
    if not query:
        return shown or "value"
    name = (
        query.rsplit(":", 1)[-1] if _METRIC_NAME.fullmatch(query) else query if len(query) <= 40 else query[:39] + "…"
    )
    return f"{name} {{{shown}}}" if shown else name
