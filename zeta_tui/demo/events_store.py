"""The demo's product events: the world's ``events`` (events.py) in the embedded store, as usage is written.

``WorldEventStore(path, world)`` opens the chdb store the demo's logs, traces and usage live in,
creates ``events`` where it is missing (queries/clickhouse/events.sql's statement, the contract of
docs/product-analytics.md; `zeta clickhouse init` creates the same table and zeta's rollup of it)
and writes the world's events, 1 recommendation in ``DEMO_EVENTS_SAMPLE_EVERY`` = 1000 with the
sessions and funnels that come with them (events.py says what matches which counter).

History: ``HISTORY_DAYS`` = 35 whole days before today plus today, as api_usage keeps, so the
retention cohorts have five weeks. ``prune`` (once a day) drops the monthly partitions wholly
older than that and deletes the older rows of the rest (a lightweight DELETE, only when due),
in ``events`` and, where it exists, zeta's daily rollup of it.

About 98,000 events a day (seed 42), ~3.5 million for the whole history; generating a day takes
about a second of one core (the figures and the first start's cost: docs/performance.md).

``LiveEventWriter`` keeps it current while ``zeta demo`` runs, as the usage writer does
(store_writer.py): its live thread writes each 15 s step's events as their time passes, from
the start; its history thread fills every gap of the 35 days from a child process (``python -m
zeta_tui.demo.events_store``, nice 10) in 3-hour windows, newest first, each inserted only with
its end marker and recorded, so a demo stopped at any moment resumes without writing an event
twice. An event belongs to the step it is stamped in (a click belongs to its own step, not to
its impression's), which is what the writers' coverage and resume logic counts on.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from zeta_tui.demo.events import DEMO_EVENTS_SAMPLE_EVERY, WorldEvent, WorldEvents
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS
from zeta_tui.demo.store_writer import Generator, StoreWriter, child_arguments, print_windows, skipping
from zeta_tui.demo.usage_store import HISTORY_DAYS, history_start, writer_session
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.querying.events_sources import EVENTS_ROLLUP, events_statement

#: How long the live thread waits for the usage writer's store (``after``) before it opens its own.
AFTER_TIMEOUT_S = 60.0
#: The history generator's window: its rows wait for their marker (3 h: ~14,000 events, ~3 MB).
CHUNK_SECONDS = 3 * 3600
_DAY = 86400


class WorldEventStore(WorldLogStore):
    """The world's product events in ``database.events`` of an embedded chdb store.

    Coverage, inserting ready-made lines, counting and closing work as in the log store.
    """

    noun = "event"

    def __init__(
        self,
        path: str | Path,
        world: TeamZetaWorld,
        *,
        database: str = "default",
        sample_every: int = DEMO_EVENTS_SAMPLE_EVERY,
        session: Any = None,
    ) -> None:
        self.path = str(Path(path).expanduser())
        self.database, self.table, self.namespace, self.sample_every = database, "events", world.namespace, sample_every
        self.world = world
        self.session = session if session is not None else writer_session(self.path)
        self.own = True
        self._query("CREATE DATABASE IF NOT EXISTS {database:Identifier}")
        self._query(events_statement("events"))  # the shipped contract, queries/clickhouse/events.sql
        self._query(
            "CREATE TABLE IF NOT EXISTS {database:Identifier}.{coverage:Identifier} (start Float64, end Float64) "
            "ENGINE = MergeTree ORDER BY start"
        )

    def rows(self, requests: Iterable[WorldEvent]) -> Iterator[dict[str, object]]:  # type: ignore[override]
        """The events table's rows of ``requests`` (world events)."""
        return (e.row() for e in requests)

    def newest_ns(self) -> int | None:
        """The newest event's time (ns, whole milliseconds), or None for an empty table."""
        count, newest = (
            self._query("SELECT count(), toUnixTimestamp64Nano(max(event_time)) FROM {database:Identifier}.events")
            .strip()
            .split(",")
        )
        return int(newest) if int(count) else None

    def prune(self, now: float, keep_days: int = HISTORY_DAYS) -> int:  # type: ignore[override]
        """Drop what is older than ``keep_days`` whole days before the day of ``now``; returns partitions dropped.

        Whole months go with their partition, the rest with a lightweight DELETE (only when due)."""
        cutoff = int(history_start(now, keep_days))
        out = self._query(
            "SELECT _partition_id FROM {database:Identifier}.events GROUP BY _partition_id "
            "HAVING max(event_time) < toDateTime64({cutoff:Int64}, 3)",
            cutoff=cutoff,
        )
        ids = [line.strip().strip('"') for line in out.splitlines() if line.strip()]
        for pid in ids:
            if pid.isdigit():  # a month, YYYYMM
                self._query(f"ALTER TABLE {{database:Identifier}}.events DROP PARTITION ID '{pid}'")
        old = "FROM {database:Identifier}.events WHERE event_time < toDateTime64({cutoff:Int64}, 3)"
        if self._query("SELECT count() " + old, cutoff=cutoff).strip() != "0":
            self._query("DELETE " + old, cutoff=cutoff)
        if self._has(EVENTS_ROLLUP):
            old = "FROM {database:Identifier}.{name:Identifier} WHERE date < toDate(toDateTime({cutoff:Int64}, 'UTC'))"
            if self._query("SELECT count() " + old, name=EVENTS_ROLLUP, cutoff=cutoff).strip() != "0":
                self._query("DELETE " + old, name=EVENTS_ROLLUP, cutoff=cutoff)
        self._query("DELETE FROM {database:Identifier}.{coverage:Identifier} WHERE end < {t:Float64}", t=float(cutoff))
        return len(ids)

    def _has(self, table: str) -> bool:
        return (
            self._query(
                "SELECT count() FROM system.tables WHERE database = {database:String} AND name = {name:String}",
                name=table,
            ).strip()
            != "0"
        )

    def close(self) -> None:
        """Close the store's own session (the process's shared one stays with the log store)."""
        self.close_own()


class LiveEventWriter(StoreWriter):
    """Keeps the demo's product events current while ``zeta demo`` runs, beside the usage writer.

    The live thread writes each 15 s step's events as their time passes, from the start (once
    ``after`` is set, if given: the usage writer's first write, its tables made); the history
    thread fills every gap of the 35 days from a child process, newest 3 h first, then prunes
    once a day.
    """

    child_module = "zeta_tui.demo.events_store"
    noun = "event"
    what = "events"
    opens_in_thread = True  # the console draws while its tables are made
    chunk_seconds = float(CHUNK_SECONDS)
    tick_seconds = float(STEP_SECONDS)  # a few events a second: a step at a time is enough
    housekeeping_seconds = 600.0
    prune_seconds = float(_DAY)

    def __init__(
        self,
        world: TeamZetaWorld,
        path: str | Path,
        *,
        sample_every: int = DEMO_EVENTS_SAMPLE_EVERY,
        history_days: int = HISTORY_DAYS,
        database: str = "default",
        fresh: bool = False,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] = lambda message: None,
        after: threading.Event | None = None,
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
        self.windows_in = 0  # history windows recorded since the start
        self.after = after

    def generator(self, world: TeamZetaWorld, sample_every: int) -> Generator:
        return WorldEvents(world, sample_every)

    def _run_live(self) -> None:
        # The usage writer's store runs `zeta clickhouse init`'s work, which makes ``events`` and
        # zeta's rollup of it; the rollup takes every row only if its view exists before the first
        # row is written (on an empty table its cutoff is 0), so the first row waits for that.
        if self.after is not None:
            self.after.wait(AFTER_TIMEOUT_S)
        super()._run_live()

    def open_store(self, session: Any) -> WorldEventStore:
        return WorldEventStore(
            self.path,
            self.requests.world,
            database=self.database,
            sample_every=self.requests.sample_every,
            session=session,
        )

    @property
    def events(self) -> WorldEventStore:
        assert isinstance(self.store, WorldEventStore), "the writer is not started"
        return self.store

    def history_from(self, now: float) -> float:
        return history_start(now, self.history_days)

    def covered(self, start: float, end: float) -> None:
        """A window of the child's is in: record it (and say so for the first)."""
        super().covered(start, end)
        self.windows_in += 1
        if self.windows_in == 1:
            self.log("demo events: the newest hours are in; older history follows in the background")

    def prune(self, now: float) -> None:
        self.history.prune(now, self.history_days)


def main(argv: list[str] | None = None) -> int:
    """Print the world's events (JSONEachRow) for (start, end], newest window first, each followed by
    its marker: the child of LiveEventWriter."""
    import orjson

    parser = argparse.ArgumentParser(description=main.__doc__)
    child_arguments(parser, CHUNK_SECONDS, DEMO_EVENTS_SAMPLE_EVERY)
    args = parser.parse_args(argv)
    events = WorldEvents(
        TeamZetaWorld(args.seed, args.namespace, incident_shift=args.incident_shift), args.sample_every
    )

    def rows(lower: float, edge: float) -> Iterable[bytes]:
        return (orjson.dumps(e.row()) for e in skipping(events.generate(lower, edge), args.skip))

    return print_windows(args, rows)


if __name__ == "__main__":
    raise SystemExit(main())
