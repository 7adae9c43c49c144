"""`zeta sql`: read-only SQL or a named catalog query on the context's ClickHouse, printed.

    zeta sql "SELECT tenant_id, count() FROM api_usage GROUP BY tenant_id"
    zeta sql --name top_tenants --param days=30 --param limit=5 --format csv
    zeta sql "SELECT count() FROM api_usage WHERE tenant_id = {t:String}" --param t=tenant_007
    zeta sql --list

The result goes to stdout (an aligned table, CSV with a header, or JSON lines, one object a
row); what it cost (rows, time, rows read), whether the row cap cut it, and for a named query
read without zeta's rollup where its figures came from go to stderr, so a pipe gets only data.
Ad-hoc SQL's ``{name:Type}`` placeholders take ``--param name=value`` (sent as server-side
parameters, never pasted into the SQL).

Exit status: 0 done (also when the row cap cut the answer: stderr says so); 1 ClickHouse
refused the query (its own message), the SQL writes (refused, naming the statement: the
console is read-only), the answer is over ``max_response_bytes`` (the read stops there: nothing
is printed, the error says how to ask for less), the query was cancelled, or the server could
not be reached or did not answer within ``timeout_seconds``; 2 a configuration error or a bad
parameter (a missing or mistyped one is named, with its type).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import orjson

from zeta_tui.errors import ConfigError, ParamError
from zeta_tui.models.analytics import is_numeric_type, query_cost_text


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``["days=7", "tenant=a=b"]`` -> ``{"days": "7", "tenant": "a=b"}``; ParamError for a
    malformed or repeated one."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError(f"--param {item!r} is not KEY=VALUE", hint="e.g. --param days=7 --param tenant=tenant_001")
        if key in params:
            raise ParamError(f"--param {key} is given twice", hint="give each parameter once")
        params[key] = value
    return params


def list_catalog() -> str:
    """Every named query: name, description, then its parameters (type, default, what for)."""
    from zeta_tui.querying.sql_catalog import load_catalog

    blocks = []
    for name, q in sorted(load_catalog().items()):
        lines = [f"{name}: {q.description}"]
        width = max((len(p.signature()) for p in q.params), default=0)
        for p in q.params:
            lines.append(f"    {p.signature().ljust(width)}  {p.description}".rstrip())
        if not q.params:
            lines.append("    (no parameters)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def cell(value: Any) -> str:
    """A value as text for the table and CSV: NULL empty in CSV, dates ISO, floats without noise."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".10g") if value == value else "nan"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return orjson.dumps(_jsonable(value)).decode()
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)  # Int128/UInt256 do not fit JSON numbers readers can take
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_result(result: Any, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        for record in result.records():
            out.write(orjson.dumps(_jsonable(record), default=str).decode() + "\n")
        return
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([cell(v) for v in row] for row in result.rows)
        return
    from zeta_tui.headless.table import format_table

    numeric = tuple(i for i, t in enumerate(result.types) if is_numeric_type(t))
    rows = [["NULL" if v is None else cell(v) for v in row] for row in result.rows]
    if result.columns:
        out.write(format_table(list(result.columns), rows, right=numeric) + "\n")


def summary(result: Any, cap: int) -> str:
    """What the query cost, for stderr: rows, time, rows and bytes read; the cut if any."""
    text = query_cost_text(len(result.rows), result.elapsed_s, result.rows_read, result.bytes_read)
    if result.truncated:
        text += (
            f"; cut at {cap:,} rows (max_rows): add a LIMIT or aggregate, "
            "or pass --max-rows / raise clickhouse.max_rows"
        )
    return text


def require_clickhouse(loaded: Any, more_hint: str = "") -> Any:
    """The loaded context's ClickHouse config, or the ConfigError saying what to add (exit 2)."""
    cfg = loaded.context.clickhouse
    if cfg is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [clickhouse] section",
            where=str(loaded.path),
            hint=(
                f'add [contexts.{loaded.name}.clickhouse] with url = "https://clickhouse:8443" or path = '
                '"/path/to/store"'
            )
            + more_hint,
        )
    return cfg


def run_sql(args: argparse.Namespace) -> int:
    if args.list:
        if args.sql or args.name:
            raise ConfigError("--list lists the named queries; give it alone", hint="zeta sql --list")
        try:
            print(list_catalog())
            sys.stdout.flush()
        except BrokenPipeError:
            pass  # `zeta sql --list | head`
        return 0
    if bool(args.sql) == bool(args.name):
        raise ConfigError(
            "give the SQL to run or --name QUERY, one of them",
            hint=(
                'zeta sql "SELECT count() FROM api_usage", or zeta sql --name top_tenants (zeta sql --list shows them)'
            ),
        )
    if args.max_rows is not None and args.max_rows < 1:
        raise ConfigError("--max-rows must be 1 or more")
    params = parse_params(args.param)
    if args.name:
        # Bind before reading the config: a bad parameter is named even without a context.
        from zeta_tui.querying.sql_catalog import bind, find_query

        query = find_query(args.name)
        bind(query, params, today=date.today())

    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.config.loader import load_context

    loaded = load_context(args.config, args.context)
    cfg = require_clickhouse(loaded, ", or pass --context")
    cap = cfg.max_rows if args.max_rows is None else min(args.max_rows, cfg.max_rows)

    async def main() -> Any:
        source = AnalyticsSource(cfg)
        try:
            if args.name:
                return await source.named(args.name, params, max_rows=cap)
            return await source.query(args.sql, params, max_rows=cap)
        finally:
            await source.close()

    result = asyncio.run(main())
    try:
        write_result(result, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        return 0  # `zeta sql ... | head`
    print(summary(result, cap), file=sys.stderr)
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    return 0
