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


class ShowService(Message):
    """API performance for one service (Enter on a Health row)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service


class ShowLogs(Message):
    """The Logs screen searching ``query`` in [start, end] (from a trace, an alert, a tenant)."""

    def __init__(self, query: str, start: float, end: float) -> None:
        super().__init__()
        self.query = query
        self.start = start
        self.end = end


class ShowTraces(Message):
    """The Traces screen searching one service's traces (only those with errors) in [start, end],
    with span attributes that must match (``tags``: an alert's culprit, e.g. tenant_id)."""

    def __init__(
        self, service: str, errors_only: bool, start: float, end: float, tags: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__()
        self.service = service
        self.errors_only = errors_only
        self.start = start
        self.end = end
        self.tags = tags


class ShowApi(Message):
    """API performance for one service and endpoint in [start, end] (from a span)."""

    def __init__(self, service: str, endpoint: str, start: float, end: float) -> None:
        super().__init__()
        self.service = service
        self.endpoint = endpoint
        self.start = start
        self.end = end


class ShowTenant(Message):
    """One tenant's screen (from a tenant_id in a table, a log record, a span or an alert)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__()
        self.tenant_id = tenant_id


class ShowProduct(Message):
    """The Product screen on one tenant (from the Tenant screen, or `:product ID`)."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__()
        self.tenant_id = tenant_id


class GoBack(Message):
    """Return along the way the user came (Esc on a screen with nothing left to clear)."""
