"""Silences: create one for an alert (matchers prefilled from it), list them, expire one.

Every write is refused in a read-only context with the reason (the adapter refuses too, so no
path can forget it), and confirmed before it is sent: the form shows what will be created and
`y` sends it. Author and comment are required; the duration is a Zeta duration (2h, 90m).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.messages import GoBack
from zeta_tui.models.alerts import Matcher, Silence, matchers_for, split_unquoted
from zeta_tui.models.bulk import let_go
from zeta_tui.models.snapshot import Snapshot
from zeta_tui.models.timerange import format_age, parse_duration
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

_MODAL = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 100; height: auto; border: round $primary; background: $surface; padding: 0 1;
}}
{name} Input {{ margin: 0 0 1 0; }}
"""


def read_only_reason(app: Console) -> str:
    """Why writes are refused in this context ("" when they are not)."""
    ctx = app.context
    if not ctx.is_read_only:
        return ""
    why = "it is a production context" if ctx.production and ctx.read_only is None else "read_only = true"
    return (
        f"context {app.context_name!r} is read-only ({why}); set read_only = false in [contexts.{app.context_name}] "
        "to allow silences"
    )


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``alertname="HighErrorRate" service=~"api.*"`` -> matchers; ValueError naming the bad one.

    Matchers are separated by spaces outside double quotes (a value may hold spaces and \\"
    escapes inside its quotes)."""
    words = split_unquoted(text, str.isspace)
    if not words:
        raise ValueError('give at least one matcher, e.g. alertname="HighErrorRate"')
    return tuple(Matcher.parse(w) for w in words)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question before a write: y sends it, n or Esc does not."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Do not"),
    ]
    DEFAULT_CSS = _MODAL.format(name="ConfirmScreen")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            yield Static("y: yes · n / Esc: no", classes="section-title")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SilenceForm(ModalScreen[str | None]):
    """Matchers (prefilled from the alert), duration, author, comment; Enter on the comment asks
    for confirmation, then creates the silence. Dismissed with the new silence's id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="silence.cancel", tooltip="Close without creating anything")]
    DEFAULT_CSS = _MODAL.format(name="SilenceForm")
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    def __init__(self, alert=None) -> None:
        super().__init__()
        self.alert = alert

    def compose(self) -> ComposeResult:
        matchers = " ".join(str(m) for m in matchers_for(self.alert)) if self.alert is not None else ""
        with Vertical():
            yield Static("New silence · Enter on the comment to review · Esc cancels", classes="section-title")
            yield Input(
                matchers, placeholder='matchers: alertname="HighErrorRate" service="ml-engine"', id="silence-matchers"
            )
            yield Input("2h", placeholder="duration: 2h, 90m, 1d", id="silence-duration")
            yield Input(os.environ.get("USER", ""), placeholder="author (required)", id="silence-author")
            yield Input("", placeholder="comment: why (required), e.g. the incident or ticket", id="silence-comment")
            yield Static("", id="silence-problem")

    def on_mount(self) -> None:
        self.query_one("#silence-comment", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _values(self) -> tuple[tuple[Matcher, ...], float, str, str]:
        text = {
            name: self.query_one(f"#silence-{name}", Input).value.strip()
            for name in ("matchers", "duration", "author", "comment")
        }
        matchers = parse_matchers(text["matchers"])
        try:
            seconds = parse_duration(text["duration"])
        except ValueError:
            raise ValueError(f"duration {text['duration']!r} is not a duration: write 2h, 90m or 1d") from None
        if seconds <= 0:
            raise ValueError("the duration must be longer than 0")
        if not text["author"]:
            raise ValueError("the author is required: your name or e-mail, so others know whom to ask")
        if not text["comment"]:
            raise ValueError("the comment is required: say why, e.g. the incident or ticket")
        return matchers, seconds, text["author"], text["comment"]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "silence-comment":
            self.focus_next()
            return
        try:
            matchers, seconds, author, comment = self._values()
        except ValueError as exc:
            self.query_one("#silence-problem", Static).update(f"✖ {exc}")
            return
        reason = read_only_reason(self.app)
        if reason:
            self.query_one("#silence-problem", Static).update(f"✖ refused: {reason}")
            return
        question = (
            f"Create a silence for {format_age(seconds)}, by {author}?\n"
            f"  matchers: {' '.join(str(m) for m in matchers)}\n  comment:  {comment}"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._create(matchers, seconds, author, comment)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, exit_on_error=False, group="silence", description="create a silence")
    async def _create(self, matchers: Sequence[Matcher], seconds: float, author: str, comment: str) -> None:
        try:
            am = self.app.session.require("alertmanager", 'with url = "http://host:9093"')
            silence_id = await am.create_silence(
                matchers,
                seconds,
                author,
                comment,
                read_only=self.app.context.is_read_only,
                context=self.app.context_name,
            )
        except ZetaError as exc:
            self.query_one("#silence-problem", Static).update(
                f"✖ {exc.message}" + (f" · {exc.hint}" if exc.hint else "")
            )
            return
        self.app.notify(f"silence {silence_id} created for {format_age(seconds)}")
        self.dismiss(silence_id)


SILENCE_COLUMNS = (
    Column("State", "state", 8),
    Column("Id", "id", 10),
    Column("Ends", "ends", 12),
    Column("By", "by", 8, name=True),
    Column("Matchers", "matchers", 24, name=True),
    Column("Comment", "comment", 10, name=True),
)


class SilencesScreen(ConsoleScreen):
    """Every silence: active first, then pending, then expired; x expires the selected one."""

    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding("escape", "back", "Back", id="silences.back", tooltip="Back to the alerts"),
        Binding("n", "new", "New", id="silences.new", tooltip="Create a silence (matchers typed by hand)"),
        Binding("x", "expire", "Expire", id="silences.expire", tooltip="Expire the selected silence (asks first)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Snapshot[int] = Snapshot()
        self.silences: list[Silence] = []

    def action_back(self) -> None:
        self.post_message(GoBack())  # back to the list, or along a join

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield PaneStatus(id="pane-status")
        yield FittedTable(SILENCE_COLUMNS, id="silences-table", zebra_stripes=True)
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.update_header()
        self.refresh_data()

    def prefetch(self) -> None:
        """Nothing to prefetch: silences are read when the screen opens."""

    def on_pause_changed(self) -> None:
        self.update_header()

    def refresh_data(self) -> None:
        self._fetch()

    @work(exclusive=True, exit_on_error=False, group="silences", description="list silences")
    async def _fetch(self) -> None:
        try:
            am = self.app.session.require("alertmanager", 'with url = "http://host:9093"')
            found = await am.silences()
        except ZetaError as exc:
            self.snapshot = self.snapshot.failed(exc, self.app.clock() + self.app.context.refresh_seconds)
        except Exception as exc:  # garbage from a backend must not crash the console
            self.snapshot = self.snapshot.failed(BackendUnavailable(f"unexpected answer: {exc}"), self.app.clock() + 60)
        else:
            count = len(found)
            self.silences = await run_off_loop(_in_order, found)
            self.snapshot = self.snapshot.succeeded(count, self.app.clock())
            self._draw()
        self.query_one(PaneStatus).show(self.snapshot, self.app.clock(), 1e9, self.app.paused)

    def _draw(self) -> None:
        now = self.app.clock()
        rows = []
        for s in self.silences:
            ends = f"in {format_age(s.ends_at - now)}" if s.ends_at > now else f"{format_age(now - s.ends_at)} ago"
            rows.append(
                (s.id, [s.state, s.id[:8], ends, s.created_by, " ".join(str(m) for m in s.matchers), s.comment])
            )
        self.query_one(FittedTable).show_rows(rows)

    def action_new(self) -> None:
        reason = read_only_reason(self.app)
        if reason:
            self.notify(f"refused: {reason}", severity="error", timeout=10)
            return
        self.app.push_screen(SilenceForm(), lambda created: self.refresh_data() if created else None)

    def action_expire(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        silence_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        reason = read_only_reason(self.app)
        if reason:
            self.notify(f"refused: {reason}", severity="error", timeout=10)
            return
        silence = next(s for s in self.silences if s.id == silence_id)
        if silence.state == "expired":
            self.notify("that silence has already expired")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._expire(silence_id)

        self.app.push_screen(
            ConfirmScreen(f"Expire silence {silence_id[:8]} ({' '.join(str(m) for m in silence.matchers)}) now?"),
            answered,
        )

    @work(exclusive=True, exit_on_error=False, group="silence-write", description="expire a silence")
    async def _expire(self, silence_id: str) -> None:
        try:
            am = self.app.session.require("alertmanager", 'with url = "http://host:9093"')
            await am.expire_silence(silence_id, read_only=self.app.context.is_read_only, context=self.app.context_name)
        except ZetaError as exc:
            self.notify(f"{exc.message}", severity="error", timeout=10)
            return
        self.notify(f"silence {silence_id[:8]} expired")
        self.refresh_data()


#: silences the table holds at most (active first, then pending, then expired, latest end first)
MAX_ROWS = 200


def _in_order(found: list) -> list:
    """Active first, then pending, then expired; latest end first (off the event loop: an
    Alertmanager keeps every expired silence for its retention); the first MAX_ROWS."""
    order = {"active": 0, "pending": 1, "expired": 2}
    ordered = sorted(found, key=lambda s: (order.get(s.state, 3), -s.ends_at))
    shown = ordered[:MAX_ROWS]
    let_go(ordered)  # the rest, a slice at a time (models/bulk.py)
    let_go(found)
    return shown
