"""ClickHouseLogSource: logs in the OpenTelemetry ``otel_logs`` table, on a server or embedded.

A server (``url``) is read over its HTTP interface, an embedded store (``path``) with chdb in
this process (``zeta_tui.backends.clickhouse_engine``: bounded reads, shared sessions, read-only
runs, error mapping; its session functions are re-exported here). Every value reaches the server as a
``{name:Type}`` parameter: the query translator's and ours (time range, cursor, limit); user
text is never part of the SQL. chdb's queries run in a worker thread; the requests of one
search share one deadline of ``timeout_seconds``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session, store_holder
from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
from zeta_tui.backends.logs.base import LogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.errors import QueryError
from zeta_tui.models.logs import LogPage, LogRecord, normalise_level
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange
from zeta_tui.querying import otel_attributes as attrs

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")

__all__ = ["ClickHouseFilter", "ClickHouseLogSource", "close_embedded_session", "embedded_session", "store_holder"]


@dataclass(frozen=True)
class ClickHouseFilter:
    """A WHERE condition already in SQL, with its ``{name:Type}`` parameters.

    What the log query translator produces; also accepted directly by ``search``.
    """

    where: str
    params: Mapping[str, Any] = field(default_factory=dict)


# --- the log source ----------------------------------------------------------------------

_COLUMNS = (
    "toUnixTimestamp64Nano(Timestamp) AS zeta_ns, cityHash64(ServiceName, TraceId, SpanId, Body) AS zeta_rid, "
    "SeverityText, ServiceName, Body, TraceId, SpanId"
)


class ClickHouseLogSource(LogSource):
    """Records from an ``otel_logs`` table: ``LogAttributes`` become the record's fields."""

    kind = "clickhouse"

    def __init__(self, cfg: LogsConfig) -> None:
        self.cfg = cfg
        self._engine = ClickHouseEngine(cfg, "logs")
        self.embedded = self._engine.embedded
        self.url = self._engine.url
        self._columns: frozenset[str] | None = None  # the optional columns the table has (see _detect_columns)
        self._json: frozenset[str] = frozenset()  # the attribute columns typed JSON (the exporter's JSON variant)

    def describe(self) -> str:
        return f"clickhouse at {self.url}, table {self.cfg.database}.{self.cfg.table}"

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """Rows of a read-only SELECT (blocking)."""
        return self._engine.run(sql, params)

    # --- the contract ---------------------------------------------------------------

    def _filter(self, query: Any, now: float) -> ClickHouseFilter:
        if query is None or isinstance(query, ClickHouseFilter):
            return query or ClickHouseFilter("1")
        if isinstance(query, str):
            if query.strip() in ("", "*"):
                return ClickHouseFilter("1")
            from zeta_tui.querying.logquery import parse_log_query

            query = parse_log_query(query)
        from zeta_tui.querying.logquery import to_clickhouse

        where, params = to_clickhouse(
            query,
            datetime.fromtimestamp(now, tz=UTC),
            self.cfg.table,
            resource_attributes="ResourceAttributes" in (self._columns or ()),
            json_columns=self._json,
        )
        return ClickHouseFilter(where, params)

    def _select(
        self, flt: ClickHouseFilter, time_range: TimeRange, limit: int, newest_first: bool, cursor: Any
    ) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = dict(flt.params)
        clash = [k for k in params if k.startswith("zeta_")]
        if clash:
            raise QueryError(f"query parameter names {clash} are reserved", where=self.url)
        params.update(
            zeta_db=self.cfg.database,
            zeta_table=self.cfg.table,
            zeta_from=int(time_range.start * 1e9),
            zeta_to=int(time_range.end * 1e9),
            zeta_limit=int(limit),
        )
        order = "DESC" if newest_first else "ASC"
        where = [
            "Timestamp >= fromUnixTimestamp64Nano({zeta_from:Int64})",
            "Timestamp <= fromUnixTimestamp64Nano({zeta_to:Int64})",
            f"({flt.where})",
        ]
        if "TimestampTime" in (self._columns or ()):
            # The exporter's tables partition and sort by TimestampTime (whole seconds); a bound
            # on it lets the server skip partitions and granules a Timestamp bound alone does not.
            where[:0] = [
                "TimestampTime >= toDateTime(intDiv({zeta_from:Int64}, 1000000000))",
                "TimestampTime <= toDateTime(intDiv({zeta_to:Int64}, 1000000000))",
            ]
        if cursor is not None:
            ns, rid = cursor
            params.update(zeta_cur_ns=int(ns), zeta_cur_rid=int(rid))
            op = "<" if newest_first else ">"
            where.append(f"(zeta_ns, zeta_rid) {op} ({{zeta_cur_ns:Int64}}, {{zeta_cur_rid:UInt64}})")
        resources = (
            attrs.read("ResourceAttributes", "ResourceAttributes" in self._json)
            if "ResourceAttributes" in (self._columns or ())
            else "map()"
        )
        sql = (
            f"SELECT {_COLUMNS}, {attrs.read('LogAttributes', 'LogAttributes' in self._json)}, {resources} "
            f"FROM {{zeta_db:Identifier}}.{{zeta_table:Identifier}} WHERE {' AND '.join(where)} "
            f"ORDER BY Timestamp {order}, zeta_rid {order} LIMIT {{zeta_limit:UInt32}}"
        )
        return sql, params

    async def _detect_columns(self) -> tuple[frozenset[str], frozenset[str]]:
        """Which of the optional otel_logs columns this table has, and which attribute columns
        are typed JSON.

        TimestampTime (the seconds column current exporters partition and sort by) lets a time
        bound skip partitions; ResourceAttributes holds the collector's keys (k8s.*, host.name).
        Older or hand-made tables may lack either, and naming a missing column is an error. The
        exporter's JSON variant (logs_json_table.sql) types LogAttributes and ResourceAttributes
        JSON: they are read and filtered as querying/otel_attributes.py says.
        """
        rows = await self._engine.rows(
            attrs.detect_sql(("TimestampTime", *attrs.LOG_ATTRIBUTE_COLUMNS)),
            {"d": self.cfg.database, "t": self.cfg.table},
        )
        return frozenset(str(r[0]) for r in rows) - {"LogAttributes"}, attrs.json_typed(rows)

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        async with self._engine.action():
            if self._columns is None:
                self._columns, self._json = await self._detect_columns()
            flt = self._filter(query, time_range.end)
            sql, params = self._select(flt, time_range, limit, newest_first, cursor)
            rows = await self._engine.rows(sql, params)
        records = [_record(r) for r in rows]
        next_cursor = None
        if len(rows) >= limit and rows:
            next_cursor = (int(rows[-1][0]), int(rows[-1][1]))
        if newest_first:
            records.reverse()
        return LogPage(tuple(records), next_cursor)

    async def check(self) -> tuple[BuildInfo, float]:
        started = time.perf_counter()
        rows = await self._engine.rows("SELECT version()", {})
        flavour = "chdb" if self.embedded else "clickhouse"
        return BuildInfo(str(rows[0][0]) if rows else "", flavour=flavour), time.perf_counter() - started

    async def aclose(self) -> None:
        await self._engine.aclose()


def _value(text: Any) -> Any:
    # Map attributes are text; a JSON attribute keeps its JSON type (a number, a boolean).
    if isinstance(text, str) and _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def _record(row: list[Any]) -> LogRecord:
    ns, rid, severity, service, body, trace_id, span_id, attributes, resources = row
    # The record's own attributes first, then its resource's (the record's win a clash);
    # service.name is the service column already.
    fields = {k: _value(v) for k, v in attrs.attributes(attributes).items()}
    for k, v in attrs.attributes(resources).items():
        if k != "service.name" and k not in fields:
            fields[k] = _value(v)
    return LogRecord(int(ns), normalise_level(severity), service, body, fields, trace_id, span_id, f"{int(rid):016x}")
