"""SQL console: read-only SQL on the context's ClickHouse, with history, cancel and export.

Every query runs with ClickHouse's ``readonly = 1``, the context's time limit and row cap (see
backends/analytics.py), so a write is refused by the server itself; sql_guard names the refusal
first in plain words (INSERT, ALTER, DROP, ...) without a round trip. Results land in a
DataTable, which draws only the rows on screen; the row cap bounds what is held.

Keys: F5 or Ctrl+R runs; Esc cancels a running query (else leaves the editor for the results);
F2 / F3 walk the history (kept in the XDG state dir); on the results ``e`` / ``E`` export CSV /
JSON to the working directory and ``i`` goes back to the editor.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static, TextArea

from zeta_tui.errors import ZetaError
from zeta_tui.models.analytics import is_numeric_type, query_cost_text
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.backends.analytics import ResultSet
    from zeta_tui.screens.contract import Console

HISTORY_KIND = "sql"
STARTER_SQL = (
    "SELECT tenant_id, count() AS requests\nFROM api_usage\nWHERE date >= today() "
    "- 7\nGROUP BY tenant_id\nORDER BY requests DESC\nLIMIT 10"
)


def cell_text(value: Any) -> str:
    """A result value as the table shows it (NULL for None, one line)."""
    if value is None:
        return "NULL"
    text = str(value)
    return text if "\n" not in text else text.replace("\n", "⏎")


def status_text(result: ResultSet, max_rows: int) -> str:
    """ "1,234 rows in 0.042 s, read 2.1M rows (40.0 MiB)" (+ the cap, when it cut the result)."""
    text = query_cost_text(len(result.rows), result.elapsed_s, result.rows_read, result.bytes_read)
    if result.truncated:
        text += f" · ✂ stopped at the {max_rows:,}-row cap (add a LIMIT or aggregate)"
    return text


class SqlConsoleScreen(ConsoleScreen):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding("f5,ctrl+r", "run", "Run", id="sql.run", tooltip="Run the SQL (read-only)", priority=True),
        Binding(
            "escape",
            "escape",
            "Cancel/leave",
            id="sql.cancel",
            tooltip="Cancel the running query; else leave the editor for the results",
        ),
        Binding("f2", "history(-1)", "Older", id="sql.history.older", tooltip="Previous query from the history"),
        Binding("f3", "history(1)", "Newer", id="sql.history.newer", tooltip="Next query from the history"),
        Binding(
            "e",
            "export('csv')",
            "CSV",
            id="sql.export.csv",
            tooltip="Write the results to a CSV file (from the results)",
        ),
        Binding(
            "E",
            "export('json')",
            "JSON",
            id="sql.export.json",
            tooltip="Write the results to a JSON file (from the results)",
        ),
        Binding("i", "edit", "Edit", id="sql.edit", tooltip="Back to the editor (from the results)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: ResultSet | None = None
        self.running: str | None = None  # query id in flight
        self._started = 0.0
        self._ticker: Timer | None = None
        self._history: list[str] = []
        self._history_at = 0

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield TextArea(STARTER_SQL, id="sql-editor", soft_wrap=True, show_line_numbers=True)
        yield Static("F5 runs (read-only) · Esc cancels · F2/F3 history", id="sql-status")
        yield DataTable(id="sql-results", zebra_stripes=True)
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.update_header()
        self._history = self.app.query_history(HISTORY_KIND, multiline=True)
        self._history_at = len(self._history)
        self.query_one("#sql-editor", TextArea).focus()

    def on_screen_resume(self) -> None:
        self.update_header()

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#sql-status", Static)
        status.set_class(error, "-error")
        status.update(text, layout=False)

    # --- running -------------------------------------------------------------------------------

    def action_run(self) -> None:
        sql = self.query_one("#sql-editor", TextArea).text.strip()
        if not sql:
            self._status("nothing to run: type a SELECT", error=True)
            return
        from zeta_tui.querying.sql_guard import write_refusal

        refusal = write_refusal(sql)
        if refusal is not None:
            self._status(f"✖ refused: {refusal}", error=True)
            return
        try:
            source = self.app.session.require(
                "clickhouse", 'with path = "..." (an embedded store) or url = "https://clickhouse:8443"'
            )
        except ZetaError as exc:
            self._status(f"✖ {exc.render()}", error=True)
            return
        self.app.remember_query(HISTORY_KIND, sql, multiline=True)
        if not self._history or self._history[-1] != sql:
            self._history.append(sql)
        self._history_at = len(self._history)
        self.running = uuid.uuid4().hex
        self._started = time.monotonic()
        self._status("◌ running… 0.0 s · Esc cancels")
        self._ticker = self.set_interval(0.5, self._tick)
        self._run(source, sql, self.running)

    def _tick(self) -> None:
        if self.running is not None:
            self._status(f"◌ running… {time.monotonic() - self._started:.1f} s · Esc cancels")

    @work(exclusive=True, exit_on_error=False, group="sql")
    async def _run(self, source: Any, sql: str, query_id: str) -> None:
        max_rows = self.app.context.clickhouse.max_rows if self.app.context.clickhouse is not None else 10_000
        try:
            result = await source.query(sql, query_id=query_id, max_rows=max_rows)
        except ZetaError as exc:
            if self.running == query_id:
                self._finish()
                self._status(f"✖ {exc.render()}", error=True)
            return
        if self.running != query_id:
            return  # cancelled meanwhile
        self._finish()
        self.result = result
        self._show(result)
        self._status(status_text(result, max_rows))

    def _finish(self) -> None:
        self.running = None
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _show(self, result: ResultSet) -> None:
        table = self.query_one("#sql-results", DataTable)
        table.clear(columns=True)
        numeric = [is_numeric_type(kind) for kind in result.types]
        for name in result.columns:
            table.add_column(name, key=name)
        table.add_rows(
            [
                [Text(cell_text(v), justify="right") if right else cell_text(v) for v, right in zip(row, numeric)]
                for row in result.rows
            ]
        )

    def action_escape(self) -> None:
        if self.running is not None:
            query_id = self.running
            self._finish()
            # The worker is left to end: the killed query makes its await raise (cancelled), and
            # it drops the answer because the query is no longer the running one. Cancelling the
            # worker instead would orphan the thread's result.
            self._cancel(query_id)
            self._status("✖ cancelled", error=True)
            return
        self.query_one("#sql-results", DataTable).focus()

    @work(exit_on_error=False, group="sql-cancel")
    async def _cancel(self, query_id: str) -> None:
        source = self.app.session.clickhouse
        if source is None:
            return
        try:
            await source.cancel(query_id)
        except ZetaError as exc:
            self.notify(f"the server may still run the query: {exc.render()}", severity="warning", timeout=8)

    # --- editor and history -------------------------------------------------------------------------

    def action_edit(self) -> None:
        self.query_one("#sql-editor", TextArea).focus()

    def action_history(self, step: int) -> None:
        if not self._history:
            self._status("no history yet: queries you run are kept here")
            return
        self._history_at = max(0, min(len(self._history), self._history_at + step))
        text = self._history[self._history_at] if self._history_at < len(self._history) else ""
        editor = self.query_one("#sql-editor", TextArea)
        editor.text = text
        editor.focus()
        self._status(f"history {self._history_at + 1} of {len(self._history)}" if text else "a new query")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Printable keys belong to the editor while it has focus.
        return not (action in ("export", "edit") and isinstance(self.focused, TextArea))

    # --- export ----------------------------------------------------------------------------------

    def action_export(self, fmt: str) -> None:
        if self.result is None or not self.result.columns:
            self.notify("no results to export yet", severity="warning")
            return
        path = Path.cwd() / f"zeta-sql-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"
        try:
            write_result(self.result, path, fmt)
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror}", severity="error")
            return
        self.notify(f"{len(self.result.rows):,} rows written to {path}")


def write_result(result: ResultSet, path: Path, fmt: str) -> None:
    """``result`` as CSV (a header row, then the rows) or JSON (an array of objects)."""
    if fmt == "csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(result.columns)
            writer.writerows(["" if v is None else v for v in row] for row in result.rows)
        return
    import orjson

    path.write_bytes(orjson.dumps(result.records(), default=str, option=orjson.OPT_INDENT_2))
