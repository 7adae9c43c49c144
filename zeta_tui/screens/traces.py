"""Traces: search by service, operation, tags and duration in the shell's time range.

The results list (root operation, duration, span count, services, errors) is sortable, and a
scatter above it shows every result's duration against its start, so the slow outliers stand
out. Enter opens the waterfall; `i` opens a trace by id. Results refresh like any pane.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from zeta_tui.errors import QueryError
from zeta_tui.messages import GoBack
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceSearch, TraceSummary, format_duration_ns
from zeta_tui.querying.trace_search import FIELDS, parse_form
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets.duration_scatter import duration_scatter
from zeta_tui.widgets.fitted_table import Column, FittedTable

if TYPE_CHECKING:
    from zeta_tui.backends.traces.base import TraceSource

SORTS = (
    ("newest", lambda s: -s.start_ns),
    ("slowest", lambda s: -s.duration_ns),
    ("most spans", lambda s: -s.span_count),
    ("most errors", lambda s: (-s.error_count, -s.duration_ns)),
)
SCATTER_HEIGHT = 4
RESULT_COLUMNS = (
    Column("Started", "start", 12),
    Column("Root: service · operation", "root", 24, name=True),
    Column("Duration", "duration", 9),
    Column("Spans", "spans", 6),
    Column("Errors", "errors", 7),
    Column("Services", "services", 20, name=True, drop=1),  # a list: left out where it would be cut
)
SCATTER_MIN_HEIGHT = 30  # terminal rows from which the scatter is shown (at 80x24 the list needs them)


class TracesScreen(PollingScreen[TraceSearch]):
    BINDINGS = [
        Binding(
            "slash",
            "focus_form",
            "Search",
            id="traces.search",
            tooltip="Edit the search (service, operation, tags, min/max duration, limit)",
        ),
        Binding("enter", "open", "Waterfall", id="traces.open", tooltip="Open the selected trace"),
        Binding("s", "sort", "Sort", id="traces.sort", tooltip="Sort by newest, slowest, most spans, most errors"),
        Binding("i", "by_id", "By id", id="traces.by_id", tooltip="Open a trace by its id"),
        Binding(
            "escape", "back_to_results", "Results", show=False, id="traces.results", tooltip="Back to the results list"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str] = {name: "" for name in FIELDS}
        self.sort_index = 0
        self.summaries: tuple[TraceSummary, ...] = ()
        self._services_offered = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="traces-form"):
            yield Input(placeholder="service", id="traces-service")
            yield Input(placeholder="operation", id="traces-operation")
            yield Input(placeholder="tags: key=value error=true", id="traces-tags")
            yield Input(placeholder="min 500ms", id="traces-min")
            yield Input(placeholder="max", id="traces-max")
            yield Input(placeholder="50", id="traces-limit")
        yield Input(placeholder="trace id (hex or base64) · Enter opens it · Esc cancels", id="traces-id")
        yield Static("", id="traces-scatter")
        yield Static("", id="traces-summary")
        yield FittedTable(RESULT_COLUMNS, id="traces-results", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#traces-results", DataTable)
        self.query_one("#traces-id").display = False
        self.query_one("#traces-scatter").display = self.app.size.height >= SCATTER_MIN_HEIGHT
        table.focus()

    # --- the question ------------------------------------------------------------------------

    def question(self) -> tuple:
        return tuple(self.form[name] for name in FIELDS)

    def _source(self) -> TraceSource:
        return self.app.session.require("traces", 'with kind = "jaeger" | "tempo" | "clickhouse"')

    async def fetch(self, time_range: TimeRange) -> QueryResult[TraceSearch]:
        source = self._source()
        query = parse_form(self.form, time_range)
        if not query.service and source.kind == "jaeger":
            # Jaeger cannot search without a service: take the context's first one it knows.
            known = await source.services()
            preferred = [s for s in self.app.context.services if s in known] or known
            if not preferred:
                raise QueryError(
                    "Jaeger knows no services yet", where=source.url, hint="send some traces, or check traces.url"
                )
            self.form["service"] = preferred[0]
            self.call_later(self._fill_form)
            query = parse_form(self.form, time_range)
        result = await source.search(query)
        return QueryResult(result, result.warnings)

    def show(self, value: TraceSearch) -> None:
        self.summaries = value.summaries
        self._draw()

    # --- drawing ----------------------------------------------------------------------------

    def _draw(self, keep_selection: bool = True) -> None:
        """Fill the list; a refresh keeps the selected trace selected, a new sort starts at the top."""
        name, key = SORTS[self.sort_index]
        rows = sorted(self.summaries, key=key)
        table = self.query_one("#traces-results", FittedTable)
        chosen = (
            table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if table.row_count and keep_selection
            else None
        )
        table_rows = []
        for s in rows:
            started = datetime.fromtimestamp(s.start_ns / 1e9).strftime("%H:%M:%S.%f")[:12]
            errors = f"✖ {s.error_count}" if s.error_count else "0"
            services = ", ".join(s.services) if s.services else "—"
            spans = str(s.span_count) if s.span_count else "?"
            table_rows.append(
                (
                    s.trace_id,
                    [
                        started,
                        f"{s.root_service or '?'} · {s.root_name}",
                        format_duration_ns(s.duration_ns),
                        spans,
                        errors,
                        services,
                    ],
                )
            )
        table.show_rows(table_rows)
        if not keep_selection and table.row_count:
            table.move_cursor(row=0)
        if chosen is not None and chosen in table.rows:
            table.move_cursor(row=table.get_row_index(chosen))
        with_errors = sum(1 for s in rows if s.error_count)
        slowest = max((s.duration_ns for s in rows), default=0)
        self.query_one("#traces-summary", Static).update(
            f"{len(rows)} traces · {with_errors} with errors · slowest {format_duration_ns(slowest)} "
            f"· sorted by {name} (s)",
            layout=False,
        )
        self._draw_scatter()

    def _draw_scatter(self) -> None:
        scatter = self.query_one("#traces-scatter", Static)
        compact = self.app.size.height < SCATTER_MIN_HEIGHT
        scatter.display = not compact
        if compact:
            return
        window = self.app.current_range()
        lines = duration_scatter(
            self.summaries, int(window.start * 1e9), int(window.end * 1e9), max(12, self.size.width - 2), SCATTER_HEIGHT
        )
        scatter.update("\n".join(lines), layout=False)

    def on_resize(self) -> None:
        self._draw_scatter()

    # --- actions ----------------------------------------------------------------------------

    def action_focus_form(self) -> None:
        self.query_one("#traces-service", Input).focus()

    def _fill_form(self) -> None:
        for name in FIELDS:
            box = self.query_one(f"#traces-{name}", Input)
            if box.value != self.form[name]:
                box.value = self.form[name]

    @on(Input.Submitted, "#traces-form Input")
    def _form_submitted(self, event: Input.Submitted) -> None:
        self.form = {name: self.query_one(f"#traces-{name}", Input).value.strip() for name in FIELDS}
        self.query_one("#traces-results", DataTable).focus()
        self.refresh_data()

    def set_search(self, service: str, errors_only: bool, tags: tuple[tuple[str, str], ...] = ()) -> None:
        """Search one service (with errors only, and ``tags``) now: a join from an alert."""
        self.form = {name: "" for name in FIELDS}
        self.form["service"] = service
        words = [f"{k}={v}" for k, v in tags] + (["error=true"] if errors_only else [])
        self.form["tags"] = " ".join(words)
        if self.is_mounted:
            self._fill_form()
        self.refresh_data()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._draw(keep_selection=False)
        self.query_one("#traces-results", DataTable).move_cursor(row=0)

    def action_open(self) -> None:
        table = self.query_one("#traces-results", DataTable)
        if not table.row_count:
            self.notify("no trace to open: search first (/)", severity="warning")
            return
        trace_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.open_trace(str(trace_id))

    @on(DataTable.RowSelected, "#traces-results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_trace(str(event.row_key.value))

    def open_trace(self, trace_id: str) -> None:
        from zeta_tui.screens.trace_view import TraceViewScreen

        self.app.push_screen(TraceViewScreen(trace_id))

    def action_by_id(self) -> None:
        box = self.query_one("#traces-id", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#traces-id")
    def _id_submitted(self, event: Input.Submitted) -> None:
        from zeta_tui.models.traces import normalise_id

        text = event.value.strip()
        event.input.display = False
        event.input.value = ""
        self.query_one("#traces-results", DataTable).focus()
        if text:
            self.open_trace(normalise_id(text))

    def action_back_to_results(self) -> None:
        results = self.query_one("#traces-results", DataTable)
        if not self.query_one("#traces-id").display and results.has_focus:
            self.post_message(GoBack())  # already on the results: Esc walks back
            return
        self.query_one("#traces-id").display = False
        results.focus()
