"""Waterfall: a trace as a collapsible tree with a time axis, drawn one visible row at a time.

Only the rows on screen are rendered (Textual's Line API), and the visible-row list is rebuilt
only when something collapses or expands, so a 50,000-span trace scrolls like a 50-span one.

Each row: two marker columns, the tree (indent, ▾/▸, service, operation), the duration, and
the span's bar on the time axis. Nothing is told by colour alone: errors are ``✖`` and the word
ERR, spans on the critical path are ``◆`` with a solid bar (``█``, others ``━``), odd spans
(clock skew, duplicate id, missing parent) are ``⚠``; the service name is written on every row.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zeta_tui.models.critical_path import Segment as PathSegment
from zeta_tui.models.trace_tree import TraceTree
from zeta_tui.models.traces import format_duration_ns
from zeta_tui.models.waterfall import (
    axis_ticks,
    bar_columns,
    collapse_all,
    expand_to_depth,
    matches,
    reveal,
    visible_rows,
)
from zeta_tui.widgets.cursor_keys import cursor_bindings

DURATION_WIDTH = 9
MAX_INDENT_LEVELS = 12  # deeper rows show their depth as a number instead of more indent


class WaterfallView(ScrollView, can_focus=True):
    """The rows of one trace. The screen sets ``service_styles`` and the theme styles."""

    DEFAULT_CSS = """
    WaterfallView { height: 1fr; background: $surface; overflow-x: hidden; scrollbar-gutter: stable; }
    """

    BINDINGS = [
        *cursor_bindings("trace", "span", first="The first span", last="The last visible span"),
        Binding("space", "toggle", "Fold", id="trace.toggle", tooltip="Collapse or expand the selected span"),
        Binding(
            "left",
            "collapse_or_parent",
            "Collapse",
            show=False,
            id="trace.collapse",
            tooltip="Collapse the span, or go to its parent",
        ),
        Binding("right", "expand", "Expand", show=False, id="trace.expand", tooltip="Expand the selected span"),
        Binding(
            "C",
            "collapse_all",
            "Collapse all",
            show=False,
            id="trace.collapse_all",
            tooltip="Collapse every span: only roots show",
        ),
        Binding("E", "expand_all", "Expand all", show=False, id="trace.expand_all", tooltip="Expand every span"),
        Binding(
            "plus", "depth(1)", "Deeper", show=False, id="trace.deeper", tooltip="Expand one more level everywhere"
        ),
        Binding(
            "minus",
            "depth(-1)",
            "Shallower",
            show=False,
            id="trace.shallower",
            tooltip="Show one level less everywhere",
        ),
        Binding(
            "right_square_bracket",
            "path(1)",
            "Path →",
            id="trace.path_next",
            tooltip="Step forward along the critical path",
        ),
        Binding(
            "left_square_bracket",
            "path(-1)",
            "Path ←",
            show=False,
            id="trace.path_prev",
            tooltip="Step back along the critical path",
        ),
        Binding(
            "enter", "choose", "Detail", id="trace.detail", tooltip="Attributes, events, resource and links of the span"
        ),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    class SpanChosen(Message):
        """Enter on a span."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class SpanHighlighted(Message):
        """The cursor moved to another span."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trace_tree: TraceTree | None = None
        self.collapsed: set[int] = set()
        self.rows: list[int] = []
        self.path: list[PathSegment] = []
        self.on_path: set[int] = set()
        self.path_step = -1
        self.found: list[int] = []
        self._found_set: set[int] = set()
        self.needle = ""
        self.depth_shown = 0
        self.service_styles: dict[str, Style] = {}
        self.error_style = Style(color="red", bold=True)
        self.flag_style = Style(color="yellow", bold=True)
        self.path_style = Style(bold=True)
        self.axis_style = Style(dim=True)
        #: the selected row's bar area (its text is reversed, which needs no colour)
        self.selected_bar_style = Style(bgcolor="grey23")

    # --- data ------------------------------------------------------------------------------

    def show(self, tree: TraceTree, collapsed: set[int] | None = None, path: list[PathSegment] | None = None) -> None:
        """Draw ``tree`` (everything expanded unless ``collapsed`` says otherwise). ``path``: its
        critical path (see set_path; a screen computes a big trace's off the event loop and
        hands it over after the first frame)."""
        self.trace_tree = tree
        self.collapsed = set(collapsed or ())
        self.set_path(path or [])
        self.depth_shown = max(tree.depth, default=0) + 1
        self.found = matches(tree, self.needle) if self.needle else []
        self._found_set = set(self.found)
        self._relayout(keep=None)
        self.set_reactive(WaterfallView.cursor, 0)
        self.scroll_to(y=0, animate=False)

    def set_path(self, path: list[PathSegment]) -> None:
        """Mark ``path`` (critical_path of the tree shown) with ◆ and solid bars."""
        self.path = path
        self.on_path = {seg.index for seg in path}
        self.path_step = -1
        self.refresh()

    @property
    def current(self) -> int | None:
        """Span index under the cursor."""
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def search(self, text: str) -> int:
        """Mark spans matching ``text``; returns how many."""
        self.needle = text.strip()
        self.found = matches(self.trace_tree, self.needle) if self.trace_tree and self.needle else []
        self._found_set = set(self.found)
        self.refresh()
        return len(self.found)

    def jump(self, direction: int) -> bool:
        """Select the next (1) or previous (-1) search match, expanding what hides it."""
        if not self.found or self.trace_tree is None:
            return False
        here = self.current
        order = self.trace_tree.position
        at = order[here] if here is not None else -1
        if direction > 0:
            target = next((i for i in self.found if order[i] > at), self.found[0])
        else:
            target = next((i for i in reversed(self.found) if order[i] < at), self.found[-1])
        self.select_span(target)
        return True

    def select_span(self, index: int) -> None:
        """Put the cursor on span ``index``, expanding its ancestors."""
        if self.trace_tree is None:
            return
        if any(a in self.collapsed for a in self.trace_tree.ancestors(index)):
            self.collapsed = reveal(self.trace_tree, self.collapsed, index)
            self._relayout(keep=None)
        try:
            self.cursor = self.rows.index(index)
        except ValueError:
            return

    def _relayout(self, keep: int | None) -> None:
        """Rebuild the visible rows (after a fold), keeping span ``keep`` under the cursor."""
        if self.trace_tree is None:
            self.rows = []
        else:
            self.rows = visible_rows(self.trace_tree, self.collapsed)
        self._set_height(len(self.rows) + 1)
        if keep is not None:
            try:
                self.set_reactive(WaterfallView.cursor, self.rows.index(keep))
            except ValueError:
                pass
        self.set_reactive(WaterfallView.cursor, max(0, min(self.cursor, len(self.rows) - 1)))
        self._scroll_cursor_into_view()
        self.refresh()

    def _set_height(self, lines: int) -> None:
        """The scrollable height. Assigning virtual_size re-lays out the whole screen (Footer and
        all: half of a fold's time at 50,000 spans); with a stable scrollbar gutter nothing moves,
        so only the scrollbars are updated (Textual's own _scroll_update), when that exists."""
        size = Size(self.size.width, lines)
        if size == self.virtual_size:
            return
        update = getattr(self, "_scroll_update", None)
        if update is None or not self.is_mounted:
            self.virtual_size = size
            return
        self.set_reactive(WaterfallView.virtual_size, size)
        update(size)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self._scroll_cursor_into_view()

    # --- actions ---------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_cursor_to(self, row: int) -> None:
        if self.rows:
            self.cursor = row % len(self.rows)

    # The waterfall's own "toggle" (fold a span), bound to a key; DOMNode.action_toggle(attribute)
    # is never asked of this widget.
    def action_toggle(self) -> None:  # type: ignore[override]
        i = self.current
        if i is None or self.trace_tree is None or not self.trace_tree.children[i]:
            return
        self.collapsed ^= {i}
        self._relayout(keep=i)

    def action_collapse_or_parent(self) -> None:
        i = self.current
        if i is None or self.trace_tree is None:
            return
        if self.trace_tree.children[i] and i not in self.collapsed:
            self.collapsed.add(i)
            self._relayout(keep=i)
        elif self.trace_tree.parent[i] >= 0:
            self.select_span(self.trace_tree.parent[i])

    def action_expand(self) -> None:
        i = self.current
        if i is not None and i in self.collapsed:
            self.collapsed.discard(i)
            self._relayout(keep=i)

    def action_collapse_all(self) -> None:
        if self.trace_tree is not None:
            keep = self.current
            self.collapsed = collapse_all(self.trace_tree)
            self.depth_shown = 1
            root = self.trace_tree.ancestors(keep)[-1] if keep is not None and self.trace_tree.ancestors(keep) else keep
            self._relayout(keep=root)

    def action_expand_all(self) -> None:
        if self.trace_tree is not None:
            keep = self.current
            self.collapsed = set()
            self.depth_shown = max(self.trace_tree.depth, default=0) + 1
            self._relayout(keep=keep)

    def action_depth(self, delta: int) -> None:
        if self.trace_tree is None:
            return
        deepest = max(self.trace_tree.depth, default=0) + 1
        self.depth_shown = max(1, min(deepest, self.depth_shown + delta))
        keep = self.current
        # depth_shown levels: spans of depth depth_shown - 1 show, folded if they have children.
        self.collapsed = expand_to_depth(self.trace_tree, self.depth_shown - 1)
        if keep is not None:
            while keep >= 0 and self.trace_tree.depth[keep] >= self.depth_shown:
                keep = self.trace_tree.parent[keep]
        self._relayout(keep=keep)

    def action_path(self, direction: int) -> None:
        """Select the span of the next (previous) critical-path segment."""
        if not self.path:
            return
        self.path_step = (self.path_step + direction) % len(self.path)
        self.select_span(self.path[self.path_step].index)

    def action_choose(self) -> None:
        if (i := self.current) is not None:
            self.post_message(self.SpanChosen(i))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if (i := self.current) is not None:
            self.post_message(self.SpanHighlighted(i))

    def _scroll_cursor_into_view(self) -> None:
        if not self.size.height:
            return
        body = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False)

    # --- drawing ---------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int]:
        """Widths of the tree part and of the bar part."""
        tree_width = max(20, min(64, width * 2 // 5))
        return tree_width, max(0, width - tree_width - DURATION_WIDTH - 1)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        tree = self.trace_tree
        if tree is None:
            return Strip.blank(width, self.rich_style)
        tree_width, bar_width = self._columns(width)
        t0, t1 = tree.start_ns, tree.end_ns
        if y == 0:
            return self._axis(width, tree_width, bar_width, t0, t1)
        return self.render_row(int(self.scroll_y) + y - 1)

    def render_row(self, row: int) -> Strip:
        """Visible row ``row`` (0 is the first span) as drawn, whether on screen or not."""
        width = self.size.width
        if self.trace_tree is None or not 0 <= row < len(self.rows):
            return Strip.blank(width, self.rich_style)
        tree_width, bar_width = self._columns(width)
        return self._row(row, width, tree_width, bar_width, self.trace_tree.start_ns, self.trace_tree.end_ns)

    def _axis(self, width: int, tree_width: int, bar_width: int, t0: int, t1: int) -> Strip:
        style = self.rich_style + self.axis_style
        cells = [" "] * bar_width
        for col, label in axis_ticks(t0, t1, bar_width):
            text = "│" + label if col + len(label) < bar_width else label + "│"
            begin = col if col + len(label) < bar_width else max(0, col - len(label))
            for n, ch in enumerate(text):
                if begin + n < bar_width:
                    cells[begin + n] = ch
        head = "Service · operation".ljust(tree_width)[:tree_width] + "Duration".rjust(DURATION_WIDTH) + " "
        return Strip([Segment(head, style + Style(bold=True)), Segment("".join(cells), style)]).extend_cell_length(
            width, style
        )

    def _row(self, row: int, width: int, tree_width: int, bar_width: int, t0: int, t1: int) -> Strip:
        tree = self.trace_tree
        assert tree is not None
        i = self.rows[row]
        span = tree.spans[i]
        plain = self.rich_style
        selected = row == self.cursor
        base = plain + Style(reverse=True) if selected else plain
        bar_base = plain + self.selected_bar_style if selected else plain
        error = span.is_error
        flagged = i in tree.flags
        critical = i in self.on_path
        service_style = self.service_styles.get(span.service, Style(bold=True))
        segments: list[Segment] = [
            Segment("✖" if error else " ", base + self.error_style if error else base),
            Segment(
                "⚠" if flagged else ("◆" if critical else " "), base + (self.flag_style if flagged else self.path_style)
            ),
        ]
        depth = tree.depth[i]
        if depth > MAX_INDENT_LEVELS:
            indent = f"{'  ' * (MAX_INDENT_LEVELS - 2)}·{depth:>3} "
        else:
            indent = "  " * depth
        toggle = ("▸ " if i in self.collapsed else "▾ ") if tree.children[i] else "  "
        hidden = f" (+{tree.size[i] - 1})" if i in self.collapsed else ""
        service = span.service or "?"
        name = span.name + (" ERR" if error else "") + hidden
        used = 2
        for text, style in ((indent + toggle, base), (service + " ", base + service_style), (name, base)):
            room = tree_width - used
            if room <= 0:
                break
            piece = text[:room]
            if style is base and self.needle and i in self._found_set and text is name:
                segments.extend(_marked(piece, self.needle, base))
            else:
                segments.append(Segment(piece, style))
            used += len(piece)
        if used < tree_width:
            segments.append(Segment(" " * (tree_width - used), base))
        segments.append(Segment(format_duration_ns(span.duration_ns).rjust(DURATION_WIDTH) + " ", base))
        if bar_width:
            first, last = bar_columns(span.start_ns, span.end_ns, t0, t1, bar_width)
            bar_style = bar_base + service_style + (self.error_style if error else Style())
            segments += [
                Segment(" " * first, bar_base),
                Segment(("█" if critical else "━") * (last - first), bar_style),
                Segment(" " * (bar_width - last), bar_base),
            ]
        return Strip(list(Segment.simplify(segments))).crop(0, width).extend_cell_length(width, bar_base)


def _marked(text: str, needle: str, style: Style) -> Sequence[Segment]:
    """``text`` with each occurrence of ``needle`` (case-blind) underlined."""
    lower, key = text.lower(), needle.lower()
    out, start = [], 0
    mark = style + Style(bold=True, underline=True)
    while key and (found := lower.find(key, start)) >= 0:
        out.append(Segment(text[start:found], style))
        out.append(Segment(text[found : found + len(key)], mark))
        start = found + len(key)
    out.append(Segment(text[start:], style))
    return out
