"""The one-line state of a pane: loading, fresh, stale (with age), or error with hint and retry."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from zeta_tui.models.snapshot import PaneState, Snapshot


def describe(snapshot: Snapshot, now: float, fresh_for: float, paused: bool = False) -> tuple[PaneState, str]:
    """(state, text) for a snapshot; the text always names the state in words."""
    state = snapshot.state(now, fresh_for)
    age = snapshot.age(now)
    if state is PaneState.LOADING:
        return state, "◌ loading…"
    if state is PaneState.NOT_CONFIGURED and snapshot.error is not None:
        err = snapshot.error
        return state, f"○ not configured · {err.message}" + (f" · {err.hint}" if err.hint else "")
    if state is PaneState.FRESH:
        text = "● fresh"
    elif state is PaneState.STALE:
        text = f"◐ stale · {_age(age)} old"
        if snapshot.from_cache and snapshot.error is None:
            text += " · the last answer, kept from the previous run; asking again…"
    else:
        text = "✖ error"
    if snapshot.error is not None:
        err = snapshot.error
        where = f" ({err.where})" if err.where else ""
        text += f" · {err.title}{where}: {err.message}"
        if err.hint:
            text += f" · hint: {err.hint}"
        if snapshot.next_retry_at is not None and not paused:
            text += f" · retry in {max(0, round(snapshot.next_retry_at - now))}s"
    if snapshot.warnings:
        text += f" · warning: {'; '.join(snapshot.warnings)}"
    if paused:
        text += " · paused"
    return state, text


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


class PaneStatus(Static):
    """Shows a Snapshot's state; colour follows the state but the words carry it.

    It redraws only when its words change, and asks for a new layout only when the number
    of lines changes: a layout pass repaints the whole screen, which at every refresh would
    cost kilobytes a second over SSH.
    """

    _text = ""
    _lines = 1

    DEFAULT_CSS = """
    PaneStatus { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    PaneStatus.-stale { color: $warning; }
    PaneStatus.-error { color: $error; text-style: bold; }
    PaneStatus.-loading { color: $text-muted; }
    PaneStatus.-not-configured { color: $text-muted; }
    """

    def show(self, snapshot: Snapshot, now: float, fresh_for: float, paused: bool = False) -> None:
        state, text = describe(snapshot, now, fresh_for, paused)
        if text == self._text:
            return
        for s in PaneState:
            self.set_class(s is state, f"-{s.value}")
        width = max(1, self.size.width - 2)
        lines = -(-len(text) // width)
        self.update(Text(text), layout=lines != self._lines)
        self._text, self._lines = text, lines
