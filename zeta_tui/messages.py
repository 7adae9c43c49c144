"""App-wide messages: what one screen asks of another, routed by the app."""

from __future__ import annotations

from textual.message import Message


class OpenTrace(Message):
    """Show the waterfall of ``trace_id`` (from a log record's trace link).

    ``around`` (unix seconds) and ``service`` narrow the search for backends that need a time
    window to find a trace. ``span_id`` (the record's span) is selected in the waterfall.
    """

    def __init__(self, trace_id: str, around: float | None = None, service: str = "", span_id: str = "") -> None:
        super().__init__()
        self.trace_id = trace_id
        self.around = around
        self.service = service
        self.span_id = span_id
