"""The world's usage over five weeks, small enough for screen tests: one 15-minute slice a day.

Thirty-five days of every recorded request would take the generator minutes (its cost is per
15 s step, whatever the sampling), so the analytics screens are tested on the same 15 minutes
(14:00-14:15 UTC) of each of the 35 days up to the tests' fixed clock: the world's own requests
(1 in 100, as the demo records them), its tenants, and cost_data from their calls. Daily totals
are a slice's, but every figure on screen can be recounted from ``requests`` in plain Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from tests.support.world import SEED, T0
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, ZetaConfig
from zeta_tui.demo.requests import WorldRequests
from zeta_tui.demo.usage import PUBLIC_SERVICES
from zeta_tui.demo.world import TeamZetaWorld

DAYS = 35
SAMPLE_EVERY = 100
SLICE_START_HOUR = 14
SLICE_SECONDS = 900
TODAY = datetime.fromtimestamp(T0, tz=UTC).date()


def day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


class UsageSlices:
    """The store at ``path`` (database ``database``) with the slices written; ``requests`` are theirs."""

    def __init__(self, path, database: str = "analytics") -> None:
        from zeta_tui.demo.usage_store import WorldUsageStore

        self.path, self.database = str(path), database
        self.world = TeamZetaWorld(SEED)
        generator = WorldRequests(self.world, sample_every=SAMPLE_EVERY)
        self.requests = []
        days = [TODAY - timedelta(days=i) for i in range(DAYS - 1, -1, -1)]
        for d in days:
            start = day_start(d) + SLICE_START_HOUR * 3600
            self.requests += list(generator.generate(start, start + SLICE_SECONDS))
        self.store = WorldUsageStore(path, self.world, database=database, sample_every=SAMPLE_EVERY)
        self.store.truncate()
        self.store.write_tenants(TODAY)
        self.store.insert(self.requests)
        self.store.refresh_cost(days)
        self.public = [r for r in self.requests if r.service in PUBLIC_SERVICES]

    def config(self, **context) -> ZetaConfig:
        ctx = ContextConfig(clickhouse=ClickHouseConfig(path=self.path, database=self.database), **context)
        return ZetaConfig(default_context="w", contexts={"w": ctx})

    def in_window(self, days: int) -> list:
        """The public requests of the ``days`` days ending today."""
        first = day_start(TODAY - timedelta(days=days - 1))
        return [r for r in self.public if r.timestamp_ns // 1_000_000_000 >= first]

    def close(self) -> None:
        from zeta_tui.backends.chdb_store import close_embedded_session

        close_embedded_session(self.path)


def module_usage(tmp_path_factory, database: str) -> Iterator[UsageSlices]:
    """A test module's usage world, for a module-scoped fixture to ``yield from``: in the store this
    process has open already (chdb holds one store per process), in a database of its own, else in
    a new store, which it closes at the end."""
    from tests.support.world_store import store_in_use

    opened_here = store_in_use() is None
    path = store_in_use() or tmp_path_factory.mktemp(database) / "store"
    world = UsageSlices(path, database=database)
    yield world
    if opened_here:
        world.close()
