"""`zeta clickhouse init`'s work on one database: zeta's tables where missing, its rollup beside
api_usage, the backfill.

Nothing the user made is dropped or written: api_usage, a seed-made api_usage_daily, and any
cost_data or tenants that exist are only read, with one addition: a tenants table without
``ended_at`` (made before zeta tracked churn) gets it, ``ADD COLUMN IF NOT EXISTS ... Nullable``,
NULL meaning "still a customer" (schema.sql's ALTER; ADDED_COLUMNS). zeta creates what is missing
(schema.sql's tables, rollup.sql's objects) and writes only to the objects named zeta_*.

**How the rollup is filled without losing or double-counting a row.** ClickHouse's
materialized view sees only the rows inserted after it exists, and nothing in a row says
when it was inserted. So the view (rollup.sql) takes the rows stamped at or after a *cutoff*
(``timestamp >= cutoff``) and the backfill the rows stamped before it, reading api_usage:
every row is counted by exactly one of the two, whenever it arrives. The cutoff is the
server's clock plus CUTOFF_LEAD_S when the view is created, so a row being inserted at that
moment is stamped before it (and backfilled), and the view takes every later one. Rows stamped
just before the cutoff may still be on their way (a pipeline's lag): months that can hold them
are backfilled only once the server's clock has passed the cutoff by ``settle_s`` seconds.
This is the ClickHouse documentation's way ("Backfilling data": a view with a time filter, the
past inserted by INSERT ... SELECT below it). A row stamped before the cutoff that arrives
after its month was backfilled (a replay of old data) is in neither; the report names such
months (api_usage holds more rows there than the backfill counted).

**Partition by partition, idempotent.** Each month (api_usage's partition, ``toYYYYMM(date)``)
is aggregated into zeta_api_usage_daily_staging, recorded 'staged' in
zeta_api_usage_daily_backfill, moved into the rollup whole (``MOVE PARTITION``: in it entirely
or not at all), and recorded 'done'. A second run skips 'done' months; a run that stopped
between 'staged' and 'done' finds the month still in staging (move it) or gone from it (it
was moved). When every month is in, a 'complete' step tells the catalog the rollup can be read.
If zeta's view is missing while its rollup holds rows (someone dropped it), the rollup cannot
be trusted: zeta empties its own tables and starts again with a new cutoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from zeta_tui.config.models import USAGE_COLUMNS
from zeta_tui.errors import ZetaError
from zeta_tui.querying.events_sources import EVENTS_TABLE
from zeta_tui.querying.sql_catalog import (
    quote_identifier,
    rollup_params,
    rollup_sql,
    rollup_statements,
    schema_statements,
)
from zeta_tui.querying.usage_sources import (
    ADDED_COLUMNS,
    BACKFILL_TABLE,
    ROLLUP_SOURCES,
    ROLLUP_TABLE,
    ROLLUP_VIEW,
    SEED_VIEW,
    STAGING_TABLE,
    USAGE_TABLE,
    ZETA_TABLES,
    UsageTables,
    daily_select,
    missing_columns,
)

#: The view's cutoff is this far ahead of the server's clock when the view is created.
CUTOFF_LEAD_S = 2
#: By default, months that may still receive rows stamped before the cutoff wait this long past it.
SETTLE_S = 30.0
_EPOCH = 0


class Writer(Protocol):
    """A statement runner with write access (ClickHouseEngine.writer(), or a demo store's session)."""

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]: ...


@dataclass
class InitReport:
    """What init did: tables created, the view's cutoff, the months backfilled, and what the rollup now holds."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cutoff: datetime | None = None
    months_backfilled: list[tuple[date, int]] = field(default_factory=list)
    rollup_requests: int = 0
    usage_rows: int = 0
    events: Any = None  # events_rollup.EventsReport: the events table's rollup


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class RollupInit:
    """Creates zeta's analytics objects in ``database`` and backfills the rollup (blocking; see the module).

    ``log`` gets one line per step (progress); ``settle_s`` is how long past the cutoff the
    months that may still receive older rows wait; ``sleep`` and ``lead_s`` are for tests.
    """

    def __init__(
        self,
        writer: Writer,
        database: str,
        columns: Mapping[str, str] | None = None,
        *,
        log: Callable[[str], None] = lambda line: None,
        settle_s: float = SETTLE_S,
        lead_s: int = CUTOFF_LEAD_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.writer, self.database, self.columns = writer, database, dict(columns or {})
        self.log, self.settle_s, self.lead_s, self.sleep = log, settle_s, lead_s, sleep
        self.report = InitReport()

    # --- helpers -------------------------------------------------------------------------

    def _run(self, sql: str, **params: Any) -> list[list[Any]]:
        return self.writer.run(sql, {"database": self.database, **params})

    def _params(self, cutoff: int) -> dict[str, Any]:
        return rollup_params(self.database, self.columns, cutoff)

    def tables(self) -> dict[str, tuple[str, ...]]:
        """Every table and view of the database and its columns."""
        rows = self._run(
            "SELECT table, groupArray(name) FROM (SELECT table, name FROM system.columns "
            "WHERE database = {database:String} ORDER BY table, position) GROUP BY table"
        )
        return {str(t): tuple(map(str, names)) for t, names in rows}

    def _scalar(self, sql: str, **params: Any) -> int:
        rows = self._run(sql, **params)
        return int(rows[0][0] or 0) if rows else 0

    def server_now(self) -> int:
        return self._scalar("SELECT toUnixTimestamp(now())")

    # --- the steps -----------------------------------------------------------------------

    def run(self) -> InitReport:
        """Everything, in order. SchemaMismatch, before anything is created, when api_usage lacks a
        column the rollup reads."""
        self._run("CREATE DATABASE IF NOT EXISTS {database:Identifier}")
        before = self.tables()
        if USAGE_TABLE in before:
            missing_columns(
                USAGE_TABLE,
                list(USAGE_COLUMNS),
                UsageTables(self.database, before),
                self.columns,
                reader="zeta's rollup",
            )
        for table, expected in ZETA_TABLES.items():
            missing = [
                c for c in expected if table in before and c not in before[table] and (table, c) not in ADDED_COLUMNS
            ]
            if missing:
                self.report.warnings.append(
                    f"your {table} has no column {', '.join(missing)}: zeta leaves it as it is, and the "
                    f"queries that read it will say so (queries/clickhouse/schema.sql has zeta's {table})"
                )
        for statement in schema_statements():
            if statement.lstrip().upper().startswith("ALTER TABLE"):
                self._add_column(statement)
            else:
                self._run(statement)
        cutoff = self._view(USAGE_TABLE not in before)
        self.report.cutoff = _utc(cutoff)
        self._run(_statement(SEED_VIEW + " AS"), **self._params(cutoff))
        self._backfill(cutoff)
        self._events(before)
        after = self.tables()
        self.report.created = sorted(t for t in after if t not in before and not t.startswith(".inner"))
        self.report.existing = sorted(t for t in before if t in (USAGE_TABLE, SEED_VIEW, EVENTS_TABLE, *ZETA_TABLES))
        self.report.rollup_requests = self._scalar(
            "SELECT sum(requests) FROM {database:Identifier}.zeta_api_usage_daily"
        )
        self.report.usage_rows = self._scalar("SELECT count() FROM {database:Identifier}.api_usage")
        return self.report

    def _events(self, before: Mapping[str, tuple[str, ...]]) -> None:
        """events.sql: the events table where missing, zeta's rollup of it and its backfill (events_rollup.py)."""
        from zeta_tui.backends.events_rollup import EventsInit

        events = EventsInit(
            self.writer, self.database, log=self.log, settle_s=self.settle_s, lead_s=self.lead_s, sleep=self.sleep
        )
        self.report.events = events.run(fresh=EVENTS_TABLE not in before)
        self.report.warnings.extend(self.report.events.warnings)

    def _add_column(self, statement: str) -> None:
        """schema.sql's ``ADD COLUMN IF NOT EXISTS`` on a table that may be the user's: a table that
        cannot take it (a view, an engine without ALTER) is left as it is, and the report says so."""
        try:
            self._run(statement)
        except ZetaError as exc:
            self.report.warnings.append(
                f"could not add a column to your table ({statement.split(chr(10))[0]}): {exc.message}; the queries "
                "that read the column will say so"
            )

    def _view(self, fresh: bool) -> int:
        """Create the rollup's tables and its view (if missing); the view's cutoff (unix seconds).

        ``fresh``: this run created api_usage, so no row predates the view.
        """
        for name in (f"{ROLLUP_TABLE} (", STAGING_TABLE, f"{BACKFILL_TABLE} ("):
            self._run(_statement(name), **self._params(_EPOCH))
        views = self._run(
            "SELECT toUnixTimestamp(argMax(cutoff, at)), count() FROM "
            "{database:Identifier}.zeta_api_usage_daily_backfill WHERE step = 'view'"
        )
        has_view = ROLLUP_VIEW in self.tables()
        if has_view and int(views[0][1]):
            cutoff = int(views[0][0])
            self.log(f"{ROLLUP_VIEW} exists: it rolls up rows stamped from {_utc(cutoff):%Y-%m-%d %H:%M:%S} UTC on")
            return cutoff
        if has_view:
            self.log(f"{ROLLUP_VIEW} exists but {BACKFILL_TABLE} does not say from when: building zeta's rollup again")
            self._run("DROP VIEW IF EXISTS {database:Identifier}.zeta_api_usage_daily_mv")  # zeta's own view
        if self._scalar("SELECT count() FROM {database:Identifier}.zeta_api_usage_daily") or int(views[0][1]):
            self.log(f"{ROLLUP_TABLE} has rows but no view fills it: emptying zeta's rollup to build it again")
            for table in (ROLLUP_TABLE, STAGING_TABLE, BACKFILL_TABLE):
                self._run("TRUNCATE TABLE {database:Identifier}.{t:Identifier}", t=table)
        # An api_usage with no rows yet (this run made it, or nothing was loaded) has nothing to
        # backfill: its view takes every row, so history loaded after init is rolled up too.
        empty = fresh or not self._scalar("SELECT count() FROM {database:Identifier}.api_usage")
        cutoff = _EPOCH if empty else self.server_now() + self.lead_s
        ahead = self._scalar(
            "SELECT count() FROM {database:Identifier}.api_usage WHERE {col_timestamp:Identifier} >= "
            "toDateTime({cutoff:UInt32})",
            **self._params(cutoff),
        )
        # Stamped in the future: the view will not see them (they are in) and the backfill takes
        # what is before the cutoff.
        if ahead:
            self.report.warnings.append(
                f"{ahead:,} rows of api_usage are stamped at or after the view's cutoff "
                f"({_utc(cutoff):%Y-%m-%d %H:%M:%S} UTC), in the server's future: "
                "neither the view nor the backfill counts them (is the writers' clock ahead?)"
            )
        self._run(
            "INSERT INTO {database:Identifier}.zeta_api_usage_daily_backfill (step, month, cutoff, rows) "
            "VALUES ('view', '1970-01-01', toDateTime({cutoff:UInt32}), 0)",
            cutoff=cutoff,
        )
        self._run(_statement(ROLLUP_VIEW), **self._params(cutoff))
        self.log(
            f"created {ROLLUP_VIEW}: it rolls up rows stamped from {_utc(cutoff):%Y-%m-%d %H:%M:%S} UTC on; "
            "the backfill takes those before"
        )
        return cutoff

    def months(self, cutoff: int) -> list[tuple[date, int]]:
        """(first day, rows) of each month of api_usage that may hold rows stamped before ``cutoff``, oldest first.

        From the parts' date ranges when each partition is one month (the seed's
        ``toYYYYMM(date)``), else from a scan of the date column.
        """
        parts = self._run(
            "SELECT toString(min(min_date)), toString(max(max_date)), sum(rows) FROM system.parts "
            "WHERE database = {database:String} AND table = 'api_usage' AND active GROUP BY partition_id"
        )
        months: dict[date, int] = {}
        by_parts = True
        for low, high, rows in parts:
            first, last = date.fromisoformat(low), date.fromisoformat(high)
            if first.year == 1970 or (first.year, first.month) != (last.year, last.month):  # not one month of `date`
                by_parts = False
                break
            months[first.replace(day=1)] = months.get(first.replace(day=1), 0) + int(rows)
        if not by_parts:
            rows = self._run(
                "SELECT toString(toStartOfMonth({col_date:Identifier})) AS m, count() "
                "FROM {database:Identifier}.api_usage GROUP BY m ORDER BY m",
                **self._params(cutoff),
            )
            months = {date.fromisoformat(m): int(n) for m, n in rows}
        last_month = _utc(cutoff).date().replace(day=1)
        return sorted((m, n) for m, n in months.items() if m <= last_month)

    def _done(self) -> tuple[dict[date, int], dict[date, int], bool]:
        rows = self._run(
            "SELECT step, toString(month), argMax(rows, at) FROM {database:Identifier}.zeta_api_usage_daily_backfill "
            "GROUP BY step, month"
        )
        staged = {date.fromisoformat(m): int(n) for s, m, n in rows if s == "staged"}
        done = {date.fromisoformat(m): int(n) for s, m, n in rows if s == "done"}
        return staged, done, any(s == "complete" for s, _, _ in rows)

    def _backfill(self, cutoff: int) -> None:
        staged, done, complete = self._done()
        months = self.months(cutoff)
        todo = [(m, n) for m, n in months if m not in done]
        if complete and not todo:
            total = sum(done.values())
            self.log(
                f"nothing to backfill: every month is in ({len(done)} month(s), "
                f"{total:,} rows stamped before the cutoff)"
            )
            self._late_rows(months, done, cutoff)
            return
        self.log(
            f"backfilling {len(todo)} month(s) of api_usage into {ROLLUP_TABLE}, oldest first"
            + (f" ({len(months) - len(todo)} already in)" if len(todo) < len(months) else "")
        )
        cutoff_day = _utc(cutoff).date()
        waited = False
        for i, (month, _) in enumerate(todo, 1):
            if not waited and _month_end(month) >= cutoff_day - timedelta(days=1):
                self._wait_past(cutoff)
                waited = True
            started = time.monotonic()
            rows = self._month(month, cutoff, staged.get(month))
            self.report.months_backfilled.append((month, rows))
            self.log(f"  {month:%Y-%m}: {rows:,} rows rolled up ({i}/{len(todo)}, {time.monotonic() - started:.1f} s)")
        self._run(
            "INSERT INTO {database:Identifier}.zeta_api_usage_daily_backfill (step, month, cutoff, rows) "
            "SELECT 'complete', '1970-01-01', toDateTime({cutoff:UInt32}), sum(rows) "
            "FROM {database:Identifier}.zeta_api_usage_daily_backfill WHERE step = 'done'",
            cutoff=cutoff,
        )
        self.log("backfill complete: the catalog reads zeta_api_usage_daily from now on")

    def _wait_past(self, cutoff: int) -> None:
        """Sleep until the server's clock is ``settle_s`` past the cutoff (rows stamped before it have arrived)."""
        left = cutoff + self.settle_s - self.server_now()
        if left > 0:
            self.log(
                f"  waiting {left:.0f} s: the newest months are backfilled once rows stamped before the cutoff "
                f"({_utc(cutoff):%H:%M:%S} UTC) have had {self.settle_s:.0f} s to arrive"
            )
        while left > 0:
            self.sleep(min(left, 5.0))
            left = cutoff + self.settle_s - self.server_now()

    def _month(self, month: date, cutoff: int, staged_rows: int | None) -> int:
        """Backfill one month (see the module): stage, record, move, record. Returns the rows rolled up.

        ``staged_rows``: a run that stopped after staging this month recorded that many.
        """
        pid = f"{month:%Y%m}"
        in_staging = (
            "SELECT sum(requests) FROM {database:Identifier}.zeta_api_usage_daily_staging "
            "WHERE toYYYYMM(date) = {m:UInt32}"
        )
        if staged_rows is not None:
            waiting = self._scalar(in_staging, m=int(pid))
            if waiting == 0:  # moved by that run before it could record it
                self._record("done", month, cutoff, staged_rows)
                return staged_rows
            if waiting != staged_rows:
                staged_rows = None  # staging holds something else: stage again
        if staged_rows is None:
            self._run("TRUNCATE TABLE {database:Identifier}.zeta_api_usage_daily_staging")
            where = (
                "{col_date:Identifier} >= {first:Date} AND {col_date:Identifier} < {next:Date} "
                "AND {col_timestamp:Identifier} < toDateTime({cutoff:UInt32})"
            )
            columns = list(ROLLUP_SOURCES)
            self._run(
                f"INSERT INTO {{database:Identifier}}.zeta_api_usage_daily_staging ({', '.join(columns)})\n"
                + daily_select(rollup_sql(), columns, where),
                **self._params(cutoff),
                first=month,
                next=_next_month(month),
            )
            staged_rows = self._scalar(in_staging, m=int(pid))
            self._record("staged", month, cutoff, staged_rows)
        if staged_rows:
            # MOVE ... TO TABLE takes no parameter: the database is quoted here (pid is six digits).
            self._run(
                f"ALTER TABLE {{database:Identifier}}.zeta_api_usage_daily_staging MOVE PARTITION ID '{pid}' "
                f"TO TABLE {quote_identifier(self.database)}.zeta_api_usage_daily"
            )
        self._record("done", month, cutoff, staged_rows)
        return staged_rows

    def _record(self, step: str, month: date, cutoff: int, rows: int) -> None:
        self._run(
            "INSERT INTO {database:Identifier}.zeta_api_usage_daily_backfill (step, month, cutoff, rows) "
            "VALUES ({step:String}, {month:Date}, toDateTime({cutoff:UInt32}), {rows:UInt64})",
            step=step,
            month=month,
            cutoff=cutoff,
            rows=rows,
        )

    def _late_rows(self, months: list[tuple[date, int]], done: Mapping[date, int], cutoff: int) -> None:
        """Warn about months that now hold more rows stamped before the cutoff than were backfilled."""
        last_month = _utc(cutoff).date().replace(day=1)
        for month, parts_rows in months:
            if month < last_month and month in done and parts_rows > done[month]:
                self.report.warnings.append(
                    f"{month:%Y-%m}: api_usage holds {parts_rows - done[month]:,} more rows than were backfilled "
                    "(rows stamped before the cutoff that arrived later, or deleted rows not yet merged away): "
                    "the rollup does not count them"
                )


def _statement(marker: str) -> str:
    """rollup.sql's statement whose first line names ``{database:Identifier}.`` + ``marker``."""
    found = [s for s in rollup_statements() if "{database:Identifier}." + marker in s.splitlines()[0]]
    if len(found) != 1:
        raise ValueError(f"rollup.sql has {len(found)} statements creating {marker!r}")
    return found[0]


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_end(month: date) -> date:
    return _next_month(month) - timedelta(days=1)
