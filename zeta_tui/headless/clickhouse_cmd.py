"""`zeta clickhouse schema | init`: the analytics schema (queries/clickhouse/schema.sql).

- ``schema [--database NAME]``: prints schema.sql with the database filled in (the context's
  ``clickhouse.database``, or ``--database``), ready for clickhouse-client or a migration.
- ``init [--yes]``: creates the database (if missing) and the tables on the context's
  ClickHouse (a server, or an embedded store, created if need be). Every statement is
  ``IF NOT EXISTS``: existing tables are left as they are. Refused in a read-only context
  (a production context is read-only unless it says ``read_only = false``), and asked first:
  y/N on a terminal, ``--yes`` to skip, refused with no terminal and no ``--yes``.

This is the one write Zeta makes to ClickHouse, through its own engine method with write
access (ClickHouseEngine.execute_ddl); the query path stays read-only.

Exit status: 0 done; 1 refused (read-only context), declined at the question, or ClickHouse
refused / could not be reached; 2 configuration error, or no terminal to confirm on and no --yes.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any

from zeta_tui.errors import ZetaError

TABLES = ("api_usage", "api_usage_daily", "api_usage_daily_mv", "cost_data", "tenants")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta clickhouse schema|init` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "clickhouse", parents=[common], help="print or create the analytics schema (api_usage, rollup, cost, tenants)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="init is refused in read-only contexts and confirmed first (y/N on a terminal; --yes skips the question;\n"
               "with no terminal and no --yes it is refused).\n"
               "exit status: 0 done, 1 refused (read-only), declined, or ClickHouse refused / unreachable, 2 config error or not confirmed",
    )
    actions = p.add_subparsers(dest="clickhouse_action", metavar="ACTION", required=True)
    schema = actions.add_parser("schema", parents=[common], help="print schema.sql for the context's database")
    schema.add_argument("--database", metavar="NAME", help="the database to write into the statements (default: clickhouse.database)")
    init = actions.add_parser("init", parents=[common], help="create the schema on the context's ClickHouse")
    init.add_argument("--yes", "-y", action="store_true", help="do not ask before creating")


class InitRefused(ZetaError):
    """`zeta clickhouse init` in a read-only context."""

    title = "Refused: read-only context"
    exit_code = 1


def quote_identifier(name: str) -> str:
    """``name`` as it reads in SQL: bare when it is a plain word, else in backquotes."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def schema_text(database: str) -> str:
    """schema.sql with ``{database:Identifier}`` replaced by ``database``."""
    from zeta_tui.querying.sql_catalog import schema_sql

    name = quote_identifier(database)
    lines = [line if line.lstrip().startswith("--") else line.replace("{database:Identifier}", name)
             for line in schema_sql().splitlines()]
    return f"-- queries/clickhouse/schema.sql for database {name} (`zeta clickhouse schema`)\n" + "\n".join(lines) + "\n"


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def run_clickhouse(args: argparse.Namespace) -> int:
    from zeta_tui.config.loader import load_context

    if args.clickhouse_action == "schema" and args.database:
        sys.stdout.write(schema_text(args.database))
        return 0
    from zeta_tui.headless.sql import require_clickhouse

    loaded = load_context(args.config, args.context)
    cfg = require_clickhouse(loaded, ", or pass --database" if args.clickhouse_action == "schema" else "")
    if args.clickhouse_action == "schema":
        sys.stdout.write(schema_text(cfg.database))
        return 0
    return _init(cfg, loaded.name, loaded.context.is_read_only, args.yes)


def _init(cfg: Any, context: str, read_only: bool, yes: bool) -> int:
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.headless.silence import confirm
    from zeta_tui.querying.sql_catalog import schema_statements

    source = AnalyticsSource(cfg)
    if read_only:
        raise InitRefused(
            f"context {context!r} is read-only: `zeta clickhouse init` would create tables on {source.url}",
            hint=f"run it against a writable context, or set read_only = false in [contexts.{context}] if you mean to",
        )
    _err(f"create the analytics schema in context {context} ({source.url}), database {cfg.database}:")
    _err(f"  {', '.join(TABLES)}")
    _err("  (CREATE ... IF NOT EXISTS: tables that exist are left as they are; `zeta clickhouse schema` prints the SQL)")
    if not confirm("Create the schema?", yes):
        _err("not created")
        return 1
    statements = ["CREATE DATABASE IF NOT EXISTS {database:Identifier}", *schema_statements()]
    source.create_schema(statements, {"database": cfg.database})

    async def tables() -> list[str]:
        try:
            result = await source.query("SELECT name FROM system.tables WHERE database = {d:String} ORDER BY name", {"d": cfg.database})
            return [str(r[0]) for r in result.rows]
        finally:
            await source.close()

    present = asyncio.run(tables())
    missing = [t for t in TABLES if t not in present]
    if missing:
        raise ZetaError(f"after init, {', '.join(missing)} are still missing in {cfg.database}", where=source.url)
    print(f"created (or found) in {cfg.database}: {', '.join(TABLES)}")
    return 0
