"""`zeta clickhouse schema | init`: the analytics schema (queries/clickhouse/schema.sql, rollup.sql, events.sql).

- ``schema [--database NAME]``: prints schema.sql, rollup.sql and events.sql with the database filled in
  (the context's ``clickhouse.database``, or ``--database``) and api_usage's column names
  (``clickhouse.columns``), ready for clickhouse-client or a migration.
- ``init [--yes] [--settle SECONDS]``: on the context's ClickHouse (a server, or an embedded
  store, created if need be) creates the database if missing and each table of schema.sql
  that is missing, then zeta's exact rollup beside api_usage and backfills it from the rows
  already there, month by month with progress (backends/usage_rollup.py says how no row is
  lost or counted twice). Nothing that exists is dropped, altered or written to: a database
  made by the seed's DDL keeps its api_usage and its api_usage_daily view as they are. Run
  again, it finds the months done and does nothing. An api_usage without a column the rollup
  reads is named, with the setting that maps it (``clickhouse.columns``), before anything is
  created. Refused in a read-only context (a production context is read-only unless it says
  ``read_only = false``), and asked first: y/N on a terminal, ``--yes`` to skip, refused with
  no terminal and no ``--yes``.

These are the only writes Zeta makes to ClickHouse, through the engine's writer
(ClickHouseEngine.writer); the query path stays read-only.

Exit status: 0 done; 1 refused (read-only context), declined at the question, api_usage lacks a
column, or ClickHouse refused / could not be reached; 2 configuration error, or no terminal to
confirm on and no --yes.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from zeta_tui.errors import ZetaError
from zeta_tui.querying.sql_catalog import quote_identifier

TABLES = (
    "api_usage",
    "cost_data",
    "tenants",
    "zeta_api_usage_daily",
    "zeta_api_usage_daily_mv",
    "api_usage_daily",
    "events",
    "zeta_events_daily",
    "zeta_events_daily_mv",
)


class InitRefused(ZetaError):
    """`zeta clickhouse init` in a read-only context."""

    title = "Refused: read-only context"
    exit_code = 1


def schema_text(database: str, columns: dict[str, str] | None = None) -> str:
    """schema.sql, rollup.sql and events.sql with their parameters filled in (view cutoffs as init leaves them)."""
    import re

    from zeta_tui.querying.events_sources import events_sql
    from zeta_tui.querying.sql_catalog import rollup_sql, schema_sql

    values = {
        "database": quote_identifier(database),
        **{f"col_{k}": quote_identifier(v) for k, v in _column_names(columns or {}).items()},
    }

    def fill(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1) == "cutoff":
                return "0 /* init sets the cutoff: the moment it creates the view, in unix seconds */"
            return values.get(m.group(1), m.group(0))

        return "\n".join(
            line if line.lstrip().startswith("--") else re.sub(r"\{(\w+):\w+\}", one, line)
            for line in text.splitlines()
        )

    name = quote_identifier(database)
    return (
        f"-- queries/clickhouse/schema.sql, rollup.sql and events.sql for database {name} (`zeta clickhouse schema`)\n"
        + fill(schema_sql())
        + "\n\n"
        + fill(rollup_sql())
        + "\n\n"
        + fill(events_sql())
        + "\n"
    )


def _column_names(columns: dict[str, str]) -> dict[str, str]:
    from zeta_tui.config.models import USAGE_COLUMNS

    return {name: columns.get(name, name) for name in USAGE_COLUMNS}


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
        sys.stdout.write(schema_text(cfg.database, dict(cfg.columns)))
        return 0
    return _init(cfg, loaded.name, loaded.context.is_read_only, args.yes, args.settle)


def _init(cfg: Any, context: str, read_only: bool, yes: bool, settle: float) -> int:
    from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
    from zeta_tui.backends.usage_rollup import RollupInit
    from zeta_tui.headless.silence import confirm

    engine = ClickHouseEngine(cfg, "clickhouse")
    if read_only:
        raise InitRefused(
            f"context {context!r} is read-only: `zeta clickhouse init` would create tables on {engine.url}",
            hint=f"run it against a writable context, or set read_only = false in [contexts.{context}] if you mean to",
        )
    _err(f"create the analytics schema in context {context} ({engine.url}), database {cfg.database}:")
    _err(
        f"  {', '.join(TABLES)} where missing; zeta_api_usage_daily backfilled from api_usage's rows, "
        "zeta_events_daily from events'"
    )
    _err(
        "  (tables that exist are left as they are: nothing is dropped, altered or written; "
        "`zeta clickhouse schema` prints the SQL)"
    )
    if not confirm("Create the schema?", yes):
        _err("not created")
        return 1
    writer = engine.writer()
    try:
        report = RollupInit(writer, cfg.database, dict(cfg.columns), log=_err, settle_s=max(0.0, settle)).run()
    finally:
        writer.close()
    for warning in report.warnings:
        _err(f"warning: {warning}")
    print(f"created in {cfg.database}: {', '.join(report.created) or 'nothing (everything was there)'}")
    if report.existing:
        print(f"left as they were: {', '.join(report.existing)}")
    months = report.months_backfilled
    print(
        f"zeta_api_usage_daily: {report.rollup_requests:,} requests of api_usage's {report.usage_rows:,} rows"
        + (f" ({len(months)} month(s) backfilled now)" if months else "")
    )
    if report.events is not None:
        print(
            f"zeta_events_daily: {report.events.rollup_events:,} events of events' {report.events.events_rows:,} rows"
        )
    if report.rollup_requests != report.usage_rows:
        _err(
            "note: rows written while init ran, or stamped before the cutoff after their month was backfilled, "
            "make the two differ; the warnings above name any such month"
        )
    return 0
