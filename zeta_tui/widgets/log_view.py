"""LogView: log records in a bounded buffer, drawn one visible line at a time.

Only the lines on screen are rendered (Textual's Line API), so a buffer of 100,000 records
costs the same to draw as one of 40. The buffer is a ring: when full, the oldest records go.
Status and level are written out (never colour alone); PII fields are masked until revealed.

Order: records are in time order, the oldest at the top and the newest at the bottom, as in
``tail -f``, lnav and Toolong: a tail grows downwards and older pages come in above. A new set
of records puts the cursor on the newest, and the cursor's row is always scrolled into view:
after a search, after records arrive while the cursor is on the newest (following), after a
resize, and when records landed while the screen was hidden. Up/Down move one record,
PageUp/PageDown a screenful, g/G (Home/End) go to the oldest/newest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zeta_tui.models.log_fields import longest_value
from zeta_tui.models.logs import LogRecord
from zeta_tui.widgets.cursor_keys import cursor_bindings
from zeta_tui.widgets.fitted_table import elide_middle
from zeta_tui.widgets.log_columns import Column, ColumnChoice, apply_choice, column_choices, default_columns

REDRAW_SECONDS = 0.15
MIN_MESSAGE = 30  # cells the message keeps before a name column grows
MIN_PICKED_MESSAGE = 16  # ... before a column the user picked grows
GIVE_WAY = ("latency", "status")  # automatic columns that give way to a picked one, first first


def _cursor_keys() -> list[Binding]:
    """The list's cursor keys; a page is what the view shows (as in less), not a fixed twenty."""
    keys = cursor_bindings(
        "logs",
        "record",
        first="The oldest record in the buffer",
        last="The newest record",
        first_title="Oldest",
        last_title="Newest",
    )
    pages = {
        "logs.pageup": Binding(
            "pageup", "page(-1)", "Page up", show=False, id="logs.pageup", tooltip="A screenful of records back"
        ),
        "logs.pagedown": Binding(
            "pagedown", "page(1)", "Page down", show=False, id="logs.pagedown", tooltip="A screenful of records on"
        ),
    }
    return [pages.get(b.id or "", b) for b in keys]


class LogView(ScrollView, can_focus=True):
    """A scrollable table of log records with a cursor, column control and search highlight."""

    DEFAULT_CSS = """
    LogView { height: 1fr; background: $surface; overflow-x: hidden; }
    """

    BINDINGS = [
        *_cursor_keys(),
        Binding("enter", "choose", "Detail", id="logs.detail", tooltip="The whole record, long values wrapped"),
        Binding(
            "less_than_sign",
            "column(-1)",
            "Col ←",
            show=False,
            id="logs.col_prev",
            tooltip="Select the previous column",
        ),
        Binding(
            "greater_than_sign", "column(1)", "Col →", show=False, id="logs.col_next", tooltip="Select the next column"
        ),
        Binding("plus", "widen(2)", "Wider", show=False, id="logs.widen", tooltip="Widen the selected column"),
        Binding("minus", "widen(-2)", "Narrower", show=False, id="logs.narrow", tooltip="Narrow the selected column"),
        Binding(
            "x",
            "toggle_column",
            "Hide col",
            show=False,
            id="logs.hide_column",
            tooltip="Hide or show the selected column",
        ),
    ]

    cursor: reactive[int] = reactive(-1, init=False)

    class WantsOlder(Message):
        """Up at the oldest loaded record: the screen may load an older page."""

    class RecordChosen(Message):
        """Enter on a record."""

        def __init__(self, record: LogRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, capacity: int = 100_000, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.records: deque[LogRecord] = deque(maxlen=capacity)
        self.columns = default_columns()
        self.selected_column = len(self.columns) - 1
        self.hidden_fields: frozenset[str] = frozenset()
        self.highlight: str = ""
        self.follow = True  # keep the newest record in view as records arrive
        self.level_styles: dict[str, Style] = {}
        self.matcher: Callable[[LogRecord], bool] | None = None
        self._redraw_pending = False
        self._longest: dict[str, int] = {}  # field or name column -> its longest value seen
        self._given_way: set[str] = set()  # automatic columns hidden for a picked one (_fit_names)

    def _measure(self, records: Iterable[LogRecord], columns: Sequence[Column] | None = None) -> None:
        """Note each field column's longest value (0: no record has it): as far as a name column
        can grow, and for the others only whether any record has it."""
        records = records if isinstance(records, Sequence) else list(records)
        for column in self.columns if columns is None else columns:
            have = self._longest.get(column.key, 0)
            cap = column.grows_to or 1
            if have >= cap or (column.field is None and not column.grows_to):
                continue
            if column.field is None:  # the service
                seen = max((len(str(r.get(column.key) or "")) for r in records), default=0)
            else:
                seen = longest_value(column.field, records, cap)
            self._longest[column.key] = max(have, seen)

    def _present(self, column: Column) -> bool:
        return not self.records or self._longest.get(column.key, 0) > 0

    def shows(self, column: Column) -> bool:
        """Whether ``column`` is drawn now (log_columns.py says when)."""
        return column.key not in self._given_way and column.visible(self.size.width, self._present(column))

    def _fit_names(self) -> None:
        """Give name columns the cells their longest values need, as far as the message keeps
        MIN_MESSAGE: picked columns first (they may leave the message MIN_PICKED_MESSAGE: a pod
        cut in the middle loses the ordinal that tells ml-engine-0 from ml-engine-1), then the
        others in column order (the service first). Where a picked column still does not fit,
        the latency and then the status column give way (while not picked themselves)."""
        self._given_way = set()
        while not self._grow_names():
            droppable = [c for c in self.columns if c.key in GIVE_WAY and c.shown is None and self.shows(c)]
            if not droppable:
                break
            self._given_way.add(min(droppable, key=lambda c: GIVE_WAY.index(c.key)).key)

    def _grow_names(self) -> bool:
        """Grow the name columns; False when a picked one did not get all it wants."""
        width = self.size.width
        shown = [c for c in self.columns if self.shows(c)]
        spare = width - sum(c.base + 1 for c in shown if c.width) - MIN_MESSAGE
        fits = True
        for column in sorted(shown, key=lambda c: c.shown is not True):  # stable: picked first
            if column.grows_to and not column.widened:
                want = max(0, min(column.grows_to, self._longest.get(column.key, 0)) - column.base)
                allowance = spare + (MIN_MESSAGE - MIN_PICKED_MESSAGE if column.shown else 0)
                given = max(0, min(want, allowance))
                column.width = column.base + given
                spare -= given
                fits = fits and (given == want or column.shown is not True)
        return fits

    # --- the column picker -------------------------------------------------------------------

    def column_choices(self, sample: int = 2_000) -> list[ColumnChoice]:
        """What the column picker offers, from the newest ``sample`` records."""
        records = list(self.records)[-sample:]
        present = {c.key for c in self.columns if self._longest.get(c.key, 0) > 0}
        return column_choices(self.columns, records, self.size.width, present)

    def show_columns(self, chosen: Iterable[str]) -> None:
        """Show the columns whose keys are ``chosen`` and hide the others (the message stays)."""
        present = {c.key for c in self.columns if self._longest.get(c.key, 0) > 0}
        before = {c.key for c in self.columns}
        self.columns = apply_choice(self.columns, chosen, self.size.width, present, bool(self.records))
        self._measure(self.records, [c for c in self.columns if c.key not in before])
        self.selected_column = min(self.selected_column, len(self.columns) - 1)
        self._resize()

    # --- data ------------------------------------------------------------------------------

    def replace(self, records: Iterable[LogRecord]) -> None:
        self.records.clear()
        self.records.extend(records)
        self._longest.clear()
        self._measure(self.records)
        self.cursor = len(self.records) - 1
        self._resize()

    def extend(self, records: Sequence[LogRecord]) -> None:
        """Append newer records; the oldest leave when the buffer is full."""
        if not records:
            return
        at_end = self.cursor >= len(self.records) - 1
        self._measure(records)
        overflow = max(0, len(self.records) + len(records) - (self.records.maxlen or 0))
        self.records.extend(records)
        # Move the cursor without its watcher (which redraws): a burst of pages is drawn once.
        if self.follow and at_end:
            self.set_reactive(LogView.cursor, len(self.records) - 1)
        else:
            self.set_reactive(LogView.cursor, max(0, self.cursor - overflow))
        if not self._redraw_pending:
            # At most ~7 frames a second while records stream in: every frame of a scrolling
            # view rewrites the whole view, which over SSH is what costs, not the records.
            self._redraw_pending = True
            self.set_timer(REDRAW_SECONDS, self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        self._resize()

    def current(self) -> LogRecord | None:
        if 0 <= self.cursor < len(self.records):
            return self.records[self.cursor]
        return None

    def _resize(self) -> None:
        # No sideways scrolling: the message column is clipped at the edge; Enter shows it all.
        self._fit_names()
        self.virtual_size = Size(self.size.width, len(self.records) + 1)  # +1: the header line
        self._scroll_cursor_into_view()
        self.call_after_refresh(self._scroll_cursor_into_view)  # again once laid out
        self.refresh()

    def on_resize(self) -> None:
        self._resize()

    # --- search ----------------------------------------------------------------------------

    def matches(self) -> list[int]:
        if self.matcher is None:
            return []
        return [i for i, r in enumerate(self.records) if self.matcher(r)]

    def jump(self, direction: int) -> bool:
        """Move the cursor to the next (1) or previous (-1) match; False if there is none."""
        if self.matcher is None or not self.records:
            return False
        n = len(self.records)
        for step in range(1, n + 1):
            i = (self.cursor + direction * step) % n
            if self.matcher(self.records[i]):
                self.cursor = i
                return True
        return False

    # --- actions ---------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        if self.records:
            if delta < 0 and self.cursor == 0:
                self.post_message(self.WantsOlder())
            self.cursor = max(0, min(len(self.records) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        """The cursor a screenful on (1) or back (-1)."""
        self.action_cursor(direction * self.page_height)

    def prepend(self, records: Sequence[LogRecord]) -> None:
        """Older records before the loaded ones (a full buffer then lets go of the newest)."""
        if not records:
            return
        self.records.extendleft(reversed(records))
        self._measure(records)
        self.cursor = min(len(self.records) - 1, self.cursor + len(records))
        self._resize()

    def action_cursor_to(self, index: int) -> None:
        if self.records:
            self.cursor = index % len(self.records)

    def action_choose(self) -> None:
        record = self.current()
        if record is not None:
            self.post_message(self.RecordChosen(record))

    def action_column(self, delta: int) -> None:
        """Select the next shown column (hidden ones come back through the column picker)."""
        n = len(self.columns)
        for step in range(1, n + 1):
            i = (self.selected_column + delta * step) % n
            if self.shows(self.columns[i]):
                self.selected_column = i
                break
        self.refresh()

    def action_widen(self, delta: int) -> None:
        column = self.columns[self.selected_column]
        if column.width:  # the message column takes the rest of the line
            column.width = column.base = max(2, min(80, column.width + delta))
            column.widened = True
            self._resize()

    def action_toggle_column(self) -> None:
        column = self.columns[self.selected_column]
        if column.key != "message":
            column.shown = not self.shows(column)
            self._resize()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # A scroll made before the scrollbar existed (see _scroll_cursor_into_view) left its thumb
        # at the top; put it where the view is.
        if shown:
            self.vertical_scrollbar.position = self.scroll_y

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()

    @property
    def page_height(self) -> int:
        """Records on screen at once (the view's height less the header line)."""
        return max(1, self.size.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        if self.cursor < 0 or not self.size.height:
            return
        body = self.page_height
        top = int(self.scroll_y)
        # force: Textual refuses to scroll a view whose scrollbar is not shown yet, which is the
        # case when records land before the next layout (the first search, or one that lands
        # while the screen is hidden); the view then stayed on the oldest records.
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, force=True)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False, force=True)

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.records):
            return Strip.blank(width, self.rich_style)
        record = self.records[index]
        base = self.rich_style
        if index == self.cursor:
            base = base + Style(reverse=True)
        segments = []
        for column in self.columns:
            if not self.shows(column):
                continue
            text = column.text(record, self.hidden_fields)
            style = base
            if column.key == "level":
                style = base + self.level_styles.get(record.level, Style())
            if column.width:
                shown = elide_middle(text, column.width) if column.grows_to else text[: column.width]
                segments.append(Segment(shown.ljust(column.width) + " ", style))
            else:
                segments.extend(self._highlighted(text, style))
        # One segment per run of equal style: the terminal then gets one colour code, not one a column.
        strip = Strip(list(Segment.simplify(segments))).crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.extend_cell_length(width, base)

    def _highlighted(self, text: str, style: Style) -> list[Segment]:
        needle = self.highlight.lower()
        if not needle:
            return [Segment(text, style)]
        out, start, lower = [], 0, text.lower()
        mark = style + Style(bold=True, underline=True, reverse=not style.reverse)
        while (found := lower.find(needle, start)) >= 0:
            out.append(Segment(text[start:found], style))
            out.append(Segment(text[found : found + len(needle)], mark))
            start = found + len(needle)
        out.append(Segment(text[start:], style))
        return out

    def _header(self, width: int) -> Strip:
        style = self.rich_style + Style(bold=True)
        segments = []
        for i, column in enumerate(self.columns):
            if not self.shows(column):
                continue
            title = column.title if not column.width else column.title[: column.width].ljust(column.width) + " "
            segments.append(Segment(title, style + Style(underline=i == self.selected_column)))
        return Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width).extend_cell_length(width, style)
