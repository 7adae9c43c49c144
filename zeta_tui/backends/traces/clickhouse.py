"""ClickHouseTraceSource: traces in the OpenTelemetry ``otel_traces`` table, on a server or embedded.

The engine part (ClickHouse's HTTP interface or chdb, bounded reads, shared embedded sessions,
read-only settings, error mapping) is ``zeta_tui.backends.clickhouse_engine``, as for the log source. Every value is
a ``{name:Type}`` server-side parameter; the database and table are Identifier parameters.

Search, as Jaeger does it: service, operation, tags and the duration bounds apply to one span
together (a trace matches when one of its spans in the time range has the service, the
operation, every tag, in SpanAttributes or ResourceAttributes, and a duration within the
bounds); ``errors_only`` keeps traces with at least one error span. Each result is one GROUP BY
TraceId over the spans from ``PAD_SECONDS`` before to ``PAD_SECONDS`` after the range, so a trace
that crosses an edge of the range is summarised whole; newest trace start first.

A trace by id reads the exporter's ``<table>_trace_id_ts`` lookup table (TraceId -> first and
last span second) when it exists, to read only the partitions holding the trace; a 64-bit id is
looked up in its 16- and 32-digit forms.

The exporter's JSON variant (attributes typed ``JSON``, not ``Map``) is read as well: the
attribute columns' types are learnt once per source from system.columns, and both the tag
search and the span attributes go through zeta_tui/querying/otel_attributes.py, so a dotted
key (``http.method``) is searched and shown as it was written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
from zeta_tui.backends.traces.base import TraceNotFound, TraceSource
from zeta_tui.config.models import TracesConfig
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.traces import Span, SpanEvent, SpanLink, Trace, TraceQuery, TraceSearch, TraceSummary, normalise_id
from zeta_tui.querying import otel_attributes as attrs

PAD_SECONDS = 300  # how far outside the search range a matched trace's other spans are read
MAX_SPANS = 100_000  # spans of one trace read at most
_TABLE = "{zeta_db:Identifier}.{zeta_table:Identifier}"


def _error(json_columns: frozenset[str]) -> str:
    """SQL true for an error span (its status, or an ``error=true`` attribute)."""
    flag = (
        "toString(getSubcolumn(SpanAttributes, 'error'))"
        if "SpanAttributes" in json_columns
        else "SpanAttributes['error']"
    )
    return f"(StatusCode IN ('Error', 'STATUS_CODE_ERROR') OR {flag} = 'true')"


def span_columns(json_columns: frozenset[str] = frozenset()) -> str:
    """The columns span_of reads, each attribute column as its variant is read."""
    j = json_columns
    return (
        "TraceId, SpanId, ParentSpanId, SpanName, ServiceName, toUnixTimestamp64Nano(Timestamp), Duration, "
        f"SpanKind, StatusCode, StatusMessage, {attrs.read('SpanAttributes', 'SpanAttributes' in j)}, "
        f"{attrs.read('ResourceAttributes', 'ResourceAttributes' in j)}, "
        "arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name, "
        f"{attrs.read_each('Events.Attributes', 'Events.Attributes' in j)}, Links.TraceId, Links.SpanId, "
        f"{attrs.read_each('Links.Attributes', 'Links.Attributes' in j)}"
    )


class ClickHouseTraceSource(TraceSource):
    """Traces from an ``otel_traces`` table (the OpenTelemetry Collector's ClickHouse exporter schema)."""

    kind = "clickhouse"

    def __init__(self, cfg: TracesConfig) -> None:
        self.cfg = cfg
        self._engine = ClickHouseEngine(cfg, "traces")
        self.embedded = self._engine.embedded
        self.url = self._engine.url
        self._has_lookup: bool | None = None
        self._json_columns: frozenset[str] | None = None  # the JSON-typed attribute columns (learnt once)

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        """Rows of a read-only SELECT on the configured table (blocking)."""
        return self._engine.run(sql, {"zeta_db": self.cfg.database, "zeta_table": self.cfg.table, **params})

    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        return await self._engine.rows(sql, {"zeta_db": self.cfg.database, "zeta_table": self.cfg.table, **params})

    async def services(self) -> list[str]:
        rows = await self._rows(f"SELECT DISTINCT ServiceName FROM {_TABLE} ORDER BY ServiceName LIMIT 10000", {})
        return [str(r[0]) for r in rows if r[0]]

    async def operations(self, service: str) -> list[str]:
        sql = (
            f"SELECT DISTINCT SpanName FROM {_TABLE} WHERE ServiceName = {{service:String}} ORDER BY SpanName "
            "LIMIT 10000"
        )
        rows = await self._rows(sql, {"service": service})
        return [str(r[0]) for r in rows]

    async def _attribute_types(self) -> frozenset[str]:
        if self._json_columns is None:
            rows = await self._engine.rows(
                attrs.detect_sql(attrs.TRACE_ATTRIBUTE_COLUMNS), {"d": self.cfg.database, "t": self.cfg.table}
            )
            self._json_columns = attrs.json_typed(rows)
        return self._json_columns

    async def search(self, query: TraceQuery) -> TraceSearch:
        async with self._engine.action():  # one deadline for the column look-up and the search
            sql, params = search_sql(query, await self._attribute_types())
            rows = await self._rows(sql, params)
        return TraceSearch(
            tuple(
                TraceSummary(
                    trace_id=normalise_id(tid),
                    root_service=str(service),
                    root_name=str(name),
                    start_ns=int(start),
                    duration_ns=int(duration),
                    span_count=int(count),
                    services=tuple(services),
                    error_count=int(errors),
                )
                for tid, service, name, start, duration, count, services, errors in rows
            )
        )

    async def trace(self, trace_id: str) -> Trace:
        async with self._engine.action():  # one deadline for the look-ups and the spans
            return await self._trace(trace_id)

    async def _trace(self, trace_id: str) -> Trace:
        wanted = normalise_id(trace_id)
        forms = id_forms(wanted)
        params = {"a": forms[0], "b": forms[-1], "zeta_limit": MAX_SPANS}
        base = (
            f"SELECT {span_columns(await self._attribute_types())} FROM {_TABLE} WHERE TraceId "
            "IN ({a:String}, {b:String})"
        )
        tail = " ORDER BY Timestamp, SpanId LIMIT {zeta_limit:UInt32}"
        rows: list[list[Any]] = []
        if wanted and await self._lookup_exists():
            bounded = (
                "WITH (SELECT min(Start) FROM {zeta_db:Identifier}.{zeta_lookup:Identifier} WHERE TraceId "
                "IN ({a:String}, {b:String})) AS zeta_start, (SELECT max(End) + 1 "
                "FROM {zeta_db:Identifier}.{zeta_lookup:Identifier} WHERE TraceId IN ({a:String}, "
                f"{{b:String}})) AS zeta_end {base} AND Timestamp >= zeta_start AND Timestamp <= zeta_end{tail}"
            )
            rows = await self._rows(bounded, {**params, "zeta_lookup": f"{self.cfg.table}_trace_id_ts"})
        if not rows and wanted:  # no lookup table, or it lags behind the spans
            rows = await self._rows(base + tail, params)
        if not rows:
            raise TraceNotFound(
                f"no trace {wanted or trace_id!r} in {self.cfg.database}.{self.cfg.table}",
                where=self.url,
                hint="it may be older than the table keeps, or not sampled",
            )
        warnings = (
            (f"the trace has more than {MAX_SPANS} spans; the first {MAX_SPANS} are shown",)
            if len(rows) >= MAX_SPANS
            else ()
        )
        return Trace(wanted, tuple(span_of(r) for r in rows), warnings)

    async def _lookup_exists(self) -> bool:
        if self._has_lookup is None:
            rows = await self._rows(
                "SELECT count() FROM system.tables WHERE database = {zeta_db:String} AND name = {name:String}",
                {"name": f"{self.cfg.table}_trace_id_ts"},
            )
            self._has_lookup = bool(rows) and int(rows[0][0]) > 0
        return self._has_lookup

    async def check(self) -> tuple[BuildInfo, float]:
        started = time.perf_counter()
        rows = await self._rows("SELECT version()", {})
        return BuildInfo(
            str(rows[0][0]) if rows else "", flavour="chdb" if self.embedded else "clickhouse"
        ), time.perf_counter() - started

    async def aclose(self) -> None:
        await self._engine.aclose()


def id_forms(trace_id: str) -> tuple[str, str]:
    """The forms a table may hold an id in: a 64-bit id as 16 digits and zero-padded to 32."""
    if len(trace_id) == 16:
        return trace_id, trace_id.rjust(32, "0")
    if len(trace_id) == 32 and trace_id.startswith("0" * 16):
        return trace_id, trace_id[16:]
    return trace_id, trace_id


def search_sql(query: TraceQuery, json_columns: frozenset[str] = frozenset()) -> tuple[str, dict[str, Any]]:
    """The search's SELECT and its parameters (see the module docstring for what matches);
    ``json_columns``: the attribute columns typed JSON in this table."""
    frm, to = int(query.time_range.start * 1e9), int(query.time_range.end * 1e9)
    params: dict[str, Any] = {
        "zeta_from": frm,
        "zeta_to": to,
        "zeta_pad_from": frm - PAD_SECONDS * 10**9,
        "zeta_pad_to": to + PAD_SECONDS * 10**9,
        "zeta_limit": max(1, int(query.limit)),
    }
    in_range = (
        "Timestamp >= fromUnixTimestamp64Nano({zeta_from:Int64}) AND Timestamp <= "
        "fromUnixTimestamp64Nano({zeta_to:Int64})"
    )
    conds = []
    if query.service:
        conds.append("ServiceName = {service:String}")
        params["service"] = query.service
    if query.operation:
        conds.append("SpanName = {operation:String}")
        params["operation"] = query.operation
    for i, (key, value) in enumerate(sorted(query.tags.items())):
        k, v = f"{{tag_k{i}:String}}", f"{{tag_v{i}:String}}"
        either = [
            f"({attrs.has(col, k, col in json_columns)} AND {attrs.value(col, k, col in json_columns)} = {v})"
            for col in ("SpanAttributes", "ResourceAttributes")
        ]
        conds.append(f"({' OR '.join(either)})")
        params[f"tag_k{i}"], params[f"tag_v{i}"] = key, str(value)
    if query.min_duration_ns is not None:
        conds.append("Duration >= {min_ns:UInt64}")
        params["min_ns"] = int(query.min_duration_ns)
    if query.max_duration_ns is not None:
        conds.append("Duration <= {max_ns:UInt64}")
        params["max_ns"] = int(query.max_duration_ns)
    where = [
        "Timestamp >= fromUnixTimestamp64Nano({zeta_pad_from:Int64})",
        "Timestamp <= fromUnixTimestamp64Nano({zeta_pad_to:Int64})",
    ]
    having = []
    if conds:  # selective: the matching spans' traces first (the sort key starts with ServiceName, SpanName)
        where.append(f"TraceId IN (SELECT TraceId FROM {_TABLE} WHERE {in_range} AND {' AND '.join(conds)})")
    else:
        having.append(f"countIf({in_range}) > 0")
    error = _error(json_columns)
    if query.errors_only:
        having.append(f"countIf({error}) > 0")
    sql = (
        "SELECT TraceId, argMin(ServiceName, (ParentSpanId != '', Timestamp)), "
        "argMin(SpanName, (ParentSpanId != '', Timestamp)), min(toUnixTimestamp64Nano(Timestamp)) AS zeta_start, "
        "max(toUnixTimestamp64Nano(Timestamp) + Duration) - zeta_start, count(), "
        f"arrayDistinct(arrayMap(x -> x.2, arraySort(groupArray((Timestamp, ServiceName))))), countIf({error}) "
        f"FROM {_TABLE} WHERE {' AND '.join(where)} GROUP BY TraceId "
        + (f"HAVING {' AND '.join(having)} " if having else "")
        + "ORDER BY zeta_start DESC, TraceId DESC LIMIT {zeta_limit:UInt32}"
    )
    return sql, params


def _kind(text: str) -> str:
    k = str(text or "").lower().removeprefix("span_kind_")
    return "" if k in ("", "unspecified") else k


def _status(text: str) -> str:
    s = str(text or "").lower().removeprefix("status_code_")
    return s if s in ("ok", "error") else "unset"


def span_of(row: list[Any]) -> Span:
    """A Span from a row of ``span_columns()``."""
    (
        tid,
        sid,
        parent,
        name,
        service,
        start,
        duration,
        kind,
        status,
        message,
        attributes,
        resource,
        event_times,
        event_names,
        event_attributes,
        link_traces,
        link_spans,
        link_attributes,
    ) = row
    return Span(
        trace_id=normalise_id(tid),
        span_id=normalise_id(sid),
        parent_id=normalise_id(parent),
        name=str(name),
        service=str(service),
        start_ns=int(start),
        duration_ns=int(duration),
        kind=_kind(kind),
        status=_status(status),
        status_message=str(message or ""),
        attributes=attrs.attributes(attributes),
        resource=attrs.attributes(resource),
        events=tuple(
            SpanEvent(int(t), str(n), attrs.attributes(a))
            for t, n, a in zip(event_times, event_names, event_attributes)
        ),
        links=tuple(
            SpanLink(normalise_id(t), normalise_id(s), "link", attrs.attributes(a))
            for t, s, a in zip(link_traces, link_spans, link_attributes)
        ),
    )
