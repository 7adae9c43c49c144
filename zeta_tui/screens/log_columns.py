"""The Logs column picker (`C`): which columns the list shows.

It offers every column but the message: time, level, service, pod, tenant, endpoint, method,
status and latency, each with the field names the loaded records use for it (or, when none
has it, the names it looks for), then every other field the loaded records have, most frequent
first. Space or Enter ticks or unticks the highlighted line (``[x]`` / ``[ ]``, readable without
colour); Esc closes and the list shows the ticked columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from zeta_tui.widgets.log_columns import ColumnChoice

TITLE_CELLS = 10  # the title column of a line (``Endpoint``); field names picked by name may be longer


def _prompt(choice: ColumnChoice, ticked: bool) -> Text:
    text = Text("[x] " if ticked else "[ ] ")
    text.append(choice.title.ljust(TITLE_CELLS), style="bold")
    if detail := choice.describe():
        text.append(" " + detail, style="" if choice.found else "dim")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class ColumnPicker(ModalScreen[list[str]]):
    """Tick the columns to show; dismissed with the ticked columns' keys."""

    BINDINGS = [
        Binding("space", "tick", "Show/hide", id="logs.columns_toggle", tooltip="Tick or untick the column"),
        Binding("escape,q", "done", "Close", id="logs.columns_close", tooltip="Close; the ticked columns are shown"),
    ]
    DEFAULT_CSS = """
    ColumnPicker { align: center middle; }
    ColumnPicker > Vertical {
        width: 95%; max-width: 100; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ColumnPicker OptionList, ColumnPicker OptionList:focus { height: auto; border: none; padding: 0; }
    """

    def __init__(self, choices: Sequence[ColumnChoice]) -> None:
        super().__init__()
        self.choices = list(choices)
        self.ticked = {c.key for c in self.choices if c.shown}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Columns · space ticks · Esc closes", classes="section-title")
            yield OptionList(*(Option(_prompt(c, c.key in self.ticked), id=c.key) for c in self.choices))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._toggle(event.option_index)

    def action_tick(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self._toggle(index)

    def _toggle(self, index: int) -> None:
        choice = self.choices[index]
        self.ticked ^= {choice.key}
        self.query_one(OptionList).replace_option_prompt_at_index(index, _prompt(choice, choice.key in self.ticked))

    def action_done(self) -> None:
        self.dismiss([c.key for c in self.choices if c.key in self.ticked])
