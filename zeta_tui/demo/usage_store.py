"""The demo's usage and cost: the world's api_usage, tenants and cost_data in the embedded store.

``WorldUsageStore(path, world)`` opens the chdb store the demo's logs and traces live in (the
same path and process-wide session) and creates in ``database`` what `zeta clickhouse init`
creates on a fresh database (backends/usage_rollup.py: schema.sql's api_usage, cost_data and
tenants, rollup.sql's zeta_api_usage_daily with its view, and the api_usage_daily view the
seed's queries read), then writes:

- api_usage: one row per request of a public service (usage.py), in the seed's columns, 1
  request in ``DEMO_USAGE_SAMPLE_EVERY`` = 100 (``seq % 100 == 0``). The logs keep 1 in 10
  (``seq % 10 == 0``), so every usage row inside the logs' 24 h has its log line and trace
  (inside the traces' 3 h). The Tenants figures count recorded rows; a real deployment
  records every call.
- zeta_api_usage_daily: filled by its materialized view on every insert.
- cost_data: per (date, service, tenant_id), calls counted in api_usage (GROUP BY here) times
  the day's unit cost (usage.py). A day is re-written whenever rows land in it (today as it
  fills, about once a minute); cost_data is a ReplacingMergeTree on that key and is merged
  (``OPTIMIZE ... FINAL``, a few thousand rows) right after, so readers with or without FINAL
  see one row per key.
- tenants: written at the start and once a day (with the prune); re-written only if the stored
  tenants differ from the world's of that day (usage.tenant_rows: start and end dates count back
  from the day).

History: ``HISTORY_DAYS`` = 35 whole days before today plus today, so a calendar month's
quota and a 30-day trend are whole. ``prune`` (once a day) drops the monthly partitions and
deletes the rows (lightweight DELETE) of api_usage, zeta_api_usage_daily and cost_data older
than that. A store written by a zeta whose api_usage had other columns (user_id,
response_time_ms) is the demo's own: its usage tables are dropped and written again.

About 191,000 rows a day (seed 42), ~175 MB for the whole history, ~4.5 s of one core to
generate a day: the measured sizes and times are in docs/performance.md.

``LiveUsageWriter`` keeps it current while ``zeta demo`` runs, like the trace writer
(store_writer.py): its live thread writes each 15 s step as it ends, from the start; its
history thread writes the tenants, then every gap from a child process (``python -m
zeta_tui.demo.usage_store``, nice 10) in 3-hour chunks, newest first, so recent days appear
first, and keeps house: today's cost about once a minute, the prune once a day.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from zeta_tui.backends.usage_rollup import RollupInit
from zeta_tui.demo.log_store import LiveLogWriter, WorldLogStore, own_session
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequest, WorldRequests
from zeta_tui.demo.store_writer import child_arguments, print_windows, skipping
from zeta_tui.demo.usage import ML_ENDPOINT, ML_SERVICE, cost_rows, service_of, tenant_rows, usage_rows
from zeta_tui.demo.world import TeamZetaWorld

#: The demo records 1 request in this many as api_usage (a subset of the logs' 1 in 10).
DEMO_USAGE_SAMPLE_EVERY = 100
#: Whole days of usage kept before today.
HISTORY_DAYS = 35
#: The history generator's chunk: it prints this much at a time, newest first.
CHUNK_SECONDS = 3 * 3600
#: How often today's cost is re-written while the day fills.
COST_REFRESH_SECONDS = 60.0
_DAY = 86400
_TABLES = ("api_usage", "zeta_api_usage_daily", "cost_data")


def history_start(now: float, days: int = HISTORY_DAYS) -> float:
    """Midnight (UTC) ``days`` days before the day of ``now``: where the kept history begins."""
    today = datetime.fromtimestamp(now, tz=UTC).date()
    return datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=UTC).timestamp()


def writer_session(path: str | Path, settings: dict[str, object] | None = None) -> Any:
    """A chdb session of the usage writer's own on the store at ``path`` (see log_store.own_session)."""
    return own_session(path, settings, setting="clickhouse.path")


def _tenant_key(row: dict) -> tuple:
    """A tenants row as comparable values (ClickHouse prints 64-bit integers as strings)."""
    return (
        row["tenant_id"],
        row["name"],
        row["plan"],
        float(row["mrr_usd"]),
        int(row["monthly_quota_calls"]),
        int(row["created_at"]),
        None if row["ended_at"] is None else int(row["ended_at"]),
    )


class WorldUsageStore(WorldLogStore):
    """The world's api_usage, cost_data and tenants in ``database`` of an embedded chdb store.

    Coverage (which windows are written), inserting ready-made lines, counting and closing work
    as in the log store; the rows, the cost and the pruning are usage's own.
    """

    noun = "usage"

    def __init__(
        self,
        path: str | Path,
        world: TeamZetaWorld,
        *,
        database: str = "default",
        sample_every: int = DEMO_USAGE_SAMPLE_EVERY,
        session: Any = None,
    ) -> None:
        self.path = str(Path(path).expanduser())
        self.database, self.table, self.namespace, self.sample_every = (
            database,
            "api_usage",
            world.namespace,
            sample_every,
        )
        self.world = world
        self.marked = 0  # windows recorded by this object (the writer says when the first lands)
        self.session = session if session is not None else writer_session(self.path)
        self.own = True
        self._query("CREATE DATABASE IF NOT EXISTS {database:Identifier}")
        self._drop_old_shape()
        RollupInit(self._writer(), database).run()
        self._query(
            "CREATE TABLE IF NOT EXISTS {database:Identifier}.{coverage:Identifier} (start Float64, end Float64) "
            "ENGINE = MergeTree ORDER BY start"
        )

    def _writer(self) -> Any:
        from zeta_tui.backends.clickhouse_engine import ClickHouseEngine, SqlWriter
        from zeta_tui.config.models import ClickHouseConfig

        return SqlWriter(
            ClickHouseEngine(ClickHouseConfig(path=self.path, database=self.database), "clickhouse"), self.session, None
        )

    def _drop_old_shape(self) -> None:
        """Drop the usage tables an earlier zeta wrote with other columns (user_id, response_time_ms):
        the demo's own data."""
        columns = self._query(
            "SELECT name FROM system.columns WHERE database = {database:String} AND table = 'api_usage'"
        ).split()
        if columns and '"latency_ms"' not in columns:
            for name in ("api_usage_daily_mv", "api_usage_daily", "api_usage", f"{self.table}_coverage"):
                self._query("DROP TABLE IF EXISTS {database:Identifier}.{name:Identifier}", name=name)

    def rows(self, requests: Iterable[WorldRequest]) -> Iterator[dict[str, object]]:
        """The api_usage rows of ``requests`` (those of public services)."""
        return usage_rows(requests)

    def newest_ns(self) -> int | None:
        """The newest row's timestamp (ns, whole seconds), or None for an empty table."""
        count, newest = (
            self._query("SELECT count(), toUnixTimestamp(max(timestamp)) FROM {database:Identifier}.api_usage")
            .strip()
            .split(",")
        )
        return int(newest) * 1_000_000_000 if int(count) else None

    # --- tenants ---------------------------------------------------------------------------

    def write_tenants(self, today: date | None = None) -> bool:
        """Write the world's tenants as of ``today`` (default: the UTC day now) unless the table holds
        exactly them; returns whether it wrote. The tenants' start and end dates count back from the
        day, so a new day re-writes them."""
        import orjson

        day = today or datetime.now(tz=UTC).date()
        rows = tenant_rows(self.world.topology, day)
        out = self._query(
            "SELECT tenant_id, name, plan, mrr_usd, monthly_quota_calls, toUnixTimestamp(created_at) AS created_at, "
            "toUnixTimestamp(ended_at) AS ended_at FROM {database:Identifier}.tenants FINAL ORDER BY tenant_id",
            "JSONEachRow",
        )
        have = [_tenant_key(orjson.loads(line)) for line in out.splitlines() if line.strip()]
        if have == sorted(_tenant_key(r) for r in rows):
            return False
        self._query("TRUNCATE TABLE {database:Identifier}.tenants")
        self.insert_json("tenants", rows)
        return True

    def insert_json(self, table: str, rows: list[dict[str, object]]) -> None:
        import orjson

        if rows:
            self._query(
                "INSERT INTO {database:Identifier}.{name:Identifier} FORMAT JSONEachRow\n"
                + b"\n".join(orjson.dumps(r) for r in rows).decode(),
                name=table,
            )

    # --- cost ------------------------------------------------------------------------------

    def days_between(self, start: float, end: float) -> list[date]:
        """The days (as the table's ``date`` column counts them) of the instants in [start, end]."""
        a, b = self._query(
            "SELECT toDate(toDateTime({a:Int64})), toDate(toDateTime({b:Int64}))", a=int(start), b=int(end)
        ).split(",")
        first, last = date.fromisoformat(a.strip().strip('"')), date.fromisoformat(b.strip().strip('"'))
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def call_counts(self, days: list[date]) -> dict[tuple[date, str, str], int]:
        """Calls per (day, cost service, tenant) of ``days``, counted in api_usage."""
        if not days:
            return {}
        out = self._query(
            "SELECT date, tenant_id, method, endpoint, count() FROM {database:Identifier}.api_usage "
            "WHERE date >= {a:Date} AND date <= {b:Date} GROUP BY date, tenant_id, method, endpoint",
            "TabSeparated",
            a=min(days).isoformat(),
            b=max(days).isoformat(),
        )
        counts: dict[tuple[date, str, str], int] = {}
        for line in out.splitlines():
            day_text, tenant, method, endpoint, n = line.split("\t")
            day = date.fromisoformat(day_text)
            services = [service_of(endpoint)] + ([ML_SERVICE] if (method, endpoint) == ML_ENDPOINT else [])
            for service in services:
                counts[(day, service, tenant)] = counts.get((day, service, tenant), 0) + int(n)
        return counts

    def refresh_cost(self, days: list[date]) -> int:
        """Re-write the cost_data rows of ``days`` from their api_usage; returns how many rows."""
        rows = cost_rows(self.call_counts(days))
        self.insert_json("cost_data", rows)
        self._query(
            "OPTIMIZE TABLE {database:Identifier}.cost_data FINAL"
        )  # one row per key, for readers without FINAL
        return len(rows)

    def mark_covered(self, start: float, end: float) -> None:
        """Record that (start, end] is written, and re-write the cost of its days."""
        super().mark_covered(start, end)
        self.refresh_cost(self.days_between(start, end))
        self.marked += 1

    # --- size ------------------------------------------------------------------------------

    def prune(self, now: float, keep_days: int = HISTORY_DAYS) -> int:  # type: ignore[override]
        """Drop what is older than ``keep_days`` whole days before the day of ``now``; returns partitions dropped.

        Whole months go with their partition, the rest with a lightweight DELETE.
        """
        cutoff = (self.days_between(now, now)[0] - timedelta(days=keep_days)).isoformat()
        self.drop_partitions_before("zeta_api_usage_daily", cutoff, newest="max_date", kind="Date")
        dropped = self.drop_partitions_before("api_usage", cutoff, newest="max_date", kind="Date")
        for table in _TABLES:
            old = "FROM {database:Identifier}.{name:Identifier} WHERE date < {cutoff:Date}"
            if (
                self._query("SELECT count() " + old, name=table, cutoff=cutoff).strip() != "0"
            ):  # a DELETE is a mutation: only when due
                self._query("DELETE " + old, name=table, cutoff=cutoff)
        self._query(
            "DELETE FROM {database:Identifier}.{coverage:Identifier} WHERE end < {t:Float64}",
            t=history_start(now, keep_days),
        )
        return dropped

    def disk_bytes(self, table: str = "api_usage") -> int:  # type: ignore[override]
        """Bytes ``table``'s active parts take on disk."""
        out = self._query(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {database:String} "
            "AND table = {name:String} AND active",
            name=table,
        )
        return int(out.strip() or 0)

    def close(self) -> None:
        """Close the store's own session (the process's shared one stays with the log store)."""
        self.close_own()

    def truncate(self) -> None:
        """Empty every table of the store's usage (the next start writes it again)."""
        for name in (*_TABLES, "tenants", f"{self.table}_coverage"):
            self._query("TRUNCATE TABLE {database:Identifier}.{name:Identifier}", name=name)


class LiveUsageWriter(LiveLogWriter):
    """Keeps the demo's usage and cost current while ``zeta demo`` runs, next to the log writer.

    The live thread writes each 15 s step as it ends, from the start. The history thread writes
    the tenants, then every gap of the 35 days from a child process (newest 3 h first, the cost
    of each chunk's days re-written as it lands, and today's about once a minute meanwhile),
    then keeps house: today's cost about once a minute, the prune once a day.
    """

    child_module = "zeta_tui.demo.usage_store"
    noun = "usage"
    what = "usage"
    opens_in_thread = True  # the console draws while its tables are made
    chunk_seconds = CHUNK_SECONDS  # 1 request in 100: three hours are small
    tick_seconds = float(STEP_SECONDS)  # nobody searches usage by the second: a step at a time
    housekeeping_seconds = COST_REFRESH_SECONDS
    prune_seconds = float(_DAY)

    def __init__(
        self,
        world: TeamZetaWorld,
        path: str | Path,
        *,
        sample_every: int = DEMO_USAGE_SAMPLE_EVERY,
        history_days: int = HISTORY_DAYS,
        database: str = "default",
        fresh: bool = False,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        super().__init__(
            world,
            path,
            sample_every=sample_every,
            history_seconds=history_days * _DAY,
            fresh=fresh,
            clock=clock,
            log=log,
        )
        self.history_days, self.database = history_days, database
        self._cost_from = 0.0

    def open_store(self, session: Any) -> WorldUsageStore:
        return WorldUsageStore(
            self.path,
            self.requests.world,
            database=self.database,
            sample_every=self.requests.sample_every,
            session=session,
        )

    @property
    def usage(self) -> WorldUsageStore:
        assert isinstance(self.store, WorldUsageStore), "the writer is not started"
        return self.store

    def history_from(self, now: float) -> float:
        return history_start(now, self.history_days)

    def begin(self, now: float) -> Any:
        self._cost_from = now
        return super().begin(now)

    def before_fill(self) -> None:
        self.history.write_tenants(datetime.fromtimestamp(self.clock(), tz=UTC).date())

    def covered(self, start: float, end: float) -> None:
        """A chunk is in (see StoreWriter._consume: its rows came with its marker): record it, with
        its days' cost; today's cost is kept fresh meanwhile."""
        self.history.mark_covered(start, end)
        if self.history.marked == 1:
            self.log("demo usage: the newest hours are in; older history follows in the background")
        self.refresh_cost(self.clock())

    def refresh_cost(self, now: float) -> None:
        """Re-write the cost of the days since the last refresh, once a minute."""
        if now - self._cost_from >= COST_REFRESH_SECONDS:
            self.history.refresh_cost(self.history.days_between(self._cost_from, now))  # yesterday too, after midnight
            self._cost_from = now

    def housekeeping(self, now: float) -> None:
        """Today's cost once a minute, the prune once a day."""
        self.refresh_cost(now)
        super().housekeeping(now)

    def prune(self, now: float) -> None:
        self.history.prune(now, self.history_days)
        self.history.write_tenants(datetime.fromtimestamp(now, tz=UTC).date())  # a new day: the dates move

    def stop(self, timeout: float = 10.0) -> None:
        """Stop writing and close the store's own sessions (the process's shared one is the log writer's to close).

        A generating child is killed first: the thread may be waiting for its output.
        """
        super().stop(timeout)


def main(argv: list[str] | None = None) -> int:
    """Print the world's api_usage rows (JSONEachRow) for (start, end], newest chunk first: the child
    of LiveUsageWriter."""
    import orjson

    parser = argparse.ArgumentParser(description=main.__doc__)
    child_arguments(parser, CHUNK_SECONDS, DEMO_USAGE_SAMPLE_EVERY)
    args = parser.parse_args(argv)
    requests = WorldRequests(
        TeamZetaWorld(args.seed, args.namespace, incident_shift=args.incident_shift), args.sample_every
    )

    def rows(lower: float, edge: float) -> Iterable[bytes]:
        return map(orjson.dumps, usage_rows(skipping(requests.generate(lower, edge), args.skip)))

    return print_windows(args, rows)


if __name__ == "__main__":
    raise SystemExit(main())
