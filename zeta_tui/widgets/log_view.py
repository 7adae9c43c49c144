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
from dataclasses import dataclass
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zeta_tui.models.logs import LogRecord
from zeta_tui.models.pii import mask_value
from zeta_tui.widgets.cursor_keys import cursor_bindings
from zeta_tui.widgets.fitted_table import elide_middle


@dataclass
class Column:
    """One column: the record field it shows, its width, and whether it is shown."""

    name: str
    title: str
    width: int
    shown: bool | None = None  # None: automatic (hidden on narrow terminals when ``narrow_hide``)
    narrow_hide: bool = False
    #: a name (service, tenant, endpoint): grows up to this many cells to its longest value while
    #: the message keeps MIN_MESSAGE cells, and is cut in the middle beyond; 0 for other columns
    grows_to: int = 0
    base: int = 0  # the width before growing (set from width)
    widened: bool = False  # set with + / -: no longer grows by itself

    def __post_init__(self) -> None:
        self.base = self.base or self.width

    def visible(self, width: int) -> bool:
        if self.shown is not None:
            return self.shown
        return not (self.narrow_hide and width < WIDE)


REDRAW_SECONDS = 0.15
MIN_MESSAGE = 30  # cells the message keeps before a name column grows
WIDE = 120  # columns; narrower terminals hide tenant and endpoint (the message repeats the endpoint)


def default_columns() -> list[Column]:
    return [
        Column("timestamp", "Time", 12),
        Column("level", "Level", 5),
        Column("service", "Service", 11, grows_to=40),
        Column("tenant_id", "Tenant", 10, narrow_hide=True, grows_to=24),
        Column("endpoint", "Endpoint", 24, narrow_hide=True, grows_to=48),
        Column("status_code", "St", 3),
        Column("latency_ms", "ms", 6),
        Column("message", "Message", 0),  # 0: the rest of the line
    ]


def cell_text(record: LogRecord, name: str, hidden: frozenset[str]) -> str:
    if name == "timestamp":
        moment = datetime.fromtimestamp(record.timestamp_ns / 1e9)
        return moment.strftime("%H:%M:%S.") + f"{(record.timestamp_ns // 1_000_000) % 1000:03d}"
    value = record.get(name)
    if value is None or value == "":
        return ""
    if name in hidden:
        return mask_value(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


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
        Binding("enter", "choose", "Detail", id="logs.detail", tooltip="The record as pretty-printed JSON"),
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
        self._longest: dict[str, int] = {}  # name column -> its longest value seen

    def _measure(self, records: Iterable[LogRecord]) -> None:
        for column in self.columns:
            if column.grows_to:
                seen = max((len(str(r.get(column.name) or "")) for r in records), default=0)
                self._longest[column.name] = max(self._longest.get(column.name, 0), seen)

    def _fit_names(self) -> None:
        """Give name columns the cells their longest values need, as far as the message keeps
        MIN_MESSAGE (in column order: the service first)."""
        width = self.size.width
        shown = [c for c in self.columns if c.visible(width)]
        spare = width - sum(c.base + 1 for c in shown if c.width) - MIN_MESSAGE
        for column in shown:
            if column.grows_to and not column.widened:
                want = max(0, min(column.grows_to, self._longest.get(column.name, 0)) - column.base)
                given = max(0, min(want, spare))
                column.width = column.base + given
                spare -= given

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
        self.selected_column = (self.selected_column + delta) % len(self.columns)
        self.refresh()

    def action_widen(self, delta: int) -> None:
        column = self.columns[self.selected_column]
        if column.width:  # the message column takes the rest of the line
            column.width = column.base = max(2, min(80, column.width + delta))
            column.widened = True
            self._resize()

    def action_toggle_column(self) -> None:
        column = self.columns[self.selected_column]
        if column.name != "message":
            column.shown = not column.visible(self.size.width)
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
            if not column.visible(width):
                continue
            text = cell_text(record, column.name, self.hidden_fields)
            style = base
            if column.name == "level":
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
            if not column.visible(width):
                continue
            title = column.title if not column.width else column.title[: column.width].ljust(column.width) + " "
            segments.append(Segment(title, style + Style(underline=i == self.selected_column)))
        return Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width).extend_cell_length(width, style)
