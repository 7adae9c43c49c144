"""Where the catalog's usage figures come from: zeta's rollup, the seed's daily view, or api_usage.

The usage queries of queries/clickhouse/catalog read ``zeta_api_usage_daily``, zeta's exact
rollup (rollup.sql). A database made by the seed's DDL has no such table, so ``plan_query``
picks, for each query, the first source that answers it exactly:

1. **zeta's rollup**, when it exists with its view and its backfill has finished: the query as
   written.
2. **the seed's ``api_usage_daily`` view**, for a query that reads only what that view holds
   exactly (requests per tenant, endpoint and day, and request bytes: it is a SummingMergeTree, so
   its sums stay right when parts merge, while its avg and p95 columns do not), and only while
   its request_count adds up to api_usage's row count (a view created after rows were inserted,
   or rows deleted from api_usage since, would make it miss some).
3. **api_usage itself**, aggregated inside ClickHouse: the view's own aggregation (rollup.sql's
   ``SELECT``, the columns the query reads) becomes a ``WITH zeta_api_usage_daily AS (...)`` in
   front of the query, which shadows the table's name. The query's filters on date and tenant
   reach the scan (ClickHouse pushes them into the subquery), only aggregates come back, and the
   answer is the rollup's, state for state.

Cases 2 and 3 carry a ``note`` the screens and ``zeta sql`` show. A column the chosen source
needs that api_usage lacks (under its name, or under ``clickhouse.columns``' name for it) is a
SchemaMismatch naming the column, the query and what to set; so is a column missing from
cost_data or tenants, zeta's own tables.

Pure: the backend reads the database's tables and columns (``UsageTables``) and runs the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from zeta_tui.config.models import USAGE_COLUMNS
from zeta_tui.errors import SchemaMismatch

USAGE_TABLE = "api_usage"
ROLLUP_TABLE = "zeta_api_usage_daily"
ROLLUP_VIEW = "zeta_api_usage_daily_mv"
STAGING_TABLE = "zeta_api_usage_daily_staging"
BACKFILL_TABLE = "zeta_api_usage_daily_backfill"
SEED_VIEW = "api_usage_daily"
#: Every table the plan looks at.
TABLES = (USAGE_TABLE, SEED_VIEW, ROLLUP_TABLE, ROLLUP_VIEW, BACKFILL_TABLE, "cost_data", "tenants")

#: The rollup's columns and the api_usage columns (the seed's names) each is computed from.
ROLLUP_SOURCES: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "tenant_id": ("tenant_id",),
    "endpoint": ("endpoint",),
    "method": ("method",),
    "requests": (),
    "errors": ("status_code",),
    "server_errors": ("status_code",),
    "request_bytes": ("request_size_bytes",),
    "response_bytes": ("response_size_bytes",),
    "latency_avg": ("latency_ms",),
    "latency_quantiles": ("latency_ms",),
}
_KEYS = ("date", "tenant_id", "endpoint", "method")
#: What the seed's api_usage_daily holds exactly: rollup column -> the view's column.
SEED_VIEW_EXACT = {
    "date": "date",
    "tenant_id": "tenant_id",
    "endpoint": "endpoint",
    "requests": "request_count",
    "request_bytes": "total_request_bytes",
}
#: zeta's own tables and the columns the catalog reads from them.
ZETA_TABLES = {
    "cost_data": ("date", "service", "tenant_id", "cost_usd", "api_calls"),
    "tenants": ("tenant_id", "name", "plan", "mrr_usd", "monthly_quota_calls", "created_at", "ended_at"),
}
#: Columns of zeta's tables that `zeta clickhouse init` adds to a table made before them (schema.sql's ALTERs).
ADDED_COLUMNS = {("tenants", "ended_at")}


class UsageSource(StrEnum):
    """Which table answered a usage query."""

    ROLLUP = "zeta_api_usage_daily"
    SEED_VIEW = "api_usage_daily"
    RAW = "api_usage"


@dataclass(frozen=True)
class UsageTables:
    """What a database holds, as far as the catalog cares (read by the backend from system tables).

    ``columns``: each existing table of TABLES and its column names. ``rollup_complete``: the
    backfill wrote its 'complete' step. ``seed_view_requests`` / ``usage_rows``: the sum of
    api_usage_daily's request_count and api_usage's row count, when the view has the seed's columns.
    """

    database: str
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rollup_complete: bool = False
    seed_view_requests: int | None = None
    usage_rows: int | None = None
    events_complete: bool = False  # zeta_events_daily's backfill wrote 'complete' (events_sources.py)

    def has(self, table: str) -> bool:
        return table in self.columns

    @property
    def rollup_ready(self) -> bool:
        return self.has(ROLLUP_TABLE) and self.has(ROLLUP_VIEW) and self.rollup_complete

    @property
    def seed_view_shaped(self) -> bool:
        return set(SEED_VIEW_EXACT.values()) <= set(self.columns.get(SEED_VIEW, ()))

    @property
    def seed_view_exact(self) -> bool:
        """The seed's view holds every api_usage row (its request counts can stand for api_usage's)."""
        return (
            self.seed_view_shaped and self.seed_view_requests is not None and self.seed_view_requests == self.usage_rows
        )


@dataclass(frozen=True)
class UsagePlan:
    """The SQL to run for a named query, its extra parameters, which source answers, and the note to show."""

    sql: str
    params: dict[str, object]
    source: UsageSource | None
    note: str = ""


def _words(sql: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"--[^\n]*", " ", sql)))


def rollup_columns_read(sql: str) -> tuple[str, ...]:
    """The rollup columns ``sql`` names (``()`` when it does not read the rollup), in the rollup's order."""
    words = _words(sql)
    if ROLLUP_TABLE not in words:
        return ()
    return tuple(c for c in ROLLUP_SOURCES if c in words)


def view_columns(rollup_text: str) -> dict[str, str]:
    """rollup.sql's view ``SELECT`` lines by output column: ``{"requests": "toUInt64(count())", ...}``."""
    m = re.search(
        r"CREATE MATERIALIZED VIEW[^\n]*" + ROLLUP_VIEW + r".*?\nSELECT\n(?P<body>.*?)\nFROM ", rollup_text, re.S
    )
    if m is None:
        raise ValueError(f"rollup.sql has no `CREATE MATERIALIZED VIEW ... {ROLLUP_VIEW}` with a SELECT")
    out = {}
    for line in m.group("body").splitlines():
        line_m = re.fullmatch(r"\s*(?P<expr>.+?)\s+AS\s+(?P<name>\w+),?\s*", line)
        if line_m is None:
            raise ValueError(f"rollup.sql: cannot read this line of the view's SELECT: {line.strip()}")
        out[line_m["name"]] = line_m["expr"]
    return out


def daily_select(rollup_text: str, wanted: Sequence[str], where: str = "") -> str:
    """The view's aggregation of api_usage for the ``wanted`` rollup columns, grouped by the keys among them.

    ``where`` (SQL with parameters, without WHERE) restricts the rows read.
    """
    exprs = view_columns(rollup_text)
    lines = ",\n".join(f"    {exprs[c]} AS {c}" for c in wanted)
    sql = f"SELECT\n{lines}\nFROM {{database:Identifier}}.{USAGE_TABLE}"
    if where:
        sql += f"\nWHERE {where}"
    keys = [c for c in _KEYS if c in wanted]
    return sql + (f"\nGROUP BY {', '.join(keys)}" if keys else "")


def seed_view_select(wanted: Sequence[str]) -> str:
    """The seed's api_usage_daily read as the rollup's ``wanted`` columns (all among SEED_VIEW_EXACT)."""
    lines = ",\n".join(f"    {SEED_VIEW_EXACT[c]} AS {c}" if SEED_VIEW_EXACT[c] != c else f"    {c}" for c in wanted)
    return f"SELECT\n{lines}\nFROM {{database:Identifier}}.{SEED_VIEW}"


def with_rollup(sql: str, body: str) -> str:
    """``sql`` with ``zeta_api_usage_daily`` defined as ``body`` in front (merged into its own WITH, if it has one)."""
    indented = "\n".join("    " + line for line in body.splitlines())
    cte = f"{ROLLUP_TABLE} AS (\n{indented}\n)"
    m = re.match(r"\s*WITH\b", sql, re.I)
    if m:
        return f"WITH\n    {cte},\n" + sql[m.end() :].lstrip("\n")
    return f"WITH {cte}\n{sql}"


NO_ROLLUP = "no zeta rollup: `zeta clickhouse init` adds one"
NOT_BACKFILLED = "zeta's rollup is not backfilled yet: `zeta clickhouse init` finishes it"


def plan_query(name: str, sql: str, tables: UsageTables, columns: Mapping[str, str], rollup_text: str) -> UsagePlan:
    """How to answer the named query ``name`` (its ``sql``) on the database ``tables`` describes.

    ``columns`` is ``clickhouse.columns`` (api_usage columns named otherwise than the seed's).
    SchemaMismatch when a table it needs is missing or lacks a column.
    """
    _check_zeta_tables(name, sql, tables)
    wanted = rollup_columns_read(sql)
    if not wanted or tables.rollup_ready:
        return UsagePlan(sql, {}, UsageSource.ROLLUP if wanted else None)
    why = NO_ROLLUP if not tables.has(ROLLUP_TABLE) else NOT_BACKFILLED
    if not tables.has(USAGE_TABLE):
        raise SchemaMismatch(
            f"database {tables.database} has no table {USAGE_TABLE} (nor zeta's rollup), which {name} reads",
            where=tables.database,
            hint=(
                "set clickhouse.database to the database that holds api_usage, or create it: the seed's DDL, "
                "or `zeta clickhouse init`"
            ),
        )
    if set(wanted) <= set(SEED_VIEW_EXACT) and tables.seed_view_exact:
        return UsagePlan(
            with_rollup(sql, seed_view_select(wanted)),
            {"database": tables.database},
            UsageSource.SEED_VIEW,
            f"counts from your {SEED_VIEW} ({why})",
        )
    _check_usage_columns(name, wanted, tables, columns)
    params: dict[str, object] = {"database": tables.database, **{f"col_{c}": columns.get(c, c) for c in USAGE_COLUMNS}}
    # Only the columns the body uses are parameters of the query sent.
    body = daily_select(rollup_text, wanted)
    params = {k: v for k, v in params.items() if "{" + k + ":" in body}
    return UsagePlan(with_rollup(sql, body), params, UsageSource.RAW, f"aggregated from {USAGE_TABLE} ({why})")


def merged_note(notes: Sequence[str]) -> str:
    """One line for several answers' notes, why first (a screen's line is cut at its width):
    "no zeta rollup: `zeta clickhouse init` adds one — aggregated from api_usage, counts from your api_usage_daily"."""
    whats: list[str] = []
    whys: list[str] = []
    for note in notes:
        what, _, why = note.partition(" (")
        if what and what not in whats:
            whats.append(what)
        if why and why[:-1] not in whys:
            whys.append(why[:-1])
    return f"{'; '.join(whys)} — {', '.join(whats)}" if whats else ""


def _check_usage_columns(name: str, wanted: Sequence[str], tables: UsageTables, columns: Mapping[str, str]) -> None:
    needed = [c for c in USAGE_COLUMNS if any(c in ROLLUP_SOURCES[w] for w in wanted)]
    missing_columns(USAGE_TABLE, needed, tables, columns, reader=name)


def missing_columns(
    table: str, needed: Sequence[str], tables: UsageTables, columns: Mapping[str, str], *, reader: str
) -> None:
    """SchemaMismatch when api_usage lacks one of ``needed`` (the seed's names, renamed by ``columns``)."""
    have = tables.columns.get(table, ())
    missing = [c for c in needed if columns.get(c, c) not in have]
    if not missing:
        return
    first = missing[0]
    named = ", ".join(c if columns.get(c, c) == c else f"{columns[c]} (clickhouse.columns.{c})" for c in missing)
    what = "; ".join(f"{c}: {USAGE_COLUMNS[c]}" for c in missing)
    shown = ", ".join(have[:30]) + (", ..." if len(have) > 30 else "")
    raise SchemaMismatch(
        f"{table} in database {tables.database} has no column {named}, which {reader} reads ({what})",
        where=tables.database,
        hint=f'if {table} holds it under another name, set clickhouse.columns = {{ {first} = "<that column>" }} in '
        "the context "
        f"({table} has: {shown})",
    )


def _check_zeta_tables(name: str, sql: str, tables: UsageTables) -> None:
    words = _words(sql)
    for table, expected in ZETA_TABLES.items():
        if table not in words:
            continue
        if not tables.has(table):
            raise SchemaMismatch(
                f"database {tables.database} has no table {table}, which {name} reads",
                where=tables.database,
                hint="`zeta clickhouse init` creates it (and leaves every existing table as it is)",
            )
        have = tables.columns[table]
        missing = [c for c in expected if c in words and c not in have]
        added = [c for c in missing if (table, c) in ADDED_COLUMNS]
        if added:
            raise SchemaMismatch(
                f"{table} in database {tables.database} has no column {', '.join(added)}, which {name} reads "
                f"(the table was made before zeta tracked when a tenant ends)",
                where=tables.database,
                hint=f"`zeta clickhouse init` adds it (ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "
                f"{added[0]} Nullable(DateTime): NULL, still a customer); it changes nothing else",
            )
        if missing:
            raise SchemaMismatch(
                f"{table} in database {tables.database} has no column {', '.join(missing)}, which {name} reads",
                where=tables.database,
                hint=f"{table} is zeta's table (queries/clickhouse/schema.sql): this one was made otherwise and "
                "zeta leaves it "
                f"as it is; give it the columns of schema.sql, or set clickhouse.database to a database where "
                f"`zeta clickhouse init` can create it ({table} has: {', '.join(have)})",
            )
