"""Reading what a ClickHouse database holds for the catalog (querying/usage_sources.UsageTables).

One to three small read-only queries: the tables and views zeta looks at and their columns
(system.columns), whether zeta's rollup finished its backfill, and, when there is no finished
rollup but a view with the seed's api_usage_daily columns, whether that view's request_count adds
up to api_usage's row count. ``count()`` of a MergeTree comes from its parts' metadata and the
view is one row per tenant, endpoint and day, so the check is cheap. The answer is kept for
USAGE_TABLES_TTL_S by the source (AnalyticsSource.usage_tables): a database gains a rollup when
someone runs `zeta clickhouse init`, and the screens pick it up within that time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from zeta_tui.querying.events_sources import EVENTS_BACKFILL, EVENTS_OBJECTS, EVENTS_VIEW
from zeta_tui.querying.usage_sources import (
    BACKFILL_TABLE,
    ROLLUP_TABLE,
    ROLLUP_VIEW,
    SEED_VIEW,
    TABLES,
    USAGE_TABLE,
    UsageTables,
)

#: How long a source trusts what it read of the database's tables.
USAGE_TABLES_TTL_S = 300.0

Query = Callable[..., Awaitable[Any]]


async def read_usage_tables(query: Query, database: str) -> UsageTables:
    """The database's tables as the catalog sees them; ``query(sql, params)`` is a read-only query."""
    names = ", ".join(f"'{t}'" for t in (*TABLES, *EVENTS_OBJECTS))  # zeta's own constants
    answer = await query(
        "SELECT table, groupArray(name) FROM (SELECT table, name FROM system.columns "
        f"WHERE database = {{db:String}} AND table IN ({names}) ORDER BY table, position) GROUP BY table",
        {"db": database},
    )
    columns: dict[str, tuple[str, ...]] = {str(t): tuple(str(c) for c in names) for t, names in answer.rows}
    tables = UsageTables(database, columns)
    complete = False
    if tables.has(ROLLUP_TABLE) and tables.has(ROLLUP_VIEW) and tables.has(BACKFILL_TABLE):
        done = await query(
            "SELECT count() FROM {db:Identifier}.{t:Identifier} WHERE step = 'complete'",
            {"db": database, "t": BACKFILL_TABLE},
        )
        complete = int(done.rows[0][0]) > 0
    seed_requests = usage_rows = None
    if not complete and tables.seed_view_shaped and tables.has(USAGE_TABLE):
        counts = await query(
            "SELECT (SELECT sum(request_count) FROM {db:Identifier}.{v:Identifier}), "
            "(SELECT count() FROM {db:Identifier}.{u:Identifier})",
            {"db": database, "v": SEED_VIEW, "u": USAGE_TABLE},
        )
        seed_requests, usage_rows = (int(v) if v is not None else None for v in counts.rows[0])
    events_complete = False
    if tables.has(EVENTS_BACKFILL) and tables.has(EVENTS_VIEW):
        done = await query(
            "SELECT count() FROM {db:Identifier}.{t:Identifier} WHERE step = 'complete'",
            {"db": database, "t": EVENTS_BACKFILL},
        )
        events_complete = int(done.rows[0][0]) > 0
    return UsageTables(database, columns, complete, seed_requests, usage_rows, events_complete)
