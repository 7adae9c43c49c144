"""Update a DataTable in place: only cells whose content changed are redrawn.

Clearing and re-adding rows repaints the whole table on every refresh; over SSH that is
kilobytes a second for nothing when most figures did not move.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = Text | str


def _signature(cell: Cell) -> tuple:
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), tuple((s.start, s.end, str(s.style)) for s in cell.spans))
    return (cell,)


def replace_rows(table: DataTable, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
    """Make ``table`` show ``rows`` (key, cells), touching only what differs."""
    keys = [key for key, _ in rows]
    current = [str(k.value) for k in table.rows]
    columns = list(table.columns)
    if keys != current:
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        return
    for key, cells in rows:
        old = table.get_row(key)
        for column, new, was in zip(columns, cells, old):
            if _signature(new) != _signature(was):
                table.update_cell(key, column, new)
