"""Elasticsearch 7/8/9 and OpenSearch 1/2 as a log source, through ``_search``.

Plain JSON over httpx rather than the official client: the client's vendor compatibility
header (``application/vnd.elasticsearch+json``) is refused by OpenSearch and its product check
refuses OpenSearch, and importing it costs ~0.45 s.

Paging is ``search_after`` on the timestamp sort. Where a point-in-time can be opened (ES
7.10+: ``_pit``; OpenSearch 2.4+: ``_search/point_in_time``) the pages read one snapshot, and on
Elasticsearch a ``_shard_doc`` tiebreaker makes the sort total, so ``search_after`` is exact.
Otherwise (no PIT, or OpenSearch, whose PIT has no tiebreaker) the next page starts *at* the
boundary timestamp and the records already returned there are dropped: no record with a tied
timestamp is skipped, and none is returned twice. Sorting on ``_id`` is avoided: 8.x refuses it
by default (``indices.id_field_data.enabled``).

Before a query's first search, ``_field_caps`` says which of its fields are text with a keyword
sub-field (the default dynamic mapping, as Logstash's indices get), so whole values are asked
there (elasticsearch_fields.py; docs/log-and-trace-sources.md).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from zeta_tui.backends.http import HttpBackend
from zeta_tui.backends.logs.base import LogSource, poll_tail
from zeta_tui.backends.logs.elasticsearch_answers import (
    PIT_KEEP_ALIVE,
    es_error,
    hits_of,
    quote_index,
    records_from_hits,
    response_warnings,
)
from zeta_tui.backends.logs.records import format_ns
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import BackendUnavailable, QueryError, ZetaError
from zeta_tui.models.logs import LogPage, LogRecord
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange

__all__ = ["ElasticsearchLogSource", "EsCursor", "es_error", "records_from_hits", "response_warnings"]

T = TypeVar("T")

CLOSE_SECONDS = 0.2  # the most aclose() waits for the cluster to close the open PITs
MAX_WINDOW = 10_000  # index.max_result_window: the largest size a search may ask for
_JSON = {"Accept": "application/json", "Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class EsCursor:
    """Where the next page starts: ``after`` for search_after, the PIT to keep reading, and
    (in boundary mode) the ids already returned at the boundary timestamp."""

    after: tuple[Any, ...]
    pit_id: str | None = None
    boundary: Any = None  # the timestamp sort value the next page starts at (boundary mode)
    seen: frozenset[str] = frozenset()


class ElasticsearchLogSource(HttpBackend, LogSource):
    """Records from an Elasticsearch or OpenSearch index pattern (``index``), timed by
    ``timestamp_field``. Queries are parsed log queries (or their text), translated to the
    query DSL; a dict is taken as query DSL as it is."""

    def __init__(self, cfg: LogsConfig, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(cfg)
        self.kind = cfg.kind  # "elasticsearch" or "opensearch": errors name what the user configured
        self.index = cfg.index
        self.timestamp_field = cfg.timestamp_field
        self.clock = clock
        #: None until tried; False once the server said it has no point-in-time API
        self.pit_supported: bool | None = None
        self._shard_doc = cfg.kind == "elasticsearch"
        self._open_pits: set[str] = set()
        #: field -> where its whole value is, for the text fields met so far (elasticsearch_fields)
        self.exact_fields: dict[str, tuple[str, ...]] = {}
        self._fields_known: set[str] = set()
        self._caps_tried_at: float | None = None  # the last _field_caps request that failed

    def describe(self) -> str:
        return f"{self.kind} at {self.url}, index {self.index}"

    # --- the query -------------------------------------------------------------------------

    def translate(self, query: Any) -> dict[str, Any]:
        """The query DSL for ``query``: a dict as it is, None/"" for everything, else a parsed
        log query (or its text) through the shared translator."""
        if query is None or (isinstance(query, str) and not query.strip()):
            return {"match_all": {}}
        if isinstance(query, Mapping):
            return dict(query)
        try:
            from zeta_tui.querying.logquery import parse_log_query, to_elasticsearch
        except ImportError:
            raise QueryError("the log query translator is not installed in this build", where=self.where) from None
        try:
            parsed = parse_log_query(query) if isinstance(query, str) else query
            now = datetime.fromtimestamp(self.clock(), tz=UTC)
            return to_elasticsearch(parsed, now, self.timestamp_field, self.exact_fields)
        except ZetaError:
            raise
        except ValueError as exc:
            raise QueryError(str(exc), where=self.where) from None

    async def _translate(self, query: Any) -> dict[str, Any]:
        """translate(), after learning from the index mapping where the query's text fields
        keep their whole values (a bad query fails first, before any request)."""
        if query is None or isinstance(query, Mapping) or (isinstance(query, str) and not query.strip()):
            return self.translate(query)
        if isinstance(query, str):
            from zeta_tui.querying.logquery import parse_log_query

            query = parse_log_query(query)
        self.translate(query)
        await self._learn_fields(query)
        return self.translate(query)

    async def _learn_fields(self, query: Any) -> None:
        """Ask ``_field_caps`` about the query's fields not asked about before. Best effort:
        without an answer (no permission, an old server) fields are used as they are, and it is
        asked again a minute later."""
        from zeta_tui.backends.logs.elasticsearch_fields import (
            caps_request_fields,
            exact_fields_from_caps,
            query_fields,
        )

        names = query_fields(query) - self._fields_known
        now = self.clock()
        if not names or (self._caps_tried_at is not None and now - self._caps_tried_at < 60):
            return
        params = {"fields": caps_request_fields(names), "ignore_unavailable": "true", "allow_no_indices": "true"}
        try:
            resp = await self.request(
                "GET", f"/{quote_index(self.index)}/_field_caps", params=params, headers={"Accept": "application/json"}
            )
            caps = await self.read_json(resp) if resp.status_code == 200 else None
        except ZetaError:
            caps = None
        if not isinstance(caps, dict) or caps.get("indices") == []:  # no answer, or no index yet: ask again later
            self._caps_tried_at = now
            return
        self.exact_fields.update(exact_fields_from_caps(names, caps))
        self._fields_known |= names

    def _body(
        self,
        dsl: dict[str, Any],
        time_range: TimeRange,
        limit: int,
        newest_first: bool,
        cursor: EsCursor | None,
        pit_id: str | None,
    ) -> dict[str, Any]:
        order = "desc" if newest_first else "asc"
        time_filter = {
            "range": {
                self.timestamp_field: {
                    "gte": format_ns(int(time_range.start * 1e9)),
                    "lte": format_ns(int(time_range.end * 1e9)),
                    "format": "strict_date_optional_time_nanos",
                }
            }
        }
        sort: list[Any] = [{self.timestamp_field: {"order": order, "unmapped_type": "date"}}]
        body: dict[str, Any] = {
            "size": limit,
            "query": {"bool": {"filter": [dsl, time_filter]}},
            "sort": sort,
            "track_total_hits": False,
        }
        if pit_id is not None:
            body["pit"] = {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}
            if self._shard_doc:
                sort.append({"_shard_doc": order})
        if cursor is not None:
            body["search_after"] = list(cursor.after)
        return body

    # --- search ----------------------------------------------------------------------------

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        return await self._search(query, time_range, limit, newest_first, cursor, pit=True)

    async def tail(
        self, query: Any, since_ns: int, *, clock: Callable[[], float] | None = None
    ) -> AsyncIterator[LogPage]:
        """The polling tail of LogSource, without a point-in-time: each poll is one short
        search, and opening and closing a PIT every second would triple the requests."""
        async for page in poll_tail(_PollingView(self), query, since_ns, clock=clock):
            yield page

    async def _search(
        self, query: Any, time_range: TimeRange, limit: int, newest_first: bool, cursor: Any, *, pit: bool
    ) -> LogPage:
        if cursor is not None and not isinstance(cursor, EsCursor):
            raise TypeError(f"not a cursor of this source: {cursor!r}")
        dsl = await self._translate(query)  # a bad query fails before a PIT is opened for it
        if cursor is not None:
            pit_id = cursor.pit_id
        else:
            pit_id = await self._open_pit() if pit else None
        # In boundary mode the page re-reads the records already returned at the boundary
        # (ties keep their order between requests, and within a PIT): ask for that many more.
        size = limit + (len(cursor.seen) if cursor is not None else 0)
        skipped_note = ""
        if cursor is not None and size > MAX_WINDOW:
            skipped_note = (
                f"more than {MAX_WINDOW} records share one timestamp ({cursor.boundary}); the rest of them were skipped"
            )
            cursor = EsCursor((cursor.boundary,), pit_id)
            size = limit

        def page_of(data: dict[str, Any]) -> tuple[LogPage, str | None]:
            # Run where the answer is decoded (off the event loop for a large one): 10,000 hits
            # are thousands of records to build.
            warnings = [*response_warnings(data), *([skipped_note] if skipped_note else [])]
            pit = data.get("pit_id", pit_id) if pit_id is not None else None
            records, next_cursor, note = self._page(
                hits_of(data), size, newest_first, cursor, pit, strict=pit is not None and self._shard_doc
            )
            if note:
                warnings.append(note)
            if newest_first:
                records.reverse()
            return LogPage(tuple(records), next_cursor, tuple(warnings)), pit

        body = self._body(dsl, time_range, size, newest_first, cursor, pit_id)
        try:
            page, pit_id = await self._search_request(body, pit=pit_id is not None, build=page_of)
        except QueryError as exc:
            if pit_id is None or "_shard_doc" not in exc.message or not self._shard_doc:
                raise
            # Elasticsearch 7.10/7.11 have PIT but no _shard_doc: sort on the timestamp alone.
            self._shard_doc = False
            body = self._body(dsl, time_range, size, newest_first, cursor, pit_id)
            page, pit_id = await self._search_request(body, pit=True, build=page_of)
        if page.cursor is None and pit_id is not None:
            await self._close_pit(pit_id)
        return page

    def _page(
        self,
        hits: list[dict[str, Any]],
        limit: int,
        newest_first: bool,
        cursor: EsCursor | None,
        pit_id: str | None,
        *,
        strict: bool,
    ) -> tuple[list[LogRecord], EsCursor | None, str]:
        """Records of one page (in the server's order), the cursor after it, and a note."""
        hits = hits[:limit]  # a server answering more than asked for is read as far as asked
        pairs = list(zip(hits, records_from_hits(hits, self.timestamp_field)))
        fresh = (
            [(h, r) for h, r in pairs if r.record_id not in cursor.seen]
            if cursor is not None and cursor.seen
            else pairs
        )
        records = [r for _, r in fresh]
        if len(hits) < limit:
            return records, None, ""
        last_sort = tuple(hits[-1].get("sort") or ())
        if not last_sort:
            return records, None, "the server returned no sort values; cannot page further"
        if strict:
            return records, EsCursor(last_sort, pit_id), ""
        boundary = last_sort[0]
        if not isinstance(boundary, int) or isinstance(boundary, bool):
            return records, EsCursor(last_sort[:1], pit_id), ""
        same_boundary = cursor is not None and cursor.boundary == boundary
        if not fresh and same_boundary:
            # Only if the server reordered the ties between requests: step past them rather
            # than loop forever.
            note = (
                f"many records share one timestamp ({boundary}) and the server did not keep their order; "
                "some may have been skipped"
            )
            return records, EsCursor((boundary,), pit_id), note
        seen = {r.record_id for h, r in pairs if (h.get("sort") or [None])[0] == boundary}
        if cursor is not None and same_boundary:
            seen |= cursor.seen
        # The next page starts at the boundary itself (one sort unit beyond it, since
        # search_after is exclusive); what was already returned there is dropped.
        start = boundary + 1 if newest_first else boundary - 1
        return records, EsCursor((start,), pit_id, boundary, frozenset(seen)), ""

    async def _search_request(self, body: dict[str, Any], *, pit: bool, build: Callable[[dict[str, Any]], T]) -> T:
        """``build`` of the ``_search`` answer, decoded and built off the event loop when large
        (HttpBackend.read); the server's error as a ZetaError."""
        path = "/_search" if pit else f"/{quote_index(self.index)}/_search"
        import orjson

        resp = await self.request("POST", path, content=orjson.dumps(body), headers=_JSON)
        self.raise_for_auth(resp)

        def checked(data: Any) -> T:
            if resp.status_code >= 400 or (isinstance(data, dict) and "error" in data and "hits" not in data):
                raise es_error(data, resp.status_code, where=self.where, index=self.index)
            if not isinstance(data, dict):
                raise BackendUnavailable(f"_search answered {type(data).__name__}, not an object", where=self.where)
            return build(data)

        return await self.read(resp, checked)

    # --- point in time ---------------------------------------------------------------------

    async def _open_pit(self) -> str | None:
        if self.pit_supported is False:
            return None
        index = quote_index(self.index)
        if self.kind == "opensearch":
            path, key = f"/{index}/_search/point_in_time", "pit_id"
        else:
            path, key = f"/{index}/_pit", "id"
        try:
            resp = await self.request("POST", path, params={"keep_alive": PIT_KEEP_ALIVE}, headers=_JSON)
        except ZetaError:
            return None  # the search itself will say what is wrong with the server
        pit_id = None
        if resp.status_code < 300:
            try:
                pit_id = (await self.read_json(resp)).get(key)
            except (ZetaError, AttributeError):
                pit_id = None
        if isinstance(pit_id, str) and pit_id:
            self.pit_supported = True
            self._open_pits.add(pit_id)
            return pit_id
        # A missing index is the search's error to report, not a missing API.
        if b"index_not_found" not in resp.content and resp.status_code not in (401, 403):
            self.pit_supported = False
        return None

    async def _close_pit(self, pit_id: str) -> None:
        import orjson

        self._open_pits.discard(pit_id)
        body: dict[str, str | list[str]]
        if self.kind == "opensearch":
            path, body = "/_search/point_in_time", {"pit_id": [pit_id]}
        else:
            path, body = "/_pit", {"id": pit_id}
        try:
            await self.request("DELETE", path, content=orjson.dumps(body), headers=_JSON)
        except ZetaError:
            pass  # it expires by itself after keep_alive

    async def aclose(self) -> None:
        # On the way out (the console quitting): a hung cluster must not hold the exit for
        # timeout_seconds, and a PIT left open expires by itself after PIT_KEEP_ALIVE.
        import asyncio

        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                for pit_id in list(self._open_pits):
                    await self._close_pit(pit_id)
        except TimeoutError:
            pass
        await HttpBackend.aclose(self)

    # --- health ----------------------------------------------------------------------------

    async def check(self) -> tuple[BuildInfo, float]:
        _ = self.client
        t0 = time.perf_counter()
        resp = await self.request("GET", "/", headers={"Accept": "application/json"})
        self.raise_for_auth(resp)
        data = await self.read_json(resp)
        elapsed = time.perf_counter() - t0
        if resp.status_code >= 400:
            raise es_error(data, resp.status_code, where=self.where, index=self.index)
        version = data.get("version") if isinstance(data, dict) else None
        if not isinstance(version, dict) or "number" not in version:
            raise BackendUnavailable(
                "GET / has no version.number: not Elasticsearch or OpenSearch?", where=self.where, hint="check the url"
            )
        flavour = str(version.get("distribution") or "elasticsearch")
        return BuildInfo(str(version["number"]), str(version.get("build_hash", "")), flavour), elapsed


class _PollingView:
    """What LogSource.tail needs of a source (search, poll_seconds), searching without PIT."""

    def __init__(self, source: ElasticsearchLogSource) -> None:
        self._source = source
        self.poll_seconds = source.poll_seconds

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        return await self._source._search(query, time_range, limit, newest_first, cursor, pit=False)
