"""An Input that remembers what was submitted: Up and Down walk through earlier entries."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class HistoryInput(Input):
    """Up/Down recall earlier submissions; the text being typed is kept as the newest entry."""

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier", show=False, id="input.history_back", tooltip="The previous query"),
        Binding("down", "history(1)", "Later", show=False, id="input.history_forward", tooltip="The next query"),
    ]

    def __init__(self, history: list[str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = list(history or [])
        self._position = len(self.history)
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value  # keep what was being typed
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else self._draft
        self.cursor_position = len(self.value)
