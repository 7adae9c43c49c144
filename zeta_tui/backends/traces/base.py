"""The contract every trace source keeps (Jaeger v1/v3, Tempo, ClickHouse otel_traces).

A source answers: the services and their operations (for the search form), a search (trace
summaries, newest first) and one whole trace by id. Sources raise only ZetaError subclasses:
a trace that is not there is a ``TraceNotFound`` (a QueryError) with the id in the message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from zeta_tui.errors import QueryError
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.traces import Trace, TraceQuery, TraceSearch


class TraceNotFound(QueryError):
    """No trace with that id in the source (in the time range it keeps)."""


class TraceSource(ABC):
    """One place traces can be read from."""

    kind: str = "traces"
    url: str = ""

    @abstractmethod
    async def services(self) -> list[str]:
        """Service names, sorted."""

    @abstractmethod
    async def operations(self, service: str) -> list[str]:
        """Operation (span) names of ``service``, sorted."""

    @abstractmethod
    async def search(self, query: TraceQuery) -> TraceSearch:
        """Traces matching ``query``, newest first, at most ``query.limit``."""

    @abstractmethod
    async def trace(self, trace_id: str) -> Trace:
        """Every span of one trace (TraceNotFound when there is none)."""

    @abstractmethod
    async def check(self) -> tuple[BuildInfo, float]:
        """Server version and round-trip seconds."""

    async def aclose(self) -> None:
        return None
