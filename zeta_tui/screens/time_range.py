"""A small prompt for a custom time range: a duration (90m) or START .. END."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from zeta_tui.models.timerange import TimeRange, parse_duration


def parse_range(text: str, now: float) -> TimeRange:
    """'90m' -> last 90 minutes; '2026-11-27 10:00 .. 2026-11-27 11:30' -> that window (local time)."""
    text = text.strip()
    if ".." in text:
        start_text, end_text = (p.strip() for p in text.split("..", 1))
        try:
            start = datetime.fromisoformat(start_text).timestamp()
            end = datetime.fromisoformat(end_text).timestamp() if end_text and end_text != "now" else now
        except ValueError:
            raise ValueError("write times as YYYY-MM-DD HH:MM (e.g. 2026-11-27 10:00 .. 2026-11-27 11:30)") from None
        if end <= start:
            raise ValueError("the end must be after the start")
        return TimeRange(start, end, f"{start_text} .. {end_text or 'now'}")
    return TimeRange.last(text, now) if parse_duration(text) > 0 else TimeRange.last("1h", now)


class TimeRangePrompt(ModalScreen[TimeRange | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="range.cancel", tooltip="Keep the current range")]

    DEFAULT_CSS = """
    TimeRangePrompt { align: center middle; }
    TimeRangePrompt > Vertical { width: 70; height: auto; border: round $primary; background: $surface; padding: 0 1; }
    TimeRangePrompt #range-error { color: $error; }
    """

    def __init__(self, now: float, current: str) -> None:
        super().__init__()
        self._now = now
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Time range: a duration (15m, 6h, 3d) or START .. END (2026-11-27 10:00 .. now)")
            yield Input(value=self._current, id="range-input")
            yield Static("", id="range-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_range(event.value, self._now))
        except ValueError as exc:
            # Keep what was typed; say what is wrong and how to write it.
            self.query_one("#range-error", Static).update(f"✖ {exc}")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
