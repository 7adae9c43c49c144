"""Where the product-analytics figures come from: zeta's daily rollup of ``events``, or ``events`` itself.

queries/clickhouse/events.sql holds the ``events`` table (issue 17's contract) and zeta's exact
rollup of it, ``zeta_events_daily`` (counts per tenant, UTC day, model version and event,
filled by a materialized view and a backfill: backends/events_rollup.py). The ``ctr`` and
``ab_test`` queries read the rollup. Where it is missing or not backfilled yet (events loaded by
the user into a database where `zeta clickhouse init` has not run), ``plan_events`` puts the
view's own aggregation of ``events`` in front of the query as ``WITH zeta_events_daily AS (...)``,
as usage_sources does for api_usage: the same figures, computed on the fly, with a note.
``funnel``, ``retention`` and ``top_items`` read ``events`` itself (they need users and items,
which a daily count does not keep); a database without ``events`` is a SchemaMismatch saying
what creates it.

Pure: the backend reads the tables (backends/usage_tables.py) and runs the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from zeta_tui.errors import SchemaMismatch
from zeta_tui.resources import shipped_dir

EVENTS_TABLE = "events"
EVENTS_ROLLUP = "zeta_events_daily"
EVENTS_VIEW = "zeta_events_daily_mv"
EVENTS_STAGING = "zeta_events_daily_staging"
EVENTS_BACKFILL = "zeta_events_daily_backfill"
#: Every events object the plan looks at.
EVENTS_OBJECTS = (EVENTS_TABLE, EVENTS_ROLLUP, EVENTS_VIEW, EVENTS_BACKFILL)
#: The contract's columns (docs/product-analytics.md).
EVENTS_COLUMNS = (
    "event_time",
    "tenant_id",
    "user_id",
    "session_id",
    "event",
    "item_id",
    "model_version",
    "properties",
)
_ROLLUP_KEYS = ("date", "tenant_id", "model_version", "event")

NO_EVENTS_ROLLUP = "no zeta rollup of events: `zeta clickhouse init` adds one"
EVENTS_NOT_BACKFILLED = "zeta's rollup of events is not backfilled yet: `zeta clickhouse init` finishes it"


def events_sql() -> str:
    """queries/clickhouse/events.sql as shipped (parameters ``database`` and ``cutoff``)."""
    return (shipped_dir("queries") / "clickhouse" / "events.sql").read_text(encoding="utf-8")


def events_statements() -> list[str]:
    """events.sql's statements in order, without their comment lines."""
    from zeta_tui.querying.sql_catalog import statements

    return statements(events_sql())


def events_statement(name: str) -> str:
    """events.sql's statement creating ``{database:Identifier}.name``."""
    marker = "{database:Identifier}." + name
    found = [s for s in events_statements() if re.search(re.escape(marker) + r"(\s|\(|$)", s.splitlines()[0])]
    if len(found) != 1:
        raise ValueError(f"events.sql has {len(found)} statements creating {name!r}")
    return found[0]


def events_view_select(text: str | None = None) -> str:
    """The view's aggregation of every row of ``events`` (no cutoff): what the rollup holds once complete."""
    source = text if text is not None else events_sql()
    m = re.search(r"CREATE MATERIALIZED VIEW[^\n]*" + EVENTS_VIEW + r".*?\n(?P<body>SELECT\n.*?)\nWHERE ", source, re.S)
    if m is None:
        raise ValueError(f"events.sql has no `CREATE MATERIALIZED VIEW ... {EVENTS_VIEW}` with a SELECT and WHERE")
    return m.group("body") + "\nGROUP BY " + ", ".join(_ROLLUP_KEYS)


def reads_events_rollup(sql: str) -> bool:
    return EVENTS_ROLLUP in _words(sql)


def _words(sql: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"--[^\n]*", " ", sql)))


@dataclass(frozen=True)
class EventsPlan:
    """The SQL to run, extra parameters, and the note to show (empty when the rollup answers)."""

    sql: str
    params: dict[str, object]
    note: str = ""


def plan_events(
    name: str, sql: str, database: str, columns: Mapping[str, tuple[str, ...]], complete: bool
) -> EventsPlan:
    """How to answer the named query ``name`` (``sql``): as written, or with the rollup computed from events.

    ``columns``: the database's tables (of EVENTS_OBJECTS) and their columns; ``complete``: the
    rollup's backfill wrote its 'complete' step. SchemaMismatch when ``events`` is needed and missing
    or lacks a contract column the query reads.
    """
    tables = columns
    words = _words(sql)
    uses_rollup = EVENTS_ROLLUP in words
    uses_events = EVENTS_TABLE in words
    if not uses_rollup and not uses_events:
        return EventsPlan(sql, {})
    ready = EVENTS_ROLLUP in tables and EVENTS_VIEW in tables and complete
    if uses_rollup and ready and not uses_events:
        return EventsPlan(sql, {})
    if EVENTS_TABLE not in tables:
        raise SchemaMismatch(
            f"database {database} has no table {EVENTS_TABLE}, which {name} reads",
            where=database,
            hint="`zeta clickhouse init` creates it (queries/clickhouse/events.sql; docs/product-analytics.md has "
            "the columns, so you can load your own events), or set clickhouse.database to the database that holds it",
        )
    have = tables[EVENTS_TABLE]
    needed = [c for c in EVENTS_COLUMNS if c in words or (uses_rollup and not ready and c in _ROLLUP_SOURCE)]
    missing = [c for c in needed if c not in have]
    if missing:
        raise SchemaMismatch(
            f"{EVENTS_TABLE} in database {database} has no column {', '.join(missing)}, which {name} reads",
            where=database,
            hint=f"give it the columns of queries/clickhouse/events.sql ({EVENTS_TABLE} has: {', '.join(have)})",
        )
    if not uses_rollup or ready:
        return EventsPlan(sql, {})
    why = NO_EVENTS_ROLLUP if EVENTS_ROLLUP not in tables else EVENTS_NOT_BACKFILLED
    body = events_view_select().replace("{database:Identifier}.", "")
    return EventsPlan(_with_cte(sql, body), {}, f"aggregated from {EVENTS_TABLE} ({why})")


#: The events columns the rollup is computed from.
_ROLLUP_SOURCE = ("event_time", "tenant_id", "model_version", "event")


def _with_cte(sql: str, body: str) -> str:
    indented = "\n".join("    " + line for line in body.splitlines())
    cte = f"{EVENTS_ROLLUP} AS (\n{indented}\n)"
    m = re.match(r"\s*WITH\b", sql, re.I)
    if m:
        return f"WITH\n    {cte},\n" + sql[m.end() :].lstrip("\n")
    return f"WITH {cte}\n{sql}"


__all__ = [
    "EVENTS_BACKFILL",
    "EVENTS_COLUMNS",
    "EVENTS_OBJECTS",
    "EVENTS_ROLLUP",
    "EVENTS_STAGING",
    "EVENTS_TABLE",
    "EVENTS_VIEW",
    "EventsPlan",
    "events_sql",
    "events_statement",
    "events_statements",
    "events_view_select",
    "plan_events",
    "reads_events_rollup",
]
