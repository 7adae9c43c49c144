"""A time-series line chart drawn by plotext, sized to the widget.

The chart text is a pure function of (series, size, colours) so it can be unit-tested and is
only rebuilt when one of those changes: redrawing an unchanged chart would send bytes to a
terminal that may be at the far end of a slow SSH link.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from zeta_tui.widgets.units import DASH


@dataclass(frozen=True, slots=True)
class ChartLine:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    #: the palette slot (None: the line's place); lines of one thing share it, e.g. a tenant's
    #: NDCG under two model versions, so the thing keeps its colour across the change
    colour: int | None = None


def _rgb(colour: str) -> tuple[int, int, int] | str:
    c = colour.lstrip("#")
    if len(c) == 6:
        return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))
    return "default"


def _clock_ticks(start: float, end: float, count: int) -> tuple[list[float], list[str]]:
    if end <= start or count < 2:
        return [start], [time.strftime("%H:%M", time.localtime(start))]
    span = end - start
    fmt = "%H:%M" if span <= 86400 else "%d %H:%M" if span <= 3 * 86400 else "%b %d"
    ticks = [start + span * i / (count - 1) for i in range(count)]
    return ticks, [time.strftime(fmt, time.localtime(t)) for t in ticks]


def render_chart(
    lines: Sequence[ChartLine],
    width: int,
    height: int,
    colours: Sequence[str],
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    x_range: tuple[float, float] | None = None,
) -> str:
    """plotext text (with ANSI colour) of ``lines`` in a width x height box."""
    import plotext as plt  # only once a chart has data: keeps it off the start-up path

    plt.clf()
    plt.limit_size(False, False)  # size to the widget, not to the terminal plotext thinks it is in
    plt.plotsize(max(width, 10), max(height - 1, 4))
    plt.theme("clear")
    plotted = 0
    y_all: list[float] = []
    for i, line in enumerate(lines):
        pts = [(x, y) for x, y in zip(line.xs, line.ys) if not (math.isnan(y) or math.isinf(y))]
        if not pts:
            continue
        xs, ys = zip(*pts)
        y_all.extend(ys)
        # No plotext legend: it is drawn over the data. The widget writes its own below.
        slot = i if line.colour is None else line.colour
        plt.plot(list(xs), list(ys), marker="braille", color=_rgb(colours[slot % len(colours)]))
        plotted += 1
    if not plotted:
        return ""
    lo, hi = x_range or (min(min(ln.xs) for ln in lines if ln.xs), max(max(ln.xs) for ln in lines if ln.xs))
    plt.xlim(lo, hi)
    ticks, labels = _clock_ticks(lo, hi, 3 if width < 50 else 5)
    plt.xticks(ticks, labels)
    y_lo, y_hi = min(y_all), max(y_all)
    if y_hi == y_lo:
        y_hi = y_lo + (abs(y_lo) or 1.0)
    y_lo = min(0.0, y_lo)
    plt.ylim(y_lo, y_hi)
    y_ticks = [y_lo + (y_hi - y_lo) * i / 3 for i in range(4)] if height >= 8 else [y_lo, y_hi]
    plt.yticks(y_ticks, [y_format(v) for v in y_ticks])
    return plt.build().rstrip("\n") + "\n" + legend(lines, colours, width)


def legend(lines: Sequence[ChartLine], colours: Sequence[str], width: int) -> str:
    """One line naming each series by its colour and a distinct mark, clipped to the width."""
    marks = "━╍┅┄─"
    parts = []
    used_colour: dict[int, int] = {}  # lines drawn in each colour so far: the next gets the next mark
    for i, line in enumerate(lines):
        if not line.label:
            continue  # drawn, not named (a named line of its colour says what it is)
        slot = (i if line.colour is None else line.colour) % len(colours)
        rgb = _rgb(colours[slot])
        r, g, b = rgb if isinstance(rgb, tuple) else (200, 200, 200)
        mark = marks[used_colour.get(slot, 0) % len(marks)]
        used_colour[slot] = used_colour.get(slot, 0) + 1
        parts.append(f"\x1b[38;2;{r};{g};{b}m{mark * 2}\x1b[0m {line.label}")
    text, used = "", 1
    for part, line in zip(parts, [ln for ln in lines if ln.label]):
        cost = len(line.label) + 5  # mark, space, label, two spaces
        if used + cost > width + 2:
            text += " …"
            break
        text += part + "  "
        used += cost
    return " " + text.rstrip()


class LineChart(Widget):
    """Reactive lines in, a plotext drawing out."""

    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 6; }
    """

    lines: reactive[tuple[ChartLine, ...]] = reactive((), layout=False)

    def __init__(
        self, title: str, y_format: Callable[[float], str] = lambda v: f"{v:g}", *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._y_format = y_format
        self._x_range: tuple[float, float] | None = None
        self._cache_key: tuple | None = None
        self._signature: tuple | None = None
        self._cache: Text = Text(DASH)
        self.empty_message = "waiting for data…"

    def show(self, lines: Sequence[ChartLine], x_range: tuple[float, float] | None = None) -> None:
        """Redraw only if something would look different (NaN gaps compare equal here)."""
        signature = (x_range, tuple((ln.label, ln.xs, tuple(None if v != v else v for v in ln.ys)) for ln in lines))
        if signature == self._signature:
            return
        self._signature = signature
        self._x_range = x_range
        self.lines = tuple(lines)

    def _colours(self) -> list[str]:
        variables = self.app.theme_variables
        return [variables.get(f"chart-{i}", variables.get("primary", "#888888")) for i in range(1, 6)]

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        colours = self._colours()
        key = (self.lines, width, height, tuple(colours), self._x_range)
        if key != self._cache_key:
            text = render_chart(self.lines, width, height, colours, self._y_format, self._x_range) if self.lines else ""
            self._cache = Text.from_ansi(text) if text else Text(self.empty_message, style="dim")
            self._cache_key = key
        return self._cache
