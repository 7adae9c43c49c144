"""Tables whose name columns take the room their rows have.

A figure (a rate, a percentage) has a width known in advance; a name (a service, an endpoint,
an alert, a tenant) does not: users' names run past 30 characters. So a name column is as wide
as its longest value while the table has room, and only when the table is narrower than that
are names cut, in the middle, so that both ends stay readable (``checkout-pa…way-service``).
Where even the names' least widths do not fit, the columns marked to drop go first, so an
80-column terminal keeps the figures that matter.

``fit_widths`` is the pure layout; ``FittedTable`` applies it on every resize and whenever a
longer name arrives, and rebuilds its columns only when a width changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from zeta_tui.widgets.table_rows import Cell, replace_rows

ELLIPSIS = "…"
#: the least a growing column takes (a sparkline narrower than this says nothing)
MIN_GROW = 5


@dataclass(frozen=True, slots=True)
class Column:
    """One column: a figure of fixed ``width``, or a name (``name=True``) as wide as its longest
    value (and its label) where the table has room, and never cut below ``width``. Columns with
    ``drop`` > 0 are left out, the highest first, when the table cannot hold every column at its
    least width. A figure with ``grow`` takes up to that many cells more (for a sparkline) from
    what the names leave."""

    label: str
    key: str
    width: int
    name: bool = False
    drop: int = 0
    grow: int = 0


def elide_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by an ellipsis when too long."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    keep = width - 1
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def fit_widths(
    columns: Sequence[Column], available: int, longest: Mapping[str, int], padding: int = 2
) -> dict[str, int]:
    """Width of each column that is shown, by key (dropped columns are absent).

    ``longest`` is the longest value of each column (a label counts too); ``padding`` is what a
    column costs besides its width (DataTable's cell padding on both sides). A figure column
    keeps its width, so the table does not move as figures change, unless a name would be cut:
    then figures give up what their values do not use, and after that the columns with a drop
    rank go, the highest first, before any name is cut.
    """
    shown = list(columns)
    droppable = sorted((c for c in columns if c.drop), key=lambda c: -c.drop)
    while True:
        widths, short = _fit(shown, available, longest, padding)
        if not short or not droppable:
            return widths
        shown.remove(droppable.pop(0))


def _fit(shown: list[Column], available: int, longest: Mapping[str, int], padding: int) -> tuple[dict[str, int], int]:
    """The widths of ``shown`` in ``available`` cells, and how many cells the names still lack."""
    # A name column starts at what its values need, up to its least width, and wants its longest.
    need = {c.key: max(longest.get(c.key, 0), len(c.label)) for c in shown}
    widths = {c.key: min(c.width, need[c.key]) if c.name else c.width for c in shown}
    names = [c for c in shown if c.name]
    want = {c.key: max(0, need[c.key] - widths[c.key]) for c in names}
    room = available - sum(w + padding for w in widths.values())
    if room < sum(want.values()):
        # Figures give up the cells their values and labels leave empty, as much as the names lack.
        for c in shown:
            if not c.name:
                slack = max(0, c.width - need[c.key])
                take = min(slack, sum(want.values()) - room)
                widths[c.key] -= take
                room += take
    # Give the room out to the names still short of their longest value, the shortest-served
    # first: a long endpoint cannot starve the service column beside it.
    while room > 0:
        short = [c for c in names if want[c.key] > 0]
        if not short:
            break
        share = max(1, room // len(short))
        for c in sorted(short, key=lambda c: widths[c.key]):
            step = min(share, want[c.key], room)
            widths[c.key] += step
            want[c.key] -= step
            room -= step
            if room <= 0:
                break
    growing = [c for c in shown if c.grow]
    if growing and room > 0:
        each = min(room // len(growing), max(c.grow for c in growing))
        if each >= MIN_GROW:
            for c in growing:
                widths[c.key] += min(each, c.grow)
    # Figures that cannot fit even at their width count as lacking too (the table overflows).
    return widths, sum(want.values()) + max(0, -room)


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


class CutAtEnd(str):
    """A name cell whose start says the most (a log message): cut at its end, not in its middle."""


def _elided(cell: Cell, width: int) -> Cell:
    if isinstance(cell, CutAtEnd):
        return cell if len(cell) <= width else cell[: max(0, width - 1)] + ELLIPSIS
    if isinstance(cell, Text):
        if cell.cell_len <= width:
            return cell
        return Text(elide_middle(cell.plain, width), style=cell.style)
    return elide_middle(str(cell), width)


class FittedTable(DataTable):
    """A DataTable laid out by ``fit_widths``; show rows with ``show_rows``, cells given for
    every column in ``columns`` order (the table leaves out the cells of dropped columns)."""

    def __init__(self, columns: Sequence[Column] = (), **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self._columns: tuple[Column, ...] = tuple(columns)
        self._rows: list[tuple[str, Sequence[Cell]]] = []
        self._widths: dict[str, int] = {}

    # --- columns -------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns (a screen whose columns depend on its width or its data)."""
        self._columns = tuple(columns)
        self._widths = {}
        self._layout()

    @property
    def fitted_widths(self) -> dict[str, int]:
        return dict(self._widths)

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self) -> None:
        self._layout()

    def _available(self) -> int:
        width = self.size.width or self.app.size.width
        # The vertical scrollbar's two cells are kept free, so rows that come to overflow the
        # height do not push the last column under it.
        return max(1, width - 2)

    def _layout(self) -> bool:
        """Lay the columns out for the current size and rows; True when they were rebuilt."""
        if not self.is_mounted or not self._columns:
            return False
        longest = {
            column.key: max((len(_plain(cells[i])) for _, cells in self._rows if i < len(cells)), default=0)
            for i, column in enumerate(self._columns)
        }
        widths = fit_widths(self._columns, self._available(), longest)
        if widths == self._widths and list(self.columns) == list(widths):
            return False
        self._widths = widths
        self.clear(columns=True)
        for column in self._columns:
            if column.key in widths:
                self.add_column(column.label, key=column.key, width=widths[column.key])
        self._put_rows()
        return True

    # --- rows ----------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show ``rows`` (key, a cell per column), touching only the cells that changed."""
        self._rows = list(rows)
        if not self._layout():
            self._put_rows()

    def _put_rows(self) -> None:
        shown = [(i, c) for i, c in enumerate(self._columns) if c.key in self._widths]
        replace_rows(
            self,
            [
                (key, [(_elided(cells[i], self._widths[c.key]) if c.name else cells[i]) for i, c in shown])
                for key, cells in self._rows
            ],
        )
