"""A stacked column chart of a value per day and part (cost per service), in text cells.

Each part has its own fill (█ ▓ ▒ ░) as well as its colour, so the stack reads without colour
(NO_COLOR, a monochrome terminal). Heights are whole cells: a part's cells are the rounded top
of its cumulative sum minus the rounded top of the one below, so the parts of a column always
add up to the column's rounded total.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

FILLS = "█▓▒░"


@dataclass(frozen=True)
class Stack:
    """Values per day (``days`` oldest first) for each part, in stacking order (bottom first)."""

    days: tuple[date, ...]
    parts: tuple[tuple[str, tuple[float, ...]], ...]

    def totals(self) -> list[float]:
        return [sum(values[i] for _, values in self.parts) for i in range(len(self.days))]


def render_stack(
    stack: Stack, width: int, height: int, colours: Sequence[str], y_format: Callable[[float], str]
) -> Text:
    """The chart in ``width`` x ``height`` cells: y labels, columns, first/last date, legend."""
    out = Text()
    if not stack.days or height < 4 or width < 20:
        return Text("no data in this window" if not stack.days else "too small", style="dim")
    totals = stack.totals()
    top = max(totals) or 1.0
    label_w = max(len(y_format(top)), len(y_format(0))) + 1
    plot_h = height - 3  # a blank row on top, a row for the dates, a row for the legend
    out.append("\n")
    area = width - label_w - 1
    column_w = max(1, min(4, area // len(stack.days) - 1))
    keep = max(1, area // (column_w + 1))
    days = stack.days[-keep:]
    offset = len(stack.days) - len(days)
    scale = plot_h / top
    cells = []  # per column: the part index of each cell, bottom up
    for i in range(len(days)):
        col, below = [], 0
        acc = 0.0
        for p, (_, values) in enumerate(stack.parts):
            acc += values[offset + i]
            upto = round(acc * scale)
            col += [p] * max(0, upto - below)
            below = max(below, upto)
        cells.append(col)
    for row in range(plot_h - 1, -1, -1):
        value = top * (row + 1) / plot_h
        label = y_format(value) if row in (plot_h - 1, (plot_h - 1) // 2) else ""
        out.append(label.rjust(label_w - 1) + " ┤" if label else " " * (label_w) + "│", style="dim")
        for col in cells:
            if row < len(col):
                p = col[row]
                out.append(FILLS[p % len(FILLS)] * column_w, style=colours[p % len(colours)])
            else:
                out.append(" " * column_w)
            out.append(" ")
        out.append("\n")
    first, last = f"{days[0]:%b %d}", f"{days[-1]:%b %d}"
    span = len(days) * (column_w + 1)
    out.append(" " * (label_w + 1) + first + last.rjust(max(0, span - len(first))) + "\n", style="dim")
    for p, (name, _) in enumerate(stack.parts):
        out.append(FILLS[p % len(FILLS)] * 2 + " ", style=colours[p % len(colours)])
        out.append(name + "  ")
    return out


class StackedBars(Widget):
    """Reactive stack in, text columns out (redrawn only when the data or the size change)."""

    DEFAULT_CSS = """
    StackedBars { height: 1fr; min-height: 6; }
    """

    stack: reactive[Stack | None] = reactive(None, layout=False)

    def __init__(self, title: str, y_format: Callable[[float], str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._y_format = y_format

    def render(self) -> Text:
        if self.stack is None:
            return Text("waiting for data…", style="dim")
        variables = self.app.theme_variables
        colours = [variables.get(f"chart-{i}", variables.get("primary", "#888888")) for i in range(1, 6)]
        return render_stack(self.stack, self.content_size.width, self.content_size.height, colours, self._y_format)
