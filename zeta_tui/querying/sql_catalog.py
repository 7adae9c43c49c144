"""Named ClickHouse queries from queries/clickhouse/catalog/*.sql, with typed parameters.

A file looks like::

    -- Top tenants by requests over a window of days
    -- param days UInt16 = 7          : window length in days
    -- param until Date = today       : last day of the window (inclusive)
    -- param tenant String = ''       : one tenant, or '' for all
    SELECT ... WHERE date > {until:Date} - {days:UInt16} AND date <= {until:Date} ...

The first comment line is the description; each ``-- param NAME TYPE [= DEFAULT] : TEXT`` line
declares a parameter (no default: the caller must give it). A default is a bare word, a quoted
string, or one of the clock words ``today`` and ``month_start``, resolved at bind time from the
caller's date (so a frozen clock in tests works). The SQL uses the parameters only as
``{name:Type}`` server-side placeholders, with the declared type; the catalog is checked when it
loads, and a malformed file is a ConfigError naming the file and line.

``bind`` turns raw values (strings from a command line, or Python values from a screen) into
typed Python values, filling defaults; anything missing, unknown or not of its type is a
ParamError that names the parameter and the expected type. Values never become SQL text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from zeta_tui.errors import ConfigError, ParamError
from zeta_tui.resources import shipped_dir

#: the clock words a Date default (or a Date value) may be
CLOCK_WORDS = ("today", "month_start")

_INT_RANGES = {
    "UInt8": (0, 2**8 - 1),
    "UInt16": (0, 2**16 - 1),
    "UInt32": (0, 2**32 - 1),
    "UInt64": (0, 2**64 - 1),
    "Int8": (-(2**7), 2**7 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "Int64": (-(2**63), 2**63 - 1),
}
TYPES = (*_INT_RANGES, "Float32", "Float64", "String", "Date", "DateTime")

_PARAM_LINE = re.compile(
    r"--\s*param\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>[A-Za-z0-9]+)"
    r"(?:\s*=\s*(?P<default>'(?:[^'\\]|\\.)*'|[^\s:]+))?\s*(?::\s*(?P<text>.*))?$"
)
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+?)\s*\}")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class QueryParam:
    """One declared parameter: ``default`` is the file's text (None: required)."""

    name: str
    type: str
    default: str | None
    description: str

    @property
    def required(self) -> bool:
        return self.default is None

    def signature(self) -> str:
        """``days UInt16 = 7`` / ``tenant String (required)``, for listings."""
        return f"{self.name} {self.type}" + (" (required)" if self.default is None else f" = {_shown(self.default)}")


@dataclass(frozen=True)
class NamedQuery:
    """One catalog query: its name (the file's stem), description, SQL and parameters."""

    name: str
    description: str
    sql: str
    params: tuple[QueryParam, ...]

    def param(self, name: str) -> QueryParam | None:
        return next((p for p in self.params if p.name == name), None)


def _shown(default: str) -> str:
    return "''" if default == "" else default


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def parse_query(name: str, text: str, where: str) -> NamedQuery:
    """One catalog file's query; ConfigError naming ``where`` and the line when malformed."""
    lines = text.splitlines()
    description = ""
    params: list[QueryParam] = []
    body_start = len(lines)
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            body_start = number - 1
            break
        if re.match(r"--\s*param\b", stripped):
            m = _PARAM_LINE.fullmatch(stripped)
            if m is None:
                raise ConfigError(
                    f"line {number}: cannot read this parameter line: {stripped}",
                    where=where,
                    hint="write it as `-- param NAME TYPE [= DEFAULT] : description`",
                )
            ptype = m["type"]
            if ptype not in TYPES:
                raise ConfigError(
                    f"line {number}: parameter {m['name']!r} has type {ptype!r}, which the catalog does not bind",
                    where=where,
                    hint=f"use one of {', '.join(TYPES)}",
                )
            if any(p.name == m["name"] for p in params):
                raise ConfigError(f"line {number}: parameter {m['name']!r} is declared twice", where=where)
            default = None if m["default"] is None else _unquote(m["default"])
            param = QueryParam(m["name"], ptype, default, (m["text"] or "").strip())
            if default is not None:
                try:
                    convert(param, default, today=date(2000, 1, 31), query=name)
                except ParamError as exc:
                    raise ConfigError(
                        f"line {number}: the default of {param.name!r} is not a {ptype}: {exc.message}", where=where
                    ) from None
            params.append(param)
        elif not description:
            description = stripped.lstrip("-").strip()
    sql = "\n".join(lines[body_start:]).strip()
    if not sql:
        raise ConfigError("the file has no SQL after its comment lines", where=where)
    declared = {p.name: p for p in params}
    used: set[str] = set()
    for m in _PLACEHOLDER.finditer(sql):
        pname, ptype = m.group(1), m.group(2)
        number = body_start + sql[: m.start()].count("\n") + 1
        if pname not in declared:
            raise ConfigError(
                f"line {number}: {{{pname}:{ptype}}} is not declared",
                where=where,
                hint=f"add `-- param {pname} {ptype} : ...` to the header",
            )
        if ptype != declared[pname].type:
            raise ConfigError(
                f"line {number}: {{{pname}:{ptype}}} but the header declares {pname} {declared[pname].type}",
                where=where,
            )
        used.add(pname)
    unused = [p for p in declared if p not in used]
    if unused:
        raise ConfigError(f"parameter(s) {', '.join(unused)} declared but never used in the SQL", where=where)
    return NamedQuery(name, description, sql, tuple(params))


def schema_sql() -> str:
    """queries/clickhouse/schema.sql as shipped: api_usage (the seed's), cost_data, tenants
    (``{database:Identifier}``)."""
    return (shipped_dir("queries") / "clickhouse" / "schema.sql").read_text(encoding="utf-8")


def rollup_sql() -> str:
    """queries/clickhouse/rollup.sql as shipped: zeta's exact rollup beside api_usage (see the file
    for its parameters)."""
    return (shipped_dir("queries") / "clickhouse" / "rollup.sql").read_text(encoding="utf-8")


def statements(text: str) -> list[str]:
    """The statements of a schema file in order, each without its comment lines (they end in ';' at a line end)."""
    out = []
    for part in re.split(r";[ \t]*$", text, flags=re.M):
        body = "\n".join(line for line in part.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            out.append(body)
    return out


def schema_statements() -> list[str]:
    """schema.sql's statements in order (one parameter: ``{database:Identifier}``)."""
    return statements(schema_sql())


def rollup_statements() -> list[str]:
    """rollup.sql's statements in order (parameters: ``rollup_params``)."""
    return statements(rollup_sql())


def quote_identifier(name: str) -> str:
    """``name`` as it reads in SQL: bare when it is a plain word, else in backquotes (escaped)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def rollup_params(database: str, columns: Mapping[str, str], cutoff: int) -> dict[str, object]:
    """rollup.sql's parameters: the database, the view's cutoff (unix seconds: no time zone to get wrong), and
    api_usage's column names (``columns`` renames some)."""
    from zeta_tui.config.models import USAGE_COLUMNS

    return {
        "database": database,
        "cutoff": cutoff,
        **{f"col_{name}": columns.get(name, name) for name in USAGE_COLUMNS},
    }


def catalog_dir() -> Path:
    """The shipped queries/clickhouse/catalog folder."""
    return shipped_dir("queries") / "clickhouse" / "catalog"


@cache
def load_catalog() -> dict[str, NamedQuery]:
    """Every shipped named query by name (read once per process)."""
    folder = catalog_dir()
    catalog: dict[str, NamedQuery] = {}
    for path in sorted(folder.glob("*.sql")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the query file: {exc}", where=str(path)) from None
        catalog[path.stem] = parse_query(path.stem, text, str(path))
    return catalog


def find_query(name: str) -> NamedQuery:
    """The named query, or a ParamError listing the names there are."""
    catalog = load_catalog()
    if name not in catalog:
        import difflib

        close = difflib.get_close_matches(name, list(catalog), n=1)
        maybe = f"; did you mean {close[0]!r}?" if close else ""
        raise ParamError(
            f"no named query {name!r}{maybe}",
            where=str(catalog_dir()),
            hint=f"one of: {', '.join(sorted(catalog))} (`zeta sql --list` shows their parameters)",
        )
    return catalog[name]


def _expect(param: QueryParam) -> str:
    kinds = {
        "String": "text",
        "Date": "a date YYYY-MM-DD, today or month_start",
        "DateTime": "a date and time YYYY-MM-DD HH:MM:SS",
        "Float32": "a number",
        "Float64": "a number",
    }
    if param.type in _INT_RANGES:
        lo, hi = _INT_RANGES[param.type]
        return f"{param.type} (a whole number from {lo} to {hi})"
    return f"{param.type} ({kinds[param.type]})"


def _mistyped(param: QueryParam, value: object, query: str) -> ParamError:
    shown = repr(value) if not isinstance(value, str) else repr(value[:80])
    return ParamError(
        f"parameter {param.name!r} of {query} must be {_expect(param)}, got {shown}",
        where=query,
        hint=f"{param.name}: {param.description}" if param.description else "",
    )


def convert(param: QueryParam, value: object, *, today: date, query: str) -> object:
    """``value`` (a string or a Python value) as the Python value of ``param.type``."""
    t = param.type
    if t == "String":
        if isinstance(value, str):
            return value
        raise _mistyped(param, value, query)
    if t in _INT_RANGES:
        if isinstance(value, bool):
            raise _mistyped(param, value, query)
        if isinstance(value, str):
            if not _INTEGER.fullmatch(value.strip()):
                raise _mistyped(param, value, query)
            number = int(value.strip())
        elif isinstance(value, int):
            number = value
        else:
            raise _mistyped(param, value, query)
        lo, hi = _INT_RANGES[t]
        if not lo <= number <= hi:
            raise _mistyped(param, value, query)
        return number
    if t in ("Float32", "Float64"):
        if isinstance(value, bool):
            raise _mistyped(param, value, query)
        real: float | None
        try:
            real = (
                float(value.strip())
                if isinstance(value, str)
                else float(value)
                if isinstance(value, (int, float))
                else None
            )
        except ValueError:
            real = None
        if real is None or not math.isfinite(real):
            raise _mistyped(param, value, query)
        return real
    if t == "Date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            word = value.strip()
            if word == "today":
                return today
            if word == "month_start":
                return today.replace(day=1)
            try:
                return date.fromisoformat(word)
            except ValueError:
                pass
        raise _mistyped(param, value, query)
    # DateTime
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).replace(microsecond=0)
        except ValueError:
            pass
    raise _mistyped(param, value, query)


def bind(query: NamedQuery, raw: Mapping[str, object], *, today: date) -> dict[str, object]:
    """Every parameter of ``query`` as a typed value: ``raw`` converted, defaults filled in.

    ParamError names an unknown parameter (with the known ones), a missing required one, or a
    value that is not of its type (with the type expected).
    """
    known = {p.name for p in query.params}
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        listed = ", ".join(p.signature() for p in query.params) or "none"
        raise ParamError(
            f"{query.name} has no parameter {', '.join(repr(u) for u in unknown)}",
            where=query.name,
            hint=f"its parameters: {listed}",
        )
    bound: dict[str, object] = {}
    for param in query.params:
        if param.name in raw and raw[param.name] is not None:
            bound[param.name] = convert(param, raw[param.name], today=today, query=query.name)
        elif param.default is None:
            raise ParamError(
                f"{query.name} needs parameter {param.name!r} ({_expect(param)})",
                where=query.name,
                hint=f"pass --param {param.name}=VALUE" + (f"; {param.description}" if param.description else ""),
            )
        else:
            bound[param.name] = convert(param, param.default, today=today, query=query.name)
    return bound


__all__ = [
    "CLOCK_WORDS",
    "TYPES",
    "NamedQuery",
    "QueryParam",
    "bind",
    "catalog_dir",
    "convert",
    "find_query",
    "load_catalog",
    "parse_query",
    "quote_identifier",
    "rollup_params",
    "rollup_sql",
    "rollup_statements",
    "schema_sql",
    "schema_statements",
    "statements",
]
