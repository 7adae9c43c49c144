"""Logs: search a time range, or follow the live tail; filter, search, detail, context, copy, export.

The query box filters at the source (the one log query syntax, translated per backend); the
search box only highlights within what is loaded (n / N jump between matches). Following keeps
a bounded buffer, shows how far behind the newest record the screen is and what the source
dropped. PII fields are masked until `v` reveals them.

The list is in time order, the newest at the bottom; a search (a key, a join, a refresh) puts
the cursor on the newest record and its row on screen (widgets/log_view.py, docs/logs.md).
`C` picks the columns (pod, tenant, endpoint ... under whatever names the source uses:
models/log_fields.py); Enter shows the whole record, long values wrapped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static

from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.models.logs import LogRecord
from zeta_tui.models.snapshot import Snapshot, retry_delay
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets.history_input import HistoryInput
from zeta_tui.widgets.log_view import LogView
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

SEARCH_LIMIT = 2000  # records fetched for a search; follow mode then appends
CONTEXT_RECORDS = 20  # `c`: records before and after, from the same service


class LogsScreen(ConsoleScreen):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding(
            "slash",
            "focus_query",
            "Query",
            id="logs.query",
            tooltip='Edit the query (Kibana syntax: level:ERROR AND tenant_id:"tenant_001")',
        ),
        Binding("f", "toggle_follow", "Follow", id="logs.follow", tooltip="Follow the live tail, or stop following"),
        Binding(
            "s", "focus_search", "Search", id="logs.search", tooltip="Highlight text in the loaded records (n / N jump)"
        ),
        Binding("n", "next_match(1)", "Next", show=False, id="logs.next", tooltip="Next search match"),
        Binding("N", "next_match(-1)", "Prev", show=False, id="logs.prev", tooltip="Previous search match"),
        Binding(
            "c",
            "context",
            "Context",
            id="logs.context",
            tooltip=f"{CONTEXT_RECORDS} records before and after, same service",
        ),
        Binding("v", "toggle_pii", "PII", id="logs.pii", tooltip="Reveal or mask user ids and IP addresses"),
        Binding(
            "C",
            "pick_columns",
            "Columns",
            show=False,
            id="logs.columns",
            tooltip="Choose the columns: pod, tenant, endpoint, method, status, latency, any field",
        ),
        Binding("y", "copy_line", "Copy", id="logs.copy", tooltip="Copy the record as JSON (OSC 52, works over SSH)"),
        Binding(
            "Y", "copy_trace", "Copy trace", show=False, id="logs.copy_trace", tooltip="Copy the record's trace id"
        ),
        Binding("o", "open_trace", "Trace", id="logs.trace", tooltip="Open the record's trace"),
        Binding(
            "e",
            "export",
            "Export",
            show=False,
            id="logs.export",
            tooltip="Write the loaded records to a JSON-lines file",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.following = False
        self.reveal_pii = False
        self.snapshot: Snapshot[int] = Snapshot()
        self.dropped = 0
        self._generation = 0
        self._asked: Any = None
        self._older: Any = None  # cursor of the next older page of the current search

    # --- composition -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield PaneStatus(id="pane-status")
        with Horizontal(id="logs-bar"):
            yield HistoryInput(
                placeholder="/ query: level:ERROR AND latency_ms:>1000 (empty: everything)", id="logs-query"
            )
            yield Input(placeholder="s search", id="logs-search")
        yield Static("", id="logs-mode")
        yield LogView(id="logs-view")
        yield Footer()

    def on_mount(self) -> None:
        cfg = self._config()
        view = self.query_one(LogView)
        if cfg is not None:
            view.records = type(view.records)(maxlen=cfg.buffer_records)
            view.hidden_fields = frozenset(cfg.pii_fields)
        variables = self.app.theme_variables
        from rich.style import Style

        view.level_styles = {
            "ERROR": Style(color=variables.get("error"), bold=True),
            "FATAL": Style(color=variables.get("error"), bold=True, reverse=True),
            "WARN": Style(color=variables.get("warning"), bold=True),
            "DEBUG": Style(dim=True),
            "TRACE": Style(dim=True),
        }
        view.focus()
        query_box = self.query_one("#logs-query", HistoryInput)
        for entry in self.app.query_history("logs"):
            query_box.remember(entry)
        self.update_header()

    def on_screen_resume(self) -> None:
        self.update_header()
        if self._asked != self._current_ask():
            self.refresh_data()
        elif self.following and not self.app.paused:
            self._run_tail(self._generation)

    def on_screen_suspend(self) -> None:
        self.workers.cancel_group(self, "tail")  # a hidden screen does not follow

    # --- shared shell hooks (the app calls these like on any data screen) ---------------------

    def header_range(self) -> str:
        return "live" if self.following else self.app.range_label

    def update_header(self) -> None:
        super().update_header()
        self._show_status()

    def on_pause_changed(self) -> None:
        self.update_header()
        if self.app.paused:
            self.workers.cancel_group(self, "tail")
        elif self.following:
            self._run_tail(self._generation)

    def prefetch(self) -> None:
        """Logs are fetched when the screen is shown (a search is cheap to repeat; a tail is not)."""

    # --- fetching ---------------------------------------------------------------------------

    def _config(self):
        return self.app.context.logs

    def _source(self):
        return self.app.session.require("logs", 'with kind = "elasticsearch" | "opensearch" | "loki" | "clickhouse"')

    def _current_ask(self) -> Any:
        return (self.app.range_label, self.query_text)

    def refresh_data(self) -> None:
        """Search the time range again (and, when following, tail from the newest record on)."""
        self._generation += 1
        self._asked = self._current_ask()
        self.workers.cancel_group(self, "tail")
        self._run_search(self._generation, self.query_text)

    @work(exclusive=True, exit_on_error=False, group="search")
    async def _run_search(self, generation: int, text: str) -> None:
        error: ZetaError | None = None
        try:
            from zeta_tui.querying.logquery import parse_log_query

            source = self._source()
            query = parse_log_query(text)
            page = await source.search(query, self.app.current_range(), limit=SEARCH_LIMIT, newest_first=True)
        except ZetaError as exc:
            error = exc
        except Exception as exc:  # garbage from a backend must not crash the console
            error = BackendUnavailable(
                f"unexpected answer: {type(exc).__name__}: {exc}",
                hint="the log source answered something Zeta cannot read",
            )
        if generation != self._generation:
            return
        now = self.app.clock()
        if error is not None:
            delay = retry_delay(error, self.snapshot.failures + 1, self.app.context.refresh_seconds)
            self.snapshot = self.snapshot.failed(error, None if delay is None else now + delay)
            self._show_status()
            return
        self.snapshot = self.snapshot.succeeded(len(page.records), now, _with_note(page.warnings, source))
        self._older = page.cursor
        self.query_one(LogView).replace(page.records)
        self._show_status()
        if self.following and not self.app.paused:
            self._run_tail(generation)

    @work(exclusive=True, exit_on_error=False, group="tail")
    async def _run_tail(self, generation: int) -> None:
        from zeta_tui.querying.logquery import parse_log_query

        view = self.query_one(LogView)
        since = (view.records[-1].timestamp_ns + 1) if view.records else int(self.app.clock() * 1e9)
        try:
            source = self._source()
            async for page in source.tail(parse_log_query(self.query_text), since):
                if generation != self._generation:
                    return
                view.extend(page.records)
                self.dropped += page.dropped
                now = self.app.clock()
                self.snapshot = self.snapshot.succeeded(len(view.records), now, _with_note(page.warnings, source))
                self._show_status()
        except ZetaError as exc:
            self.snapshot = self.snapshot.failed(exc, self.app.clock() + self.app.context.refresh_seconds)
            self._show_status()

    # --- status ---------------------------------------------------------------------------

    def _show_status(self) -> None:
        if not self.is_mounted:
            return
        now = self.app.clock()
        fresh_for = 1e9 if self.following else self.app.context.refresh_seconds * 60
        self.query_one(PaneStatus).show(self.snapshot, now, fresh_for, self.app.paused)
        view = self.query_one(LogView)
        more = " (newest; ↑ at the top loads older)" if self._older is not None and not self.following else ""
        parts = [f"{'FOLLOW' if self.following else 'SEARCH'}", f"{len(view.records):,} records{more}"]
        if self.following and view.records:
            lag = max(0.0, now - view.records[-1].timestamp)
            parts.append(f"lag {lag:.1f}s")
            parts.append(f"dropped {self.dropped:,}")
        parts.append("PII shown" if self.reveal_pii else "PII masked")
        matches = view.matches() if view.matcher else None
        if matches is not None:
            parts.append(f"{len(matches):,} matches")
        self.query_one("#logs-mode", Static).update(" · ".join(parts), layout=False)

    # --- actions ----------------------------------------------------------------------------

    def action_focus_query(self) -> None:
        self.query_one("#logs-query", Input).focus()

    def action_focus_search(self) -> None:
        self.query_one("#logs-search", Input).focus()

    def set_query(self, text: str) -> None:
        """Search ``text`` now (a join from a trace or an alert); the box shows it."""
        self.query_text = text.strip()
        if self.is_mounted:
            self.query_one("#logs-query", HistoryInput).value = self.query_text
            self.query_one(LogView).focus()
        self.refresh_data()

    @on(Input.Submitted, "#logs-query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        if self.query_text:
            self.query_one("#logs-query", HistoryInput).remember(self.query_text)
            self.app.remember_query("logs", self.query_text)
        self.query_one(LogView).focus()
        self.refresh_data()

    @on(Input.Changed, "#logs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        view = self.query_one(LogView)
        needle = event.value.strip().lower()
        view.highlight = needle
        view.matcher = (lambda r: needle in _line(r).lower()) if needle else None
        view.refresh()
        self._show_status()

    @on(Input.Submitted, "#logs-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        view = self.query_one(LogView)
        view.focus()
        view.jump(1)

    def action_next_match(self, direction: int) -> None:
        if not self.query_one(LogView).jump(direction):
            self.notify("no match in the loaded records", severity="warning")

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        self.update_header()
        if self.following:
            self.query_one(LogView).action_cursor_to(-1)
            if not self.app.paused:
                self._run_tail(self._generation)
        else:
            self.workers.cancel_group(self, "tail")
        self._show_status()

    def action_toggle_pii(self) -> None:
        cfg = self._config()
        self.reveal_pii = not self.reveal_pii
        view = self.query_one(LogView)
        view.hidden_fields = frozenset() if self.reveal_pii or cfg is None else frozenset(cfg.pii_fields)
        view.refresh()
        self._show_status()

    def action_pick_columns(self) -> None:
        from zeta_tui.screens.log_columns import ColumnPicker

        view = self.query_one(LogView)

        def chosen(keys: list[str] | None) -> None:
            if keys is not None:
                view.show_columns(keys)
            view.focus()

        self.app.push_screen(ColumnPicker(view.column_choices()), chosen)

    def _record(self) -> LogRecord | None:
        record = self.query_one(LogView).current()
        if record is None:
            self.notify("no record selected", severity="warning")
        return record

    def _shown(self, record: LogRecord) -> LogRecord:
        from zeta_tui.models.pii import masked

        cfg = self._config()
        return record if self.reveal_pii or cfg is None else masked(record, cfg.pii_fields)

    def action_copy_line(self) -> None:
        if (record := self._record()) is not None:
            import orjson

            self.app.copy_to_clipboard(orjson.dumps(self._shown(record).to_dict(), default=str).decode())
            self.notify("record copied (OSC 52)")

    def action_copy_trace(self) -> None:
        if (record := self._record()) is not None:
            if not record.trace_id:
                self.notify("this record has no trace id", severity="warning")
                return
            self.app.copy_to_clipboard(record.trace_id)
            self.notify(f"trace id {record.trace_id} copied (OSC 52)")

    def action_open_trace(self) -> None:
        if (record := self._record()) is not None:
            if not record.trace_id:
                self.notify("this record has no trace id", severity="warning")
                return
            from zeta_tui.messages import OpenTrace

            self.post_message(OpenTrace(record.trace_id, record.timestamp, record.service, record.span_id))

    def action_export(self) -> None:
        import orjson

        view = self.query_one(LogView)
        path = Path.cwd() / f"zeta-logs-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        try:
            with path.open("wb") as f:
                for record in view.records:
                    f.write(orjson.dumps(self._shown(record).to_dict(), default=str) + b"\n")
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"{len(view.records):,} records written to {path}")

    def on_log_view_wants_older(self, event: LogView.WantsOlder) -> None:
        if self._older is not None and not self.following:
            self._run_older(self._generation, self._older)

    @work(exclusive=True, exit_on_error=False, group="older")
    async def _run_older(self, generation: int, cursor: Any) -> None:
        from zeta_tui.querying.logquery import parse_log_query

        try:
            page = await self._source().search(
                parse_log_query(self.query_text),
                self.app.current_range(),
                limit=SEARCH_LIMIT,
                newest_first=True,
                cursor=cursor,
            )
        except ZetaError as exc:
            self.notify(exc.render(), severity="error", timeout=10)
            return
        if generation == self._generation:
            self._older = page.cursor
            self.query_one(LogView).prepend(page.records)
            self._show_status()

    def on_log_view_record_chosen(self, event: LogView.RecordChosen) -> None:
        from zeta_tui.screens.log_detail import LogDetailScreen

        self.app.push_screen(LogDetailScreen(self._shown(event.record)))

    def action_context(self) -> None:
        if (record := self._record()) is None:
            return
        self._run_context(record)

    @work(exclusive=True, exit_on_error=False, group="context")
    async def _run_context(self, record: LogRecord) -> None:
        from zeta_tui.models.timerange import TimeRange
        from zeta_tui.querying.logquery import parse_log_query
        from zeta_tui.screens.log_detail import LogContextScreen

        try:
            source = self._source()
            query = parse_log_query(f'service:"{record.service}"' if record.service else "")
            t = record.timestamp
            before = await source.search(
                query, TimeRange(t - 3600, t, "context"), limit=CONTEXT_RECORDS + 1, newest_first=True
            )
            after = await source.search(
                query, TimeRange(t, t + 3600, "context"), limit=CONTEXT_RECORDS + 1, newest_first=False
            )
        except ZetaError as exc:
            self.notify(exc.render(), severity="error", timeout=10)
            return
        seen, records = set(), []
        for r in (*before.records, *after.records):
            key = r.record_id or (r.timestamp_ns, r.message)
            if key not in seen:
                seen.add(key)
                records.append(self._shown(r))
        self.app.push_screen(LogContextScreen(records, self._shown(record)))


def _with_note(warnings: tuple[str, ...], source: Any) -> tuple[str, ...]:
    """The page's warnings and the source's note (Loki's fallback selector): the pane status
    line shows both, so the user sees which streams are being read."""
    note = getattr(source, "note", "")
    return (*warnings, note) if note else warnings


def _line(record: LogRecord) -> str:
    fields = " ".join(f"{k}={v}" for k, v in record.fields.items())
    return f"{record.level} {record.service} {record.message} {fields} {record.trace_id}"
