"""The funnel as horizontal bars: a bar per step, as long as its users against the first step's,
with the users, the conversion from the previous step and the median time from it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from zeta_tui.models.product import FunnelStep

LABEL = 14  # "added to cart" and a space
FULL, PARTS = "█", " ▏▎▍▌▋▊▉"


def duration(seconds: float | None) -> str:
    """24 s, 3.5 min, 2.1 h."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def bar(fraction: float, width: int) -> str:
    """``fraction`` of ``width`` cells in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    whole, part = divmod(eighths, 8)
    return FULL * whole + (PARTS[part] if part else "")


def render_funnel(steps: Sequence[FunnelStep], width: int, colour: str, *, two_lines: bool) -> Text:
    """A bar per step (and, with ``two_lines``, its conversion and time under it)."""
    text = Text()
    first = steps[0].users if steps else 0
    for i, s in enumerate(steps):
        users = f" {s.users:,}"
        conv = "" if s.conv_prev_pct is None else f" {s.conv_prev_pct:.1f} %"
        room = max(1, width - LABEL - len(users) - (0 if two_lines else len(conv)) - 1)
        text.append(f"{s.label:<{LABEL}}", style="bold")
        text.append(bar(s.users / first if first else 0.0, room), style=colour)
        text.append(users)
        if two_lines:
            if s.conv_prev_pct is not None:
                # the share of the first step only where it differs from the one of the previous
                first_pct = "" if i < 2 or s.conv_first_pct is None else f" · {s.conv_first_pct:.1f} % of served"
                median = duration(s.median_s_from_prev)
                line = f"{conv.strip()} of {steps[i - 1].label}{first_pct} · median {median}"
                text.append(f"\n{'':<{LABEL}}{line}", style="dim")
        else:
            text.append(conv, style="dim")
        if i < len(steps) - 1:
            text.append("\n")
    return text


class FunnelBars(Widget):
    """The funnel's steps in, bars out (no I/O)."""

    DEFAULT_CSS = """
    FunnelBars {
        height: 1fr; min-height: 5; padding: 0 1;
        border: round $panel-lighten-2; border-title-color: $foreground; background: $surface;
    }
    """

    steps: reactive[tuple[FunnelStep, ...]] = reactive((), layout=False)

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.empty_message = "waiting for data…"

    def show(self, steps: Sequence[FunnelStep]) -> None:
        self.steps = tuple(steps)

    def render(self) -> Text:
        if not self.steps or not self.steps[0].users:
            return Text(self.empty_message if not self.steps else "no user was served a recommendation", style="dim")
        colour = self.app.theme_variables.get("chart-1", self.app.theme_variables.get("primary", "#888888"))
        two_lines = self.content_size.height >= 2 * len(self.steps)
        return render_funnel(self.steps, self.content_size.width, colour, two_lines=two_lines)
