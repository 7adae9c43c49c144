"""AnalyticsSource: tenant usage and cost analytics on ClickHouse, a server or an embedded store.

What the Tenants and Cost screens, the SQL console and `zeta sql` call. Every query is
read-only twice over: ``sql_guard`` names a write before anything is sent (a friendly
refusal), and the engine runs the SQL with ClickHouse's ``readonly = 1``, so a write that gets
past the words is refused by ClickHouse itself (code 164). Each query has a time limit
(``timeout_seconds`` -> ``max_execution_time``) and a row cap (``max_rows``: the answer stops
there and says ``truncated``). Values are ``{name:Type}`` server-side parameters only.

Each answer is bounded too: ClickHouse's own ``max_result_bytes`` stops a result that outgrows
``max_response_bytes`` (``result_overflow_mode = 'throw'``), and zeta stops reading past the same
cap (AnswerTooLarge, saying how to ask for less); a server's answer is read as a stream, so a
300 MB answer never reaches memory. The requests of one call (a named query's look at the
tables, then the query) share one deadline of ``timeout_seconds``. The engine and its choice of
HTTP client are in clickhouse_engine.py and clickhouse_http.py.

A running query can be cancelled by its ``query_id``: ``KILL QUERY`` in a request of its own on a
server (the cancelled request is dropped), and from a second session on an embedded store (chdb
sessions run side by side). The awaiting ``query`` ends at once with QueryCancelled either way;
the engine stops the work.

Blocking chdb work runs in ``asyncio.to_thread``; large server answers are decoded in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import Mapping
from datetime import date

from zeta_tui.backends.clickhouse_engine import ClickHouseEngine, ResultSet
from zeta_tui.backends.usage_tables import USAGE_TABLES_TTL_S, read_usage_tables
from zeta_tui.config.models import ClickHouseConfig
from zeta_tui.errors import BackendUnavailable, QueryCancelled, SqlRefused, ZetaError
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.querying.sql_catalog import bind, find_query
from zeta_tui.querying.sql_guard import write_refusal
from zeta_tui.querying.usage_sources import UsageTables

__all__ = ["AnalyticsProbe", "AnalyticsSource", "ResultSet"]


class AnalyticsSource:
    """Read-only SQL and the named-query catalog on the context's ``[clickhouse]`` section."""

    kind = "clickhouse"

    def __init__(self, cfg: ClickHouseConfig) -> None:
        self.cfg = cfg
        self._engine = ClickHouseEngine(cfg, "clickhouse")
        self.embedded = self._engine.embedded
        self.url = self._engine.url
        self._cancels: dict[str, asyncio.Event] = {}
        self._tables: tuple[float, UsageTables] | None = None
        self._tables_lock = asyncio.Lock()

    @property
    def engine(self) -> ClickHouseEngine:
        """The engine (tests call it directly, past the guard, to show ClickHouse refusing writes)."""
        return self._engine

    async def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        query_id: str | None = None,
        max_rows: int | None = None,
    ) -> ResultSet:
        """Run one read-only statement; SqlRefused for a write, QueryError with ClickHouse's words otherwise.

        ``max_rows`` can lower the configured cap (``clickhouse.max_rows``), not raise it.
        """
        refusal = write_refusal(sql)
        if refusal is not None:
            raise SqlRefused(
                refusal, where=self.url, hint="the console only reads; writes belong in your migration tooling"
            )
        cap = self.cfg.max_rows if max_rows is None else max(1, min(int(max_rows), self.cfg.max_rows))
        query_id = query_id or uuid.uuid4().hex
        cancelled = self._cancels[query_id] = asyncio.Event()
        async with self._engine.action():
            work = asyncio.ensure_future(self._engine.fetch(sql, dict(params or {}), max_rows=cap, query_id=query_id))
        stop = asyncio.ensure_future(cancelled.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()  # the screen's worker was cancelled: the request goes with it
            raise
        finally:
            stop.cancel()
            self._cancels.pop(query_id, None)
        if cancelled.is_set() and not work.done():
            # The engine is stopping it (KILL QUERY). A server request is dropped now; chdb's
            # thread ends on its own and its answer is dropped.
            work.cancel()
            work.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise QueryCancelled("the query was cancelled", where=self.url)
        return work.result()

    async def named(
        self,
        name: str,
        raw_params: Mapping[str, object] | None = None,
        *,
        today: date | None = None,
        query_id: str | None = None,
        max_rows: int | None = None,
    ) -> ResultSet:
        """Run the catalog query ``name`` with ``raw_params`` bound to its types (ParamError names a bad one).

        ``today`` resolves the clock words ``today`` and ``month_start`` (default: the local date).
        The usage queries read zeta's rollup, or where there is none the seed's view or api_usage
        (querying/usage_sources.py); the answer's ``note`` says which when it is not the rollup.
        SchemaMismatch names a table or column the database lacks.
        """
        from zeta_tui.querying.events_sources import plan_events
        from zeta_tui.querying.sql_catalog import rollup_sql
        from zeta_tui.querying.usage_sources import plan_query

        query = find_query(name)
        bound = bind(query, raw_params or {}, today=today or date.today())
        async with self._engine.action():
            tables = await self.usage_tables()
            plan = plan_query(name, query.sql, tables, self.cfg.columns, rollup_sql())
            events = plan_events(name, plan.sql, tables.database, tables.columns, tables.events_complete)
            params = {**bound, **plan.params, **events.params}
            result = await self.query(events.sql, params, query_id=query_id, max_rows=max_rows)
        note = "; ".join(n for n in (plan.note, events.note) if n)
        return dataclasses.replace(result, note=note) if note else result

    async def usage_tables(self, *, fresh: bool = False) -> UsageTables:
        """What the database holds for the catalog, read at most once per USAGE_TABLES_TTL_S (``fresh``: now)."""
        async with self._tables_lock:
            now = time.monotonic()
            if fresh or self._tables is None or now - self._tables[0] > USAGE_TABLES_TTL_S:
                self._tables = (now, await read_usage_tables(self.query, self.cfg.database))
            return self._tables[1]

    async def cancel(self, query_id: str) -> None:
        """Stop the query ``query_id`` if it is running: its ``query`` raises QueryCancelled at once."""
        event = self._cancels.get(query_id)
        if event is not None:
            event.set()
        await self._engine.kill(query_id)

    async def check(self) -> tuple[str, float]:
        """The server's version text and the round trip in seconds."""
        started = time.perf_counter()
        result = await self.query("SELECT version()")
        version = str(result.rows[0][0]) if result.rows and result.rows[0] else ""
        if not re.fullmatch(r"\d+\.\d+[\w.+-]*", version):
            raise BackendUnavailable(
                f"SELECT version() answered {version[:40]!r}, not a ClickHouse version",
                where=self.url,
                hint="is clickhouse.url ClickHouse's HTTP interface, not a proxy or another service?",
            )
        return version, time.perf_counter() - started

    async def warm(self) -> None:
        """Load the embedded engine and open its store ahead of the first query (no-op on a server).

        chdb's import and store opening take about half a second and hold the GIL for part of it;
        done in a thread while the user is on another screen, the Tenants screen draws at once.
        A store that cannot be opened is left for the first query to report.
        """
        if not self.embedded:
            return
        from zeta_tui.backends.chdb_store import embedded_session

        try:
            await asyncio.to_thread(embedded_session, self._engine.cfg.path or "", setting="clickhouse.path")
        except ZetaError:
            pass

    async def close(self) -> None:
        await self._engine.aclose()

    aclose = close


class AnalyticsProbe:
    """The ``[clickhouse]`` section as `zeta check` probes it (the HealthProbe shape)."""

    kind = "clickhouse"

    def __init__(self, cfg: ClickHouseConfig) -> None:
        self.source = AnalyticsSource(cfg)
        self.url = self.source.url

    async def check(self) -> tuple[BuildInfo, float]:
        version, seconds = await self.source.check()
        return BuildInfo(version, flavour="chdb" if self.source.embedded else "clickhouse"), seconds

    async def aclose(self) -> None:
        await self.source.close()
