"""One log record for reading: a field per row, its name, then its value wrapped to the width.

A value longer than the line (an error message, a URL, a stack trace) continues on the next lines
under itself and is never cut at the edge; a word longer than the line is folded. Newlines in a
value (stack traces) are kept. Numbers, booleans and null are styled as JSON styles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

MIN_NAME = 12  # cells a field name always gets (``status_code``, ``trace_id`` whole)


def value_text(value: Any) -> Text:
    """A field's value as shown: text as it is (no quotes), JSON for lists and objects."""
    if value is None:
        return Text("null", style="json.null")
    if isinstance(value, bool):
        return Text("true" if value else "false", style="json.bool_true" if value else "json.bool_false")
    if isinstance(value, (int, float)):
        return Text(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value), "json.number")
    if isinstance(value, str):
        return Text(value, style="json.str")
    return Text(orjson.dumps(value, default=str).decode())


class RecordFields:
    """A Rich renderable: ``items`` (name, value) as two columns, values wrapping."""

    def __init__(self, items: Sequence[tuple[str, Any]]) -> None:
        self.items = list(items)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        longest = max((len(name) for name, _ in self.items), default=0)
        # Names up to two fifths of the line (OpenTelemetry's http.response.status_code whole at
        # 80 columns); a longer name folds rather than squeezing the values.
        name_width = min(longest, max(MIN_NAME, width * 2 // 5))
        table = Table.grid(padding=(0, 1))
        table.add_column(width=name_width, overflow="fold", style="json.key")
        table.add_column(ratio=1, overflow="fold")
        for name, value in self.items:
            table.add_row(Text(name), value_text(value))
        yield table
