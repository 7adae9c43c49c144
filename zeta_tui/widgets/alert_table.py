"""The alerts list: severity as a word and a colour, what fired, for how long, who it went to.

Alerts of one name on one service are one row (models/alert_overview.py's AlertFold):
``▸ ModelTrainingFailed ×5``, in the place of its most severe, most urgent member. Its state is
that member's; when the members are in more than one state the count comes first (``3 FIRING``:
three of the five fire) and the preview says them all (``3 firing, 2 pending``). Its "By" cell
names the labels that tell the members apart (``tenant_id``). Enter, Space or Right opens it
(``▾``): its members follow, each named by the values of those labels (``├ tenant_001``); Left
or Space on a member closes it again. Which folds are open is kept across refreshes.

At 80 columns the alert's name is never cut: the Alert column is at least as wide as the longest
name, and the summary is not a column there but the preview under the table (AlertPreview),
which says the row under the cursor in full, wrapped: its summary, the labels of a member, where
it was routed. From 120 columns the table has room for Receiver and Summary columns as well.
Where the names do not fit even so, "Det." goes first, then "By", before any name is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from zeta_tui.models.alert_overview import STATE_NAMES, AlertFold, AlertRow
from zeta_tui.models.timerange import format_age
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.table_rows import Cell

SEVERITY_VARIABLE = {"critical": "error", "error": "error", "warning": "warning", "info": "accent"}
STATE_WORD = {
    "active": "FIRING",
    "pending": "pending",
    "silenced": "silenced",
    "inhibited": "inhibited",
    "muted": "muted",
}
FOLDED, OPEN = "▸", "▾"
#: the least width of the Alert column; it grows to the longest name (never cut)
ALERT_WIDTH = 12
#: the table's width from which Receiver and Summary are columns too
WIDE_FROM = 120
#: the most cells the Summary column takes beyond its least width
SUMMARY_GROW = 200


def row_key(row: AlertRow) -> str:
    return row.fingerprint or f"{row.source}:" + ",".join(f"{k}={v}" for k, v in sorted(row.labels.items()))


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One line of the table: a fold of several alerts (``member`` None), one of its members, or
    an alert alone (a fold of one, ``member`` its alert)."""

    fold: AlertFold
    member: AlertRow | None = None

    @property
    def is_fold(self) -> bool:
        """The line of a fold of several alerts (open or not), not of one alert."""
        return self.member is None

    @property
    def row(self) -> AlertRow:
        """The alert of the line; a fold's lead for the line of a fold."""
        return self.member if self.member is not None else self.fold.lead

    @property
    def key(self) -> str:
        return row_key(self.member) if self.member is not None else "fold:" + self.fold.key


def columns(wide: bool, folds: bool, alert_width: int) -> tuple[Column, ...]:
    """The table's columns: Receiver and Summary only when ``wide``; "By" only when some row is
    a fold of several; the Alert column never narrower than ``alert_width`` (its longest name)."""
    out = [
        Column("Severity", "severity", 8),
        Column("State", "state", 9, name=True),
        Column("Alert", "alert", max(ALERT_WIDTH, alert_width), name=True),
        Column("Service", "service", 9, name=True),
        Column("By", "by", 4, name=True, drop=1),
        Column("For", "for", 5),
        # From the condition beginning to the alert firing: the seed's "detection within 5 minutes".
        Column("Detected in", "detected", 11, drop=2) if wide else Column("Det.", "detected", 5, drop=2),
        Column("Receiver", "receiver", 12, name=True, drop=3),
        # What the names leave, the summary cut at its end (the preview holds it whole): as a
        # name it would want its whole length and push the droppable columns out first.
        Column("Summary", "summary", 10, drop=4, grow=SUMMARY_GROW),
    ]
    return tuple(c for c in out if (folds or c.key != "by") and (wide or c.key not in ("receiver", "summary")))


class AlertTable(FittedTable):
    """Folds in the order given (the overview sorts them); the screen sets ``colours``."""

    class Toggled(Message):
        """A fold was opened or closed (the cursor is on its line)."""

    BINDINGS = [
        Binding("right", "expand", "Open", show=False, id="alerts.expand", tooltip="Show the alerts of a folded row"),
        Binding("left", "collapse", "Close", show=False, id="alerts.collapse", tooltip="Fold the alerts back"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(columns(False, False, ALERT_WIDTH), id=id, zebra_stripes=True)
        self.colours: dict[str, str] = {}
        self.folds: list[AlertFold] = []
        #: keys of the open folds (AlertFold.key), kept across refreshes
        self.expanded: set[str] = set()
        self.lines: list[AlertLine] = []
        self._now = 0.0
        self._alert_width = ALERT_WIDTH  # the longest name's cell: the Alert column's least width
        self._cells_by_key: list[tuple[str, dict[str, Cell]]] = []  # each line's cell of each column

    @property
    def rows_shown(self) -> list[AlertRow]:
        """The alert of each line in order (a fold's lead on the line of a fold)."""
        return [line.row for line in self.lines]

    def on_resize(self) -> None:
        if not self._put():
            super().on_resize()

    def on_mount(self) -> None:
        self.on_resize()

    def _put(self, always: bool = False) -> bool:
        """Give the table the lines' cells for the columns of this width; False when neither the
        columns changed nor ``always`` asked for it (nothing done)."""
        wide = self.app.size.width >= WIDE_FROM
        wanted = columns(wide, any(f.is_group for f in self.folds), self._alert_width)
        rows = [(key, [cells[c.key] for c in wanted]) for key, cells in self._cells_by_key]
        if wanted != self._columns:
            # The rows on the table have the old columns' cells: out before the columns change.
            self.show_rows([])
            self.set_columns(wanted)
        elif not always:
            return False
        self.show_rows(rows)
        return True

    # --- rows ------------------------------------------------------------------------------------

    def show(self, folds: Sequence[AlertFold], now: float) -> None:
        self.folds = list(folds)
        self._now = now
        self._redraw()

    def _redraw(self, cursor_key: str | None = None) -> None:
        """Lay the lines out again, the cursor kept on its alert (or on its fold, if closed)."""
        before, at = self.current_line(), self.cursor_row
        self.expanded &= {f.key for f in self.folds if f.is_group}
        lines: list[AlertLine] = []
        for fold in self.folds:
            if not fold.is_group:
                lines.append(AlertLine(fold, fold.lead))
                continue
            lines.append(AlertLine(fold))
            if fold.key in self.expanded:
                lines += [AlertLine(fold, member) for member in fold.members]
        self.lines = lines
        aligned = any(f.is_group for f in self.folds)  # names start after the fold marks
        self._cells_by_key = []
        self._alert_width = ALERT_WIDTH
        for i, line in enumerate(lines):
            last = i + 1 == len(lines) or lines[i + 1].member is None or lines[i + 1].fold is not line.fold
            cells = self._cells(line, aligned, last)
            if not (line.fold.is_group and line.member is not None):  # a name, not a member's labels
                self._alert_width = max(self._alert_width, len(str(cells["alert"])))
            self._cells_by_key.append((line.key, cells))
        self._put(always=True)
        self._restore_cursor(cursor_key, before, at)

    def _restore_cursor(self, cursor_key: str | None, before: AlertLine | None, at: int) -> None:
        """The cursor on ``cursor_key``, else on the line it was on; that alert gone (resolved),
        on the line that took its place in its fold (or the fold's own line, or the alert a
        fold of one became); its fold gone too, at the same height."""
        keys = [line.key for line in self.lines]
        if not keys:
            return
        found = [key for key in (cursor_key, before.key if before is not None else None) if key in keys]
        if found:
            row = keys.index(found[0])
        else:
            same = [i for i, line in enumerate(self.lines) if before is not None and line.fold.key == before.fold.key]
            row = min(max(at, same[0]), same[-1]) if same else min(at, len(keys) - 1)
        if row != self.cursor_row:
            self.move_cursor(row=row)

    def _cells(self, line: AlertLine, aligned: bool, last: bool) -> dict[str, Cell]:
        fold, row = line.fold, line.row
        colour = self.colours.get(SEVERITY_VARIABLE.get(row.severity, ""), "")
        severity = Text(row.severity.upper() or "—", style=f"bold {colour}".strip())
        muted = row.state in ("silenced", "inhibited", "muted")
        word = STATE_WORD.get(row.state, row.state)
        if line.is_fold and fold.mixed:
            word = f"{dict(fold.states)[row.state]} {word}"  # how many of the fold are in its lead's state
        state = Text(word, style="dim" if muted or row.state == "pending" else "bold")
        detected = row.detection_seconds
        since = fold.first_since if line.is_fold else row.since
        summary = row.summary
        if line.is_fold:
            shared = fold.shared.summary
            summary = fold.describe_states() + (f" · {shared}" if shared else "")
        return {
            "severity": severity,
            "state": state,
            "alert": _alert_cell(line, self.expanded, aligned, last),
            "service": fold.service or "—",
            "by": ", ".join(fold.distinguishing) if line.is_fold else "",
            "for": format_age(self._now - since) if since else "?",
            "detected": format_age(detected) if detected is not None else "—",
            "receiver": ", ".join(fold.receivers if line.is_fold else row.receivers) or "—",
            # One line: a multi-line description would be drawn over the next row's.
            "summary": Text(" ".join(summary.split()), no_wrap=True, overflow="ellipsis"),
        }

    # --- the cursor ------------------------------------------------------------------------------

    def current_line(self) -> AlertLine | None:
        if not self.row_count or not self.lines:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((line for line in self.lines if line.key == key), None)

    def current(self) -> AlertRow | None:
        """The alert under the cursor (a fold's lead on the line of a fold)."""
        line = self.current_line()
        return line.row if line is not None else None

    def toggle(self) -> bool:
        """Open the fold under the cursor, or close it (from its line or a member's); False when
        the line is an alert alone."""
        line = self.current_line()
        if line is None or not line.fold.is_group:
            return False
        if line.fold.key in self.expanded:
            self.expanded.discard(line.fold.key)
        else:
            self.expanded.add(line.fold.key)
        self._redraw("fold:" + line.fold.key)
        self.post_message(self.Toggled())
        return True

    def action_expand(self) -> None:
        line = self.current_line()
        if line is not None and line.is_fold and line.fold.key not in self.expanded:
            self.toggle()

    def action_collapse(self) -> None:
        line = self.current_line()
        if line is not None and line.fold.key in self.expanded:
            self.toggle()


def _alert_cell(line: AlertLine, expanded: set[str], aligned: bool, last: bool) -> Text:
    fold = line.fold
    if line.is_fold:
        mark = OPEN if fold.key in expanded else FOLDED
        return Text.assemble(f"{mark} ", (fold.name, "bold"), f" ×{fold.count}")
    if not fold.is_group:
        return Text(("  " if aligned else "") + fold.name)
    # A member: the values of the labels that tell it apart; severity has its own column.
    labelled = fold.values_of(line.row)
    values = [value or "—" for name, value in labelled if name != "severity"] or [v for _, v in labelled]
    text = " · ".join(values) or line.row.fingerprint[:12] or "(the same labels)"
    return Text(f"  {'└' if last else '├'} {text}")


class AlertPreview(Static):
    """The line under the cursor in words, wrapped: what the row cannot hold at 80 columns."""

    DEFAULT_CSS = """
    AlertPreview {
        height: auto;
        max-height: 5;
        padding: 0 1;
        background: $panel;
    }
    """

    def show_line(self, line: AlertLine | None, now: float, *, is_open: bool = False) -> None:
        self.update(preview(line, now, is_open=is_open) if line is not None else "", layout=True)


def preview(line: AlertLine, now: float, *, is_open: bool = False) -> Text:
    """What a line says in full: for a fold (``is_open``: its members listed), its members'
    states and what tells them apart; for an alert, its labels (a member's distinguishing
    ones), receivers and summary."""
    fold, row = line.fold, line.row
    where = f" on {fold.service}" if fold.service else ""
    out = Text()
    if line.is_fold:
        out.append(f"{fold.name} ×{fold.count}", style="bold")
        out.append(f"{where}: {fold.describe_states()}")
        if fold.distinguishing:
            out.append(f", by {', '.join(fold.distinguishing)}")
        out.append(f" · Enter {'folds them' if is_open else 'lists them'}, s silences all {fold.count}")
        if fold.shared.summary:
            out.append("\n" + fold.shared.summary)
        return out
    out.append(fold.name, style="bold")
    out.append(where)
    labels = [f"{name}={value or '—'}" for name, value in fold.values_of(row)]
    state = STATE_NAMES.get(row.state, row.state)
    age = f" for {format_age(now - row.since)}" if row.since else ""
    out.append(" · " + " · ".join([*([" ".join(labels)] if labels else []), f"{state}{age}"]))
    if row.receivers:
        out.append(" → " + ", ".join(row.receivers))
    if row.summary:
        out.append("\n" + row.summary)
    return out
