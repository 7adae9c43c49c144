"""The `:` command line, as in k9s: a screen's name, and an argument for some of them.

`:alerts`, `:slo`, `:logs level:ERROR`, `:trace 4bf92f3577b34da6`, `:tenant tenant_001`,
`:api checkout`, `:silences`, `:q`. Completion comes from the screen registry (modes.py) and
from what the console already knows (services, tenants); the list under the line shows what
matches, and which screens this context cannot show, with the section to add.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from zeta_tui.modes import SCREENS, missing_section

EXTRA = (("q", "", "Quit zeta"), ("help", "", "List every key"))


def usage(spec_id: str) -> str:
    spec = next(s for s in SCREENS if s.id == spec_id)
    return f":{spec.commands[0]}" + (f" {spec.argument.upper().replace(' ', '_')}" if spec.argument else "")


def listing(typed: str, configured: set[str], context: str) -> Text:
    """The commands matching what is typed, one a line: usage, what it shows, or what to add."""
    word = typed.strip().split(" ")[0].lower()
    lines = Text()
    for spec in SCREENS:
        if word and not any(c.startswith(word) for c in spec.commands):
            continue
        lines.append(f"{usage(spec.id):<24}", style="bold")
        missing = missing_section(spec, configured)
        if missing:
            lines.append(f"not configured: add [contexts.{context}.{missing}]\n", style="dim")
        else:
            lines.append(f"{spec.summary}\n")
    for name, _arg, summary in EXTRA:
        if not word or name.startswith(word):
            lines.append(f"{':' + name:<24}", style="bold")
            lines.append(f"{summary}\n")
    return lines if lines.plain else Text(f"no command starts with {word!r}", style="dim")


class CommandLine(ModalScreen[str | None]):
    """Type a command; Enter runs it, Esc closes the line."""

    DEFAULT_CSS = """
    CommandLine { align: center bottom; background: $background 40%; }
    CommandLine > Vertical {
        width: 100%; height: auto; max-height: 70%; background: $surface; border-top: solid $primary; padding: 0 1;
    }
    CommandLine #command-list { height: auto; max-height: 16; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close", id="command.cancel", tooltip="Close the command line")]

    def __init__(self, configured: set[str], context: str, words: Sequence[str] = ()) -> None:
        super().__init__()
        self.configured = configured
        self.context = context
        commands = [c for s in SCREENS for c in s.commands] + [name for name, _, _ in EXTRA]
        self.suggestions = sorted(set(commands)) + list(words)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(listing("", self.configured, self.context), id="command-list")
            yield Input(
                placeholder="alerts · logs level:ERROR · trace ID · tenant ID · api SERVICE · q",
                suggester=SuggestFromList(self.suggestions, case_sensitive=False),
                id="command-input",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#command-list", Static).update(listing(event.value, self.configured, self.context))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip().lstrip(":") or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
