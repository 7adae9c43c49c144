"""Loki as a log source: ``query_range`` for search, the ``/tail`` websocket for follow mode.

Paging is by timestamp: the next page starts *at* the boundary nanosecond (Loki's own limit
can cut a nanosecond's entries across streams) and drops the entries already returned there,
by a record_id that hashes the stream labels, the nanosecond and the line.

The tail runs over httpx-ws on this backend's httpx client, so auth headers and
``X-Scope-OrgID`` go with the upgrade. A dropped connection reconnects from the last
nanosecond seen, dropping what was already yielded; a websocket that cannot be opened at all
(a proxy refusing the upgrade) falls back to polling ``query_range``, with a warning saying so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import httpx

from zeta_tui.backends.http import HttpBackend, error_text
from zeta_tui.backends.logs.base import LogSource
from zeta_tui.backends.logs.loki_answers import (
    RecentIds,
    TailClosed,
    dt_ns,
    first_leaf,
    keep_refusal_body,
    loki_error,
    range_params,
    read_frame,
    records_from_streams,
)
from zeta_tui.backends.logs.loki_selector import (
    NAMESPACE_LABEL,
    OTEL_NAMESPACE_LABEL,
    choose_selector,
    default_selector,
)
from zeta_tui.backends.logs.records import format_ns
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.logs import LogPage, LogRecord
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange

__all__ = ["LogQL", "LokiCursor", "LokiLogSource", "loki_error", "records_from_streams"]

T = TypeVar("T")


def _strings(data: dict[str, Any]) -> list[str]:
    return [str(v) for v in data.get("data") or []]


MAX_ENTRIES = 5000  # Loki's default max_entries_limit_per_query


class LogQL(str):
    """LogQL text to send as it is (bypassing the log query translator)."""


@dataclass(frozen=True, slots=True)
class LokiCursor:
    """The next page starts at ``boundary_ns`` (inclusive), without the ids in ``seen``."""

    boundary_ns: int
    seen: frozenset[str] = frozenset()


#: A tail frame's records (oldest first) and how many entries Loki dropped.
_Frame = tuple[list[LogRecord], int]
#: What the websocket session tells its consumer: ("open", None), ("frame", a _Frame),
#: ("refused", why) or ("closed", why).
_TailEvent = tuple[str, "_Frame | str | None"]


class _Refused(Exception):
    """The tail websocket could not be opened (upgrade refused or handshake failed)."""


class LokiLogSource(HttpBackend, LogSource):
    """Records from Loki streams matching ``selector``. Queries are parsed log queries (or
    their text) translated to LogQL, or LogQL text wrapped in :class:`LogQL`."""

    kind = "loki"
    #: entries per websocket tail request (Loki's ``limit`` for the initial replay)
    tail_limit = 1000
    #: first delay before reconnecting a dropped tail; doubles up to 5 s
    reconnect_delay = 0.2

    def __init__(
        self, cfg: LogsConfig, *, namespace: str = "production", clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(cfg)
        self.namespace = namespace
        self.selector = cfg.selector or default_selector(namespace)
        #: False while the default selector may still be replaced by a matching one (see
        #: loki_selector); a selector the user set is settled from the start
        self._selector_settled = cfg.selector is not None
        self._selector_tried_at: float | None = None
        self.clock = clock
        #: the ``stats`` of the last query_range answer (bytes/lines processed, exec time)
        self.last_stats: dict[str, Any] = {}
        #: label names of the selector's streams (see _learn_stream_labels) and when learnt
        self.stream_labels: frozenset[str] = frozenset()
        self._labels_learnt_at: float | None = None

    def describe(self) -> str:
        return f"loki at {self.url}, selector {self.selector}"

    # --- the query -------------------------------------------------------------------------

    def translate(self, query: Any) -> tuple[str, tuple[int | None, int | None]]:
        """LogQL for ``query`` and the (start, end) ns its own time window allows."""
        if isinstance(query, LogQL):
            return str(query), (None, None)
        if query is None or (isinstance(query, str) and not query.strip()):
            return self.selector, (None, None)
        try:
            from zeta_tui.querying.logquery import parse_log_query, time_window, to_logql
        except ImportError:
            raise QueryError("the log query translator is not installed in this build", where=self.where) from None
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        try:
            parsed = parse_log_query(query) if isinstance(query, str) else query
            logql = to_logql(parsed, self.selector, now, self.stream_labels)
            lo, hi = time_window(parsed, now)
        except ZetaError:
            raise
        except ValueError as exc:
            raise QueryError(str(exc), where=self.where) from None
        return logql, (dt_ns(lo), dt_ns(hi))

    async def _settle_selector(self, time_range: TimeRange) -> None:
        """Keep the default selector if Loki's streams have its label, else choose one that
        matches (loki_selector.choose_selector) and say so in ``note``. Best effort: when Loki
        cannot tell (an error, no stream in the window) the default stays and this is tried
        again a minute later."""
        now = self.clock()
        if self._selector_settled or (self._selector_tried_at is not None and now - self._selector_tried_at < 60):
            return
        self._selector_tried_at = now
        try:
            names = await self.labels(time_range)
            ns_values = await self.label_values(NAMESPACE_LABEL, time_range) if NAMESPACE_LABEL in names else None
            otel_values = (
                await self.label_values(OTEL_NAMESPACE_LABEL, time_range) if OTEL_NAMESPACE_LABEL in names else None
            )
        except ZetaError:
            return
        choice = choose_selector(self.namespace, names, ns_values, otel_values)
        self.selector, self.note = choice.selector, choice.note
        self._selector_settled = bool(names)
        if choice.selector != default_selector(self.namespace):
            self._labels_learnt_at = None  # the stream labels were those of the old selector

    async def _learn_stream_labels(self, query: Any, end_ns: int) -> None:
        """Learn the selector's stream label names (from /series over the hour before
        ``end_ns``, at most every 15 minutes) so that to_logql can reach a JSON field Loki renamed
        to ``<name>_extracted`` because a stream label has its name. Best effort: without the
        answer the filters use the plain names, as before."""
        if isinstance(query, LogQL) or query is None or (isinstance(query, str) and not query.strip()):
            return
        now = self.clock()
        if self._labels_learnt_at is not None and now - self._labels_learnt_at < 900:
            return
        self._labels_learnt_at = now
        end = end_ns / 1e9
        try:
            found = await self.series(time_range=TimeRange(end - 3600, end))
        except ZetaError:
            return
        self.stream_labels = frozenset(name for labels in found for name in labels)

    # --- search ----------------------------------------------------------------------------

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        if cursor is not None and not isinstance(cursor, LokiCursor):
            raise TypeError(f"not a cursor of this source: {cursor!r}")
        if not isinstance(query, LogQL):  # LogQL text carries its own selector
            await self._settle_selector(time_range)
        await self._learn_stream_labels(query, int(time_range.end * 1e9))
        logql, (q_lo, q_hi) = self.translate(query)
        start, end = int(time_range.start * 1e9), int(time_range.end * 1e9)
        start, end = max(start, q_lo) if q_lo is not None else start, min(end, q_hi) if q_hi is not None else end
        if cursor is not None:
            if newest_first:
                end = min(end, cursor.boundary_ns + 1)  # end is exclusive: keep the boundary
            else:
                start = max(start, cursor.boundary_ns)
        if start >= end:
            return LogPage(())
        # Re-read what was returned at the boundary, within Loki's default max_entries_limit.
        size = min(limit + (len(cursor.seen) if cursor is not None else 0), max(limit, MAX_ENTRIES))
        params = {
            "query": logql,
            "start": str(start),
            "end": str(end),
            "limit": str(size),
            "direction": "backward" if newest_first else "forward",
        }
        return await self._get_json(
            "/loki/api/v1/query_range", params, lambda data: self._page(data, size, newest_first, cursor)
        )

    def _page(self, data: dict[str, Any], size: int, newest_first: bool, cursor: LokiCursor | None) -> LogPage:
        """One page of a query_range answer (run where it is decoded: off the event loop when
        large, since 100,000 entries are as many records to build and sort)."""
        body = data.get("data")
        if not isinstance(body, dict):
            body = {}
        result_type = body.get("resultType")
        if result_type not in (None, "streams"):
            raise QueryError(
                f"this is a metric query (Loki answered a {result_type}), not a log query",
                where=self.where,
                hint="the Logs screen shows log lines: drop the rate()/count_over_time() around the selector",
            )
        self.last_stats = body.get("stats") or {}
        warnings = tuple(str(w) for w in (data.get("warnings") or body.get("warnings") or ()))
        records = records_from_streams(body.get("result") or [])
        records.sort(key=lambda r: (r.timestamp_ns, r.record_id), reverse=newest_first)
        del records[size:]  # a server answering more than asked for is read as far as asked
        fresh = (
            [r for r in records if r.record_id not in cursor.seen] if cursor is not None and cursor.seen else records
        )
        next_cursor = None
        if len(records) >= size and records:
            boundary = records[-1].timestamp_ns
            seen = {r.record_id for r in records if r.timestamp_ns == boundary}
            if cursor is not None and cursor.boundary_ns == boundary:
                seen |= cursor.seen
            next_cursor = LokiCursor(boundary, frozenset(seen))
            if not fresh and cursor is not None and cursor.boundary_ns == boundary:
                # Loki reordered the ties between requests: step past them rather than loop.
                warnings += (f"many lines share one nanosecond ({boundary}); some may have been skipped",)
                next_cursor = LokiCursor(boundary - 1 if newest_first else boundary + 1)
        if newest_first:
            fresh.reverse()
        return LogPage(tuple(fresh), next_cursor, warnings)

    async def _get_json(self, path: str, params: Mapping[str, str] | None, build: Callable[[dict[str, Any]], T]) -> T:
        """``build`` of the answer's JSON object (decoded and built off the event loop when
        large: HttpBackend.read); Loki's error as a ZetaError."""
        resp = await self.request("GET", path, params=params)
        self.raise_for_auth(resp)
        if resp.status_code >= 400:
            raise loki_error(resp, where=self.where)

        def checked(data: Any) -> T:
            if not isinstance(data, dict):
                raise BackendUnavailable(f"{path} answered {type(data).__name__}, not an object", where=self.where)
            if data.get("status") == "error":
                raise QueryError(
                    str(data.get("error") or data.get("message") or "error"),
                    where=self.where,
                    error_type=str(data.get("errorType", "")),
                )
            return build(data)

        return await self.read(resp, checked)

    # --- labels (for completion) -----------------------------------------------------------

    async def labels(self, time_range: TimeRange | None = None) -> list[str]:
        """Label names Loki knows (in ``time_range`` if given)."""
        return await self._get_json("/loki/api/v1/labels", range_params(time_range), _strings)

    async def label_values(self, name: str, time_range: TimeRange | None = None) -> list[str]:
        """Values of the label ``name``."""
        from urllib.parse import quote

        path = f"/loki/api/v1/label/{quote(name, safe='')}/values"
        return await self._get_json(path, range_params(time_range), _strings)

    async def series(self, match: str | None = None, time_range: TimeRange | None = None) -> list[dict[str, str]]:
        """Label sets of the streams matching ``match`` (default: the selector)."""
        params = {"match[]": match or self.selector, **range_params(time_range)}
        return await self._get_json(
            "/loki/api/v1/series", params, lambda data: [dict(s) for s in data.get("data") or [] if isinstance(s, dict)]
        )

    # --- tail --------------------------------------------------------------------------------

    async def tail(
        self, query: Any, since_ns: int, *, clock: Callable[[], float] | None = None
    ) -> AsyncIterator[LogPage]:
        now = self.clock()
        if not isinstance(query, LogQL):
            await self._settle_selector(TimeRange(now - 3600, now))
        await self._learn_stream_labels(query, int(now * 1e9))
        logql, _window = self.translate(query)
        last_ns = since_ns
        recent = RecentIds()
        delay = self.reconnect_delay
        ever_opened = False
        refusals = 0  # upgrades refused in a row after the websocket once worked
        while True:
            try:
                # aclosing: when our consumer stops, the websocket closes now, not at GC.
                async with aclosing(self._tail_frames(logql, last_ns)) as frames:
                    async for frame in frames:
                        ever_opened = True
                        if frame is None:
                            refusals = 0
                            continue  # the open marker
                        records, dropped = frame  # oldest first (read_frame)
                        fresh = recent.fresh(records)
                        if fresh:
                            last_ns = max(last_ns, fresh[-1].timestamp_ns)
                            delay = self.reconnect_delay
                        if fresh or dropped:
                            yield LogPage(tuple(fresh), None, (), dropped)
                reason = "Loki closed the tail"
            except _Refused as exc:
                refusals += 1
                if not ever_opened or refusals >= 3:
                    warning = f"live tail websocket unavailable ({exc}); polling every {self.poll_seconds:g}s instead"
                    yield LogPage((), None, (warning,))
                    async for page in LogSource.tail(self, LogQL(logql), last_ns, clock=clock):
                        # Same ids from query_range as from the websocket: drop what it sent.
                        polled = tuple(recent.fresh(page.records))
                        if polled or page.warnings or page.dropped:
                            yield LogPage(polled, None, page.warnings, page.dropped)
                    return
                reason = f"could not reopen the tail ({exc})"
            except TailClosed as exc:
                reason = str(exc)
            yield LogPage((), None, (f"{reason}; reconnecting from {format_ns(last_ns)}",))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _tail_frames(self, logql: str, start_ns: int) -> AsyncGenerator[_Frame | None, None]:
        """Frames of one websocket session: None once open, then each frame's records (oldest
        first) and how many entries Loki dropped.
        The session runs in its own task (httpx-ws holds a task group that must not be
        suspended across our consumer's yields); frames come through a bounded queue."""
        queue: asyncio.Queue[_TailEvent] = asyncio.Queue(maxsize=64)
        task = asyncio.create_task(self._tail_session(logql, start_ns, queue))
        try:
            while True:
                kind, item = await queue.get()
                if kind == "frame":
                    yield cast(_Frame, item)
                elif kind == "open":
                    yield None
                elif kind == "refused":
                    raise _Refused(item)
                else:
                    raise TailClosed(item)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _tail_session(self, logql: str, start_ns: int, queue: asyncio.Queue[_TailEvent]) -> None:
        from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, WebSocketUpgradeError, aconnect_ws

        ws: AsyncWebSocketSession
        params = httpx.QueryParams({"query": logql, "start": str(start_ns), "limit": str(self.tail_limit)})
        hooks = self.client.event_hooks["response"]
        if keep_refusal_body not in hooks:
            hooks.append(keep_refusal_body)
        opened = False
        try:
            async with aconnect_ws(
                f"/loki/api/v1/tail?{params}",
                self.client,
                max_message_size_bytes=self.config.max_response_bytes,
                keepalive_ping_interval_seconds=20.0,
            ) as ws:
                opened = True
                await queue.put(("open", None))
                while True:
                    text = await ws.receive_text()
                    try:
                        frame = await read_frame(text)
                    except ValueError:  # orjson.JSONDecodeError
                        await queue.put(("closed", f"Loki sent a tail frame that is not JSON: {text[:200]}"))
                        return
                    del text
                    await queue.put(("frame", frame))
        except asyncio.CancelledError:
            raise
        except BaseException as group:  # httpx-ws wraps what escapes its task group
            exc = first_leaf(group)
            if isinstance(exc, asyncio.CancelledError):
                raise
            if isinstance(exc, WebSocketUpgradeError):
                resp = exc.response
                try:
                    body = resp.text.strip()[:200]
                except httpx.ResponseNotRead:
                    body = ""
                await queue.put(("refused", f"HTTP {resp.status_code} on the upgrade" + (f": {body}" if body else "")))
            elif isinstance(exc, WebSocketDisconnect):
                detail = f" ({exc.code}: {exc.reason})" if exc.reason else f" (code {exc.code})"
                await queue.put(("closed", f"Loki closed the tail{detail}"))
            elif not opened:
                await queue.put(("refused", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__))
            else:
                await queue.put(("closed", f"the tail connection was lost ({type(exc).__name__})"))
            return
        await queue.put(("closed", "Loki closed the tail"))

    # --- health ----------------------------------------------------------------------------

    async def check(self) -> tuple[BuildInfo, float]:
        """Build info, or /ready where the server has no build-info endpoint (404).

        A build-info answer that is malformed, an error or without a version is DOWN, whatever
        /ready says: the API zeta reads is not answering as Loki's does.
        """
        _ = self.client
        t0 = time.perf_counter()
        async with self.action():
            resp = await self.request("GET", "/loki/api/v1/status/buildinfo")
            self.raise_for_auth(resp)
            if resp.status_code != 404:
                if resp.status_code != 200:
                    raise BackendUnavailable(
                        f"/loki/api/v1/status/buildinfo answered HTTP {resp.status_code}: "
                        f"{' '.join(error_text(resp, 200).split())}",
                        where=self.where,
                        hint="Loki is starting or unhealthy, or a proxy in front of it failed; check its logs",
                    )
                data = self.decode_json(resp)
                if not (isinstance(data, dict) and data.get("version")):
                    raise BackendUnavailable(
                        "/loki/api/v1/status/buildinfo answered without a version: not Loki?",
                        where=self.where,
                        hint="check the url (Loki's HTTP API, port 3100 by default)",
                    )
                return BuildInfo(str(data["version"]), str(data.get("revision", "")), "loki"), time.perf_counter() - t0
            ready = await self.request("GET", "/ready")
            self.raise_for_auth(ready)
        elapsed = time.perf_counter() - t0
        if ready.status_code != 200:
            raise BackendUnavailable(
                f"/ready answered HTTP {ready.status_code}: {' '.join(error_text(ready, 200).split())}",
                where=self.where,
                hint="Loki is starting or unhealthy; check its logs",
            )
        return BuildInfo("unknown", "", "loki"), elapsed
