"""The cursor keys every scrolling list widget has (arrows and vi keys, pages, ends), with ids."""

from __future__ import annotations

from textual.binding import Binding


def cursor_bindings(
    prefix: str, noun: str, *, first: str, last: str, first_title: str = "Top", last_title: str = "Bottom"
) -> list[Binding]:
    """Up/down (k/j), page up/down (twenty), home/end (g/G) as ``<prefix>.up`` ... ``<prefix>.end``.

    The widget provides ``action_cursor(delta)`` and ``action_cursor_to(index)`` (-1: the last).
    """
    plural = noun + "s"
    return [
        Binding("up,k", "cursor(-1)", "Up", show=False, id=f"{prefix}.up", tooltip=f"Previous {noun}"),
        Binding("down,j", "cursor(1)", "Down", show=False, id=f"{prefix}.down", tooltip=f"Next {noun}"),
        Binding("pageup", "cursor(-20)", "Page up", show=False, id=f"{prefix}.pageup", tooltip=f"Twenty {plural} back"),
        Binding(
            "pagedown", "cursor(20)", "Page down", show=False, id=f"{prefix}.pagedown", tooltip=f"Twenty {plural} on"
        ),
        Binding("home,g", "cursor_to(0)", first_title, show=False, id=f"{prefix}.home", tooltip=first),
        Binding("end,G", "cursor_to(-1)", last_title, show=False, id=f"{prefix}.end", tooltip=last),
    ]
