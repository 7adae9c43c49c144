"""`?`: every binding of the console, with its id (for keymap overrides) and what it does."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; max-width: 110; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, sections: Iterable[tuple[str, list[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self._sections = list(sections)
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text('Keys · remap any of them in the config file under [keymap]: "<id>" = "<key>" · Esc closes'),
                classes="section-title",
            )
            yield DataTable(cursor_type="row", id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Id", "Does")
        for where, bindings in self._sections:
            for b in bindings:
                key = self._keymap.get(b.id or "", b.key)
                shown = ", ".join(self.app.get_key_display(Binding(k.strip(), "")) for k in key.split(","))
                table.add_row(where, shown, b.id or "", b.tooltip or b.description)
        table.focus()
