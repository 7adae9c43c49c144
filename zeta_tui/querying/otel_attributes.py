"""The attribute columns of the OpenTelemetry collector's ClickHouse tables, in both variants.

The exporter's default tables hold attributes as ``Map(LowCardinality(String), String)``
(``SpanAttributes``, ``ResourceAttributes``, ``LogAttributes``, the ``Events``/``Links``
``Attributes``). Its JSON variant (``traces_json_table.sql``, ``logs_json_table.sql``) types
them ``JSON``, and ClickHouse's JSON type splits a key on its dots into a path: an attribute
``http.method`` is stored as ``{"http": {"method": ...}}`` and comes back nested, and
``mapContains`` on the column fails with code 43 (``mapContainsKey requires ... Map``).

So each source learns the column types once (``detect_sql``) and asks each variant in its own
terms, always with the key as a ``{name:String}`` parameter:

- Map: ``mapContains(col, k)`` and ``col[k]``;
- JSON: ``NOT isNull(getSubcolumn(col, k))`` and ``toString(getSubcolumn(col, k))``: the
  dotted key is the path, read as its own sub-column (no whole-object serialisation per row);
  a number or a boolean reads as its text (``200``, ``true``), as the Map variant holds it.
  Checked on chdb (ClickHouse 26.9): a query parameter is a constant for ``getSubcolumn``.

Reading a whole JSON column, ``toJSONString(col)`` gives the nested object; ``attributes()``
flattens it back to the dotted keys (a key written with ``json_type_escape_dots_in_keys``
comes back with ``%2E`` for its dots, undone too). Values keep their JSON types.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

#: the columns whose type is learnt, per table kind
TRACE_ATTRIBUTE_COLUMNS = ("SpanAttributes", "ResourceAttributes", "Events.Attributes", "Links.Attributes")
LOG_ATTRIBUTE_COLUMNS = ("LogAttributes", "ResourceAttributes")


def detect_sql(columns: Iterable[str]) -> str:
    """SELECT name, type of ``columns`` (fixed names, not user text) of table {d}.{t} (parameters)."""
    names = ", ".join(f"'{c}'" for c in columns)
    return (
        "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = {t:String} AND name "
        f"IN ({names})"
    )


def json_typed(rows: Iterable[Iterable[Any]]) -> frozenset[str]:
    """The names among ``(name, type)`` rows whose type is JSON (or an array of it)."""
    out = set()
    for name, ctype in rows:
        base = str(ctype).removeprefix("Array(")
        if base.startswith("JSON"):
            out.add(str(name))
    return frozenset(out)


def read(column: str, json: bool) -> str:
    """The column, as SELECT reads it: a JSON column as its JSON text."""
    return f"toJSONString({column})" if json else column


def read_each(column: str, json: bool) -> str:
    """An array column (``Events.Attributes``), each JSON element as its JSON text."""
    return f"arrayMap(zeta_a -> toJSONString(zeta_a), {column})" if json else column


def has(column: str, key: str, json: bool) -> str:
    """SQL true when the row's ``column`` has the attribute whose key parameter is ``key``."""
    return f"NOT isNull(getSubcolumn({column}, {key}))" if json else f"mapContains({column}, {key})"


def value(column: str, key: str, json: bool) -> str:
    """The attribute's value as a String ('' when absent), ``key`` a parameter."""
    return f"toString(getSubcolumn({column}, {key}))" if json else f"{column}[{key}]"


def attributes(raw: Any) -> dict[str, Any]:
    """A row's attributes as a flat dict with dotted keys: a Map comes as a dict already; JSON
    text (``read``) or a nested dict is flattened."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (str, bytes)):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
    elif isinstance(raw, dict) and not any(isinstance(v, dict) for v in raw.values()):
        return dict(raw)  # a Map: flat already, its keys as written
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    _flatten(raw, "", out)
    return out


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in obj.items():
        name = prefix + str(key).replace("%2E", ".")
        if isinstance(item, dict) and item:
            _flatten(item, name + ".", out)
        else:
            out[name] = item
