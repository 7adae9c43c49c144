"""`zeta clickhouse init`'s work for product analytics: ``events`` where missing, zeta's rollup of it, the backfill.

Run by RollupInit.run (backends/usage_rollup.py) after the usage rollup, so `zeta clickhouse
init`, `zeta demo` and the benches create it beside the others. Nothing the user made is
touched: an ``events`` table that exists is only read; zeta writes only to the zeta_events_* objects.

The rollup is filled as the usage rollup is (usage_rollup.py's docstring says why no row is lost
or counted twice): the view ``zeta_events_daily_mv`` takes the rows stamped at or after a
cutoff, the backfill those stamped before it. An ``events`` table with no rows (made by this run,
or empty) gets cutoff 0 and nothing to backfill, so events loaded after init are all rolled up.

The backfill is simpler than usage's month-by-month one, and as idempotent: the older events
are aggregated into staging in one INSERT ... SELECT and recorded 'staged'; then each month of
staging is moved into the rollup (``MOVE PARTITION``: a month is in entirely or not at all);
then 'complete' is recorded. A run stopped before 'staged' stages again (staging is emptied
first); stopped after it, moves the months still in staging, which are exactly those not yet
moved. Product events are fewer than API requests by orders of magnitude, so one statement
is enough; the run prints what it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from zeta_tui.querying.events_sources import (
    EVENTS_BACKFILL,
    EVENTS_ROLLUP,
    EVENTS_STAGING,
    EVENTS_TABLE,
    EVENTS_VIEW,
    events_statement,
    events_view_select,
)
from zeta_tui.querying.sql_catalog import quote_identifier

_CREATE_ORDER = (EVENTS_TABLE, EVENTS_ROLLUP, EVENTS_STAGING, EVENTS_BACKFILL)


class Writer(Protocol):
    """A statement runner with write access (usage_rollup.Writer)."""

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> list[list[Any]]: ...


@dataclass
class EventsReport:
    """What the events part of init did."""

    cutoff: int = 0
    backfilled: int | None = None  # events rolled up by this run's backfill (None: nothing to do)
    rollup_events: int = 0
    events_rows: int = 0
    warnings: list[str] = field(default_factory=list)


class EventsInit:
    """Creates ``events`` (if missing), its rollup, view and backfill bookkeeping, and backfills (blocking)."""

    def __init__(
        self,
        writer: Writer,
        database: str,
        *,
        log: Callable[[str], None] = lambda line: None,
        settle_s: float = 30.0,
        lead_s: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.writer, self.database = writer, database
        self.log, self.settle_s, self.lead_s, self.sleep = log, settle_s, lead_s, sleep
        self.report = EventsReport()

    def _run(self, sql: str, **params: Any) -> list[list[Any]]:
        return self.writer.run(sql, {"database": self.database, **params})

    def _scalar(self, sql: str, **params: Any) -> int:
        rows = self._run(sql, **params)
        return int(rows[0][0] or 0) if rows else 0

    def _tables(self) -> set[str]:
        rows = self._run("SELECT name FROM system.tables WHERE database = {database:String}")
        return {str(r[0]) for r in rows}

    def run(self, fresh: bool) -> EventsReport:
        """Everything in order; ``fresh``: ``events`` did not exist before this init run."""
        for name in _CREATE_ORDER:
            self._run(events_statement(name))
        cutoff = self._view(fresh)
        self.report.cutoff = cutoff
        self._backfill(cutoff)
        self.report.rollup_events = self._scalar("SELECT sum(events) FROM {database:Identifier}.zeta_events_daily")
        self.report.events_rows = self._scalar("SELECT count() FROM {database:Identifier}.events")
        return self.report

    def _steps(self) -> dict[str, tuple[int, int]]:
        rows = self._run(
            "SELECT step, toUnixTimestamp(argMax(cutoff, at)), argMax(rows, at) "
            "FROM {database:Identifier}.zeta_events_daily_backfill GROUP BY step"
        )
        return {str(s): (int(c), int(n)) for s, c, n in rows}

    def _view(self, fresh: bool) -> int:
        steps = self._steps()
        has_view = EVENTS_VIEW in self._tables()
        if has_view and "view" in steps:
            return steps["view"][0]
        if has_view:
            self.log(f"{EVENTS_VIEW} exists but {EVENTS_BACKFILL} does not say from when: building it again")
            self._run("DROP VIEW IF EXISTS {database:Identifier}.zeta_events_daily_mv")  # zeta's own view
        if steps or self._scalar("SELECT count() FROM {database:Identifier}.zeta_events_daily"):
            self.log(
                f"{EVENTS_ROLLUP} has rows but no view fills it: emptying zeta's rollup of events to build it again"
            )
            for table in (EVENTS_ROLLUP, EVENTS_STAGING, EVENTS_BACKFILL):
                self._run("TRUNCATE TABLE {database:Identifier}.{t:Identifier}", t=table)
        empty = fresh or not self._scalar("SELECT count() FROM {database:Identifier}.events")
        cutoff = 0 if empty else self._scalar("SELECT toUnixTimestamp(now())") + self.lead_s
        ahead = self._scalar(
            "SELECT count() FROM {database:Identifier}.events WHERE event_time >= toDateTime({cutoff:UInt32})",
            cutoff=cutoff,
        )
        if ahead and cutoff:
            self.report.warnings.append(
                f"{ahead:,} rows of events are stamped at or after the view's cutoff ({_utc(cutoff)}), in the "
                "server's future: neither the view nor the backfill counts them (is the writers' clock ahead?)"
            )
        self._record("view", cutoff, 0)
        self._run(events_statement(EVENTS_VIEW), cutoff=cutoff)
        self.log(f"created {EVENTS_VIEW}: it rolls up events stamped from {_utc(cutoff)} on")
        return cutoff

    def _record(self, step: str, cutoff: int, rows: int) -> None:
        self._run(
            "INSERT INTO {database:Identifier}.zeta_events_daily_backfill (step, cutoff, rows) "
            "VALUES ({step:String}, toDateTime({cutoff:UInt32}), {rows:UInt64})",
            step=step,
            cutoff=cutoff,
            rows=rows,
        )

    def _backfill(self, cutoff: int) -> None:
        steps = self._steps()
        if "complete" in steps:
            self.log(
                f"{EVENTS_ROLLUP}: nothing to backfill ({steps['complete'][1]:,} events were stamped before the cutoff)"
            )
            return
        if cutoff == 0:
            self._record("complete", cutoff, 0)
            return
        started = time.monotonic()
        if "staged" not in steps:
            left = cutoff + self.settle_s - self._scalar("SELECT toUnixTimestamp(now())")
            if left > 0:
                self.log(f"  waiting {left:.0f} s for events stamped before the cutoff to arrive")
            while left > 0:
                self.sleep(min(left, 5.0))
                left = cutoff + self.settle_s - self._scalar("SELECT toUnixTimestamp(now())")
            self._run("TRUNCATE TABLE {database:Identifier}.zeta_events_daily_staging")
            self._run(
                "INSERT INTO {database:Identifier}.zeta_events_daily_staging (date, tenant_id, model_version, event, "
                "events)\n"
                + events_view_select().replace(
                    "FROM {database:Identifier}.events",
                    "FROM {database:Identifier}.events\nWHERE event_time < toDateTime({cutoff:UInt32})",
                ),
                cutoff=cutoff,
            )
            staged = self._scalar("SELECT sum(events) FROM {database:Identifier}.zeta_events_daily_staging")
            self._record("staged", cutoff, staged)
        else:
            staged = steps["staged"][1]
        months = self._run(
            "SELECT DISTINCT partition_id FROM system.parts WHERE database = {database:String} "
            "AND table = 'zeta_events_daily_staging' AND active ORDER BY partition_id"
        )
        for (pid,) in months:
            if not str(pid).isdigit():
                raise ValueError(f"unexpected partition id {pid!r} in {EVENTS_STAGING}")
            # MOVE ... TO TABLE takes no parameter: the database is quoted here (pid is digits only).
            self._run(
                f"ALTER TABLE {{database:Identifier}}.zeta_events_daily_staging MOVE PARTITION ID '{pid}' "
                f"TO TABLE {quote_identifier(self.database)}.zeta_events_daily"
            )
        self._record("complete", cutoff, staged)
        self.report.backfilled = staged
        self.log(
            f"{EVENTS_ROLLUP}: {staged:,} events stamped before the cutoff backfilled "
            f"({len(months)} month(s), {time.monotonic() - started:.1f} s)"
        )


def _utc(seconds: int) -> str:
    return f"{datetime.fromtimestamp(seconds, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"
