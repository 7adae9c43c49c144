"""Log query AST -> ClickHouse SQL over the OpenTelemetry ``otel_logs`` table.

User text is never spliced into SQL. Every value and every attribute key the user typed goes
through a server-side parameter (``{p0:String}``); only fixed column names, functions and
operators are literal. The SQL text is therefore a function of the query's *shape* alone.

Public API::

    to_clickhouse(query, now, table="otel_logs", resource_attributes=False) -> (where_sql, params)
    sql_select(query, time_range_start_ns, time_range_end_ns, limit, newest_first=True,
               table="otel_logs", now=None, prune_column="TimestampTime") -> (sql, params)

    escape_parameters(params) -> params as ClickHouse's escaped text, for chdb and the HTTP interface

``params`` maps parameter names (``p0``, ``p1``..., and for sql_select ``start_ns``, ``end_ns``,
``limit``) to Python values; pass them as server-side parameters. chdb
(``Session.query(sql, fmt, params=...)``) and the HTTP interface (``param_<name>``) hand them to
the server as they are, and the server reads a parameter in its escaped text form (a backslash
starts an escape), so pass ``escape_parameters(params)`` (clickhouse_http.parameter_text does).

Column mapping (otel_logs): timestamp -> Timestamp, level -> SeverityText (case-insensitive),
service -> ServiceName, message and bare words -> Body (case-insensitive substring), trace_id ->
TraceId, span_id -> SpanId, anything else -> ``LogAttributes[key]``, where the seed's JSON fields
live as strings; numeric comparisons therefore cast with ``toFloat64OrNull``. With
``resource_attributes=True`` (the table has the column, as every OpenTelemetry exporter's does)
a key missing from ``LogAttributes`` is looked up in ``ResourceAttributes``, where collectors put
``k8s.namespace.name``, ``host.name``, ``deployment.environment`` and the like; the record's own
attribute wins when both have the key. ``json_columns`` names the attribute columns typed JSON
(the exporter's JSON variant): those are read by path, not as maps (querying/otel_attributes.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from zeta_tui.errors import QueryError
from zeta_tui.querying import otel_attributes as attrs

from .ast import (
    LEVEL_FIELD,
    MESSAGE_FIELD,
    TIME_FIELD,
    And,
    Exists,
    LogQuery,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    is_numeric,
)
from .timeexpr import resolve_time

_COLUMNS = {
    TIME_FIELD: "Timestamp",
    LEVEL_FIELD: "SeverityText",
    "service": "ServiceName",
    MESSAGE_FIELD: "Body",
    "trace_id": "TraceId",
    "span_id": "SpanId",
}
_SELECT_COLUMNS = "Timestamp, SeverityText, ServiceName, Body, TraceId, SpanId"
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_clickhouse(
    query: LogQuery,
    now: datetime,
    table: str = "otel_logs",
    *,
    resource_attributes: bool = False,
    json_columns: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any]]:
    """A WHERE condition (without the keyword) for ``query`` and its parameters.

    ``table`` is accepted for symmetry with sql_select; the condition names only columns.
    ``resource_attributes``: fall back to ``ResourceAttributes`` for keys a record's
    ``LogAttributes`` lacks (only for tables that have that column). ``json_columns``: which of
    LogAttributes / ResourceAttributes are typed JSON.
    """
    _quoted_table(table)
    translator = _Translator(now, resource_attributes, json_columns)
    return translator.node(query.root, top=True), translator.params


def sql_select(
    query: LogQuery,
    time_range_start_ns: int,
    time_range_end_ns: int,
    limit: int,
    newest_first: bool = True,
    table: str = "otel_logs",
    now: datetime | None = None,
    prune_column: str | None = "TimestampTime",
    json_columns: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, Any]]:
    """A full SELECT of the records matching ``query`` in [start_ns, end_ns], at most ``limit``.

    Columns: Timestamp, SeverityText, ServiceName, Body, TraceId, SpanId, LogAttributes,
    ResourceAttributes. ``now`` resolves relative times in the query (default: the end of the
    range). ``prune_column`` is the seconds column the table is partitioned and ordered by
    (TimestampTime in the current otel schema); bounding it too lets ClickHouse skip whole
    partitions. Pass None for older schemas without it. ``json_columns``: as for to_clickhouse;
    a JSON column is selected as its JSON text.
    """
    if now is None:
        now = datetime.fromtimestamp(time_range_end_ns // 1_000_000_000, tz=UTC)
    where, params = to_clickhouse(query, now, table, resource_attributes=True, json_columns=json_columns)
    bounds = [
        "Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})",
        "Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})",
    ]
    if prune_column is not None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prune_column):
            raise QueryError(f"{prune_column!r} is not a column name", where="log query")
        # Whole seconds, rounded outward so the nanosecond bounds above stay the real filter.
        bounds += [
            f"{prune_column} >= toDateTime(intDiv({{start_ns:Int64}}, 1000000000))",
            f"{prune_column} <= toDateTime(intDiv({{end_ns:Int64}}, 1000000000) + 1)",
        ]
    order = "DESC" if newest_first else "ASC"
    sql = (
        f"SELECT {_SELECT_COLUMNS}, {attrs.read('LogAttributes', 'LogAttributes' in json_columns)}, "
        f"{attrs.read('ResourceAttributes', 'ResourceAttributes' in json_columns)} FROM {_quoted_table(table)} "
        f"WHERE {' AND '.join(bounds)} AND ({where}) "
        f"ORDER BY Timestamp {order} LIMIT {{limit:UInt32}}"
    )
    params.update(start_ns=int(time_range_start_ns), end_ns=int(time_range_end_ns), limit=int(limit))
    return sql, params


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"})


def escape_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with strings in ClickHouse's escaped text form, as chdb needs them.

    Without this a value with a backslash is refused ("Cannot parse escape sequence") or, worse,
    read as a different string. Numbers pass through.
    """
    return {name: value.translate(_ESCAPES) if isinstance(value, str) else value for name, value in params.items()}


def _quoted_table(table: str) -> str:
    # The table comes from configuration, not the query, but it is still checked: it is the one
    # identifier that cannot be a parameter in a FROM clause of every server version.
    if not _TABLE_NAME.fullmatch(table):
        raise QueryError(
            f"{table!r} is not a table name", hint="use name or database.name (letters, digits, _)", where="log query"
        )
    return ".".join(f"`{part}`" for part in table.split("."))


class _Translator:
    def __init__(
        self, now: datetime, resource_attributes: bool = False, json_columns: frozenset[str] = frozenset()
    ) -> None:
        self.now = now
        self.resource_attributes = resource_attributes
        self.json = json_columns
        self.params: dict[str, Any] = {}
        self.keys: dict[str, str] = {}  # attribute key -> its parameter, so a key is sent once

    def param(self, value: Any, kind: str = "String") -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{kind}}}"

    def key(self, field: str) -> str:
        """The parameter holding attribute key ``field`` (one per key)."""
        if field not in self.keys:
            self.keys[field] = self.param(field)
        return self.keys[field]

    def column(self, field: str | None) -> str:
        field = field or MESSAGE_FIELD
        if field in _COLUMNS:
            return _COLUMNS[field]
        key = self.key(field)
        own = attrs.value("LogAttributes", key, "LogAttributes" in self.json)
        if self.resource_attributes:
            has = attrs.has("LogAttributes", key, "LogAttributes" in self.json)
            return f"if({has}, {own}, {attrs.value('ResourceAttributes', key, 'ResourceAttributes' in self.json)})"
        return own

    def has(self, column: str, key: str) -> str:
        return attrs.has(column, key, column in self.json)

    def node(self, node: Node, top: bool = False) -> str:
        if isinstance(node, MatchAll):
            return "1"
        if isinstance(node, (And, Or)):
            joiner = " AND " if isinstance(node, And) else " OR "
            text = joiner.join(self.node(i) for i in node.items)
            return text if top else f"({text})"
        if isinstance(node, Not):
            return f"NOT {self.node(node.item)}"
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.text(node.field, node.text)
        if isinstance(node, Exists):
            if node.field in _COLUMNS:
                return "1" if node.field == TIME_FIELD else f"{self.column(node.field)} != ''"
            key = self.key(node.field)
            if self.resource_attributes:
                return f"({self.has('LogAttributes', key)} OR {self.has('ResourceAttributes', key)})"
            return self.has("LogAttributes", key)
        if isinstance(node, Range):
            return self.range(node)
        raise QueryError(f"{type(node).__name__} has no ClickHouse translation", where="log query")

    def term(self, node: Term) -> str:
        if not node.wildcard:
            return self.text(node.field, node.value)
        like = _like(node.value)
        if node.field in (None, MESSAGE_FIELD):
            # A wildcard in the message matches anywhere in it, like the plain words do.
            return f"Body ILIKE {self.param('%' + like.strip('%') + '%')}"
        operator = "ILIKE" if node.field == LEVEL_FIELD else "LIKE"
        return f"{self.column(node.field)} {operator} {self.param(like)}"

    def text(self, field: str | None, value: str) -> str:
        if field in (None, MESSAGE_FIELD):
            return f"positionCaseInsensitiveUTF8(Body, {self.param(value)}) > 0"
        if field == LEVEL_FIELD:
            return f"upperUTF8(SeverityText) = upperUTF8({self.param(value)})"
        return f"{self.column(field)} = {self.param(value)}"

    def range(self, node: Range) -> str:
        convert: Callable[[str], object]
        if node.field == TIME_FIELD:
            column, kind = "Timestamp", "Int64"
            convert = lambda v: _nanos(resolve_time(v, self.now))  # noqa: E731
            wrap = "fromUnixTimestamp64Nano({})"
        elif is_numeric(node.low) and is_numeric(node.high):
            # Attributes are strings; a value that is not a number never matches a comparison.
            column, kind = f"toFloat64OrNull({self.column(node.field)})", "Float64"
            convert, wrap = float, "{}"
        else:
            column, kind, convert, wrap = self.column(node.field), "String", str, "{}"
        checks = []
        if node.low is not None:
            checks.append(
                f"{column} {'>=' if node.include_low else '>'} {wrap.format(self.param(convert(node.low), kind))}"
            )
        if node.high is not None:
            checks.append(
                f"{column} {'<=' if node.include_high else '<'} {wrap.format(self.param(convert(node.high), kind))}"
            )
        condition = " AND ".join(checks)
        if node.field == TIME_FIELD:
            return condition if len(checks) == 1 else f"({condition})"
        # ifNull: a missing or non-numeric attribute compares as NULL; make it plain false so that
        # NOT latency_ms:>1000 keeps records without a latency, as Elasticsearch does.
        return f"ifNull({condition}, 0)"


def _nanos(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _like(glob: str) -> str:
    """A glob (``*``, ``?``, backslash escapes) as a LIKE pattern with % and _ escaped."""
    out = []
    chars = iter(glob)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append("\\" + char if char in "%_\\" else char)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
