"""The demo's live log writer: fills the gap, then each step as it ends, never twice, bounded."""

from __future__ import annotations

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.demo.log_store import LiveLogWriter
from zeta_tui.demo.requests import STEP_SECONDS
from zeta_tui.demo.world import TeamZetaWorld

NOW = int(T0) // STEP_SECONDS * STEP_SECONDS + 4.2  # off the grid, as a wall clock is


def _sampled(world, start, end, n):
    """Kept requests in (start, end] scrapes, from the counters alone."""
    a, b = (int(start) // STEP_SECONDS) * STEP_SECONDS, (int(end) // STEP_SECONDS) * STEP_SECONDS
    return sum(int(world.value(s, b)) // n - int(world.value(s, a)) // n for s in world.find("http_requests_total"))


@pytest.mark.slow  # the demo's child processes
def test_live_writer_fills_the_gap_then_each_step_once(tmp_path):
    world = TeamZetaWorld(SEED)
    clock = [NOW]
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=5400, clock=lambda: clock[0])
    # Drive it by hand (no thread): fill, then ticks as the clock moves.
    from zeta_tui.demo.log_store import WorldLogStore

    writer.store = WorldLogStore(tmp_path / "store", sample_every=25)
    try:
        writer.fill()
        ratio = writer.store._query(
            "SELECT DISTINCT ResourceAttributes['zeta.sample_every'] FROM {database:Identifier}.{table:Identifier}"
        )
        assert ratio.split() == ['"25"']  # the child's rows and this process's rows alike
        assert writer.store.count() == writer.written == _sampled(world, NOW - 5400, NOW, 25)
        clock[0] = NOW + 7
        writer.tick()
        clock[0] = NOW + 44
        writer.tick()
        writer.tick()  # nothing new: nothing written
        assert writer.store.count() == _sampled(world, NOW - 5400, NOW + 44, 25)
        ids = writer.store._query(
            "SELECT count(DISTINCT TraceId) FROM {database:Identifier}.{table:Identifier}"
        ).strip()
        assert int(ids) == writer.store.count()
        # A restart resumes after the newest record: still no duplicates.
        again = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=5400, clock=lambda: NOW + 100)
        again.store = writer.store
        again.fill()
        assert writer.store.count() == _sampled(world, NOW - 5400, NOW + 100, 25)
        # History is bounded: an hour later the oldest hourly partitions are gone.
        writer.store.prune(NOW + 3 * 3600, 5400)
        assert writer.store.count() < _sampled(world, NOW - 5400, NOW + 100, 25) / 2
    finally:
        writer.store.close()


def test_live_writer_thread_starts_and_stops(tmp_path):
    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=50, history_seconds=900, clock=lambda: NOW).start()
    try:
        assert writer.caught_up.wait(30)
        writer.stop()
        assert writer.error is None and writer.written == _sampled(world, NOW - 900, NOW, 50) > 0
    finally:
        writer.stop()
        writer.store.close()


def test_follow_sees_each_new_step_once(tmp_path):
    """The console's tail (the LogSource polling default) over the store the writer fills."""
    import asyncio

    from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource
    from zeta_tui.config.models import LogsConfig
    from zeta_tui.demo.log_store import WorldLogStore

    world = TeamZetaWorld(SEED)
    clock = [NOW]
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=40, history_seconds=120, clock=lambda: clock[0])
    writer.store = WorldLogStore(tmp_path / "store", sample_every=40)
    source = ClickHouseLogSource(LogsConfig(kind="clickhouse", path=str(tmp_path / "store")))
    source.poll_seconds = 0.01
    try:
        writer.fill()

        async def follow() -> list:
            seen = []
            tail = source.tail("", int((NOW - 120) * 1e9), clock=lambda: clock[0])
            for _ in range(4):
                page = await anext(tail)
                seen.extend(page.records)
                clock[0] += STEP_SECONDS
                writer.tick()
            await tail.aclose()
            return seen

        seen = asyncio.run(follow())
        ids = [r.trace_id for r in seen]
        # Everything from the tail's start to the step the last tick wrote after the last poll.
        since, cut = int((NOW - 120) * 1e9), int(((clock[0] // STEP_SECONDS) - 1) * STEP_SECONDS * 10**9)
        out = writer.store._query(
            "SELECT count() FROM {database:Identifier}.{table:Identifier} WHERE "
            "Timestamp >= fromUnixTimestamp64Nano({a:Int64}) AND Timestamp < fromUnixTimestamp64Nano({b:Int64})",
            a=since,
            b=cut,
        )
        assert len(ids) == len(set(ids)) == int(out.strip()) > 1000
        assert [r.timestamp_ns for r in seen] == sorted(r.timestamp_ns for r in seen)
    finally:
        writer.store.close()


@pytest.mark.slow  # the demo's child processes
def test_a_fill_stopped_halfway_is_completed_by_the_next_start(tmp_path):
    from zeta_tui.demo.log_store import WorldLogStore

    world = TeamZetaWorld(SEED)
    first = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=3 * 3600, clock=lambda: NOW)
    first.store = WorldLogStore(tmp_path / "store", sample_every=25)
    try:
        first._stop.set()  # quit as soon as the last hour is in: the older two hours are missing
        first.fill()
        assert first.store.count() == _sampled(world, NOW - 3600, NOW, 25)
        again = LiveLogWriter(
            world, tmp_path / "store", sample_every=25, history_seconds=3 * 3600, clock=lambda: NOW + 30
        )
        again.store = first.store
        again.fill()
        count = first.store.count()
        assert count == _sampled(world, NOW + 30 - 3 * 3600, NOW + 30, 25)  # the window of the second start
        ids = first.store._query("SELECT count(DISTINCT TraceId) FROM {database:Identifier}.{table:Identifier}").strip()
        assert int(ids) == count
    finally:
        first.store.close()


@pytest.mark.slow  # the demo's child processes
def test_a_window_is_inserted_only_with_its_marker(tmp_path):
    """A history child stopped mid-window leaves nothing of that window (the next start writes it whole, once)."""
    import subprocess

    from zeta_tui.demo.log_store import WorldLogStore

    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=25, clock=lambda: NOW)
    writer.store = WorldLogStore(tmp_path / "store", sample_every=25)
    try:
        # What the child prints for two windows of 5 minutes, newest first.
        printed = subprocess.run(
            [*writer.child_argv(NOW - 600, NOW)[:-2], "--chunk", "300"], capture_output=True, check=True
        ).stdout
        first_marker = printed.index(b"#covered ")
        half = printed[: first_marker // 2]
        written, rest = writer._consume(half)
        assert (written, rest, writer.store.count(), writer.store.covered()) == (0, half, 0, [])
        written, rest = writer._consume(rest + printed[first_marker // 2 :] + b'{"partial')
        assert (written, rest) == (_sampled(world, NOW - 600, NOW, 25), b'{"partial')
        assert writer.store.count() == written and writer.store.covered() == [(NOW - 600, NOW - 300), (NOW - 300, NOW)]
    finally:
        writer.store.close()


def test_missing_windows():
    from zeta_tui.demo.log_store import missing_windows

    assert missing_windows(0, 100, []) == [(0, 100)]
    assert missing_windows(0, 100, [(10, 20), (15, 30), (50, 200)]) == [(0, 10), (30, 50)]
    assert missing_windows(0, 100, [(-5, 100)]) == []
