"""The contract every log source keeps (Elasticsearch/OpenSearch, Loki, ClickHouse).

A source answers two questions: ``search`` (a page of records matching a query in a time
range, newest first or oldest first, with a cursor for the next page) and ``tail`` (records
newer than a moment, as they arrive). Records come back oldest first within a page. Sources
raise only ZetaError subclasses; a construct the backend cannot express is a QueryError naming
the construct and the backend.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from zeta_tui.models.logs import LogPage, LogRecord
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange


class LogSource(ABC):
    """One place logs can be read from."""

    kind: str = "logs"
    url: str = ""
    #: how often the default polling tail asks for new records
    poll_seconds: float = 1.0
    #: a choice the source made for the user that they should know about (Loki's fallback
    #: stream selector); the Logs screen and `zeta logs` show it. Empty when there is none.
    note: str = ""

    def describe(self) -> str:
        """Where the records come from, in a few words and without secrets (for messages)."""
        return f"{self.kind} at {self.url}" if self.url else self.kind

    @abstractmethod
    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        """Records matching ``query`` (a parsed log query) in ``time_range``.

        ``newest_first`` picks which end of the range the page comes from; the records in the
        page are oldest first either way. ``cursor`` (from a previous page) continues past it.
        """

    @abstractmethod
    async def check(self) -> tuple[BuildInfo, float]:
        """Server version and round-trip seconds."""

    async def aclose(self) -> None:
        return None

    async def tail(
        self, query: Any, since_ns: int, *, clock: Callable[[], float] | None = None
    ) -> AsyncIterator[LogPage]:
        """Records newer than ``since_ns`` as they arrive, forever (cancel to stop).

        The default polls ``search`` (poll_tail); sources with a push API (Loki's websocket)
        override it. Records already yielded are never yielded again.
        """
        async for page in poll_tail(self, query, since_ns, clock=clock):
            yield page


class Searchable(Protocol):
    """What poll_tail needs of a source."""

    poll_seconds: float

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage: ...


async def poll_tail(
    source: Searchable, query: Any, since_ns: int, *, clock: Callable[[], float] | None = None
) -> AsyncIterator[LogPage]:
    """Records newer than ``since_ns`` as ``source.search`` finds them, every ``poll_seconds``,
    forever (cancel to stop). Records already yielded are never yielded again."""
    import time

    clock = clock or time.time
    seen: set[str] = set()
    last_ns = since_ns
    while True:
        now = clock()
        window = TimeRange(last_ns / 1e9, now + 1.0, "tail")
        page = await source.search(query, window, limit=5000, newest_first=False)
        fresh = tuple(r for r in page.records if r.timestamp_ns >= last_ns and _key(r) not in seen)
        if fresh or page.warnings or page.dropped:
            for r in fresh:
                seen.add(_key(r))
            newest = max((r.timestamp_ns for r in fresh), default=last_ns)
            if newest > last_ns:
                # Keep only ids at the newest instant: older ones cannot come back.
                seen = {_key(r) for r in fresh if r.timestamp_ns == newest}
                last_ns = newest
            yield LogPage(fresh, None, page.warnings, page.dropped)
        await asyncio.sleep(source.poll_seconds)


def _key(record: LogRecord) -> str:
    return record.record_id or f"{record.timestamp_ns}:{record.service}:{record.message}"
