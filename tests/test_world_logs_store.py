"""The demo's live log writer: the present first (each second as it passes), history behind it,
every request once, bounded; a demo stopped at any moment resumes without a gap or a duplicate."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

from tests.support.world import SEED, T0
from zeta_tui.demo.log_store import LiveLogWriter
from zeta_tui.demo.requests import STEP_SECONDS
from zeta_tui.demo.world import TeamZetaWorld

STEP0 = int(T0) // STEP_SECONDS * STEP_SECONDS
NOW = STEP0 + 4.2  # off the grid, as a wall clock is


def _sampled(world, start, end, n):
    """Kept requests of the steps scraped in (start, end], from the counters alone."""
    a, b = (int(start) // STEP_SECONDS) * STEP_SECONDS, (int(end) // STEP_SECONDS) * STEP_SECONDS
    return sum(int(world.value(s, b)) // n - int(world.value(s, a)) // n for s in world.find("http_requests_total"))


def _distinct_ids(store) -> int:
    return int(store._query("SELECT count(DISTINCT TraceId) FROM {database:Identifier}.{table:Identifier}").strip())


def _newest(store) -> float:
    return store.newest_ns() / 1e9


@pytest.mark.slow  # the demo's child processes
def test_the_present_is_written_first_then_history_then_each_second_once(tmp_path):
    world = TeamZetaWorld(SEED)
    clock = [NOW]
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=5400, clock=lambda: clock[0])
    writer.open()  # drive it by hand (no threads): plan, live ticks and the fill as the clock moves
    try:
        plan = writer.begin(NOW)
        assert plan.live_from == STEP0 and plan.gaps == [(NOW - 5400, STEP0)]
        writer.tick()  # the present: the requests of this step stamped before the last whole second
        assert writer.store.count() == writer.written_live > 0
        assert STEP0 <= writer.store.newest_ns() / 1e9 < int(NOW)
        writer.fill()  # history behind it, from the child process, in 10-minute windows
        ratio = writer.store._query(
            "SELECT DISTINCT ResourceAttributes['zeta.sample_every'] FROM {database:Identifier}.{table:Identifier}"
        )
        assert ratio.split() == ['"25"']  # the child's rows and this process's rows alike
        assert writer.written_history == _sampled(world, NOW - 5400, STEP0, 25)
        for at in (NOW + 7, NOW + 9.6, STEP0 + 45.5):
            clock[0] = at
            writer.tick()
        assert writer.tick() == 0  # nothing new: nothing written
        # Everything up to the whole second of the last tick (on the grid: the steps' counters), once.
        assert writer.store.count() == writer.written == _sampled(world, NOW - 5400, STEP0 + 45, 25)
        assert _distinct_ids(writer.store) == writer.store.count()
        # History is bounded: hours later the oldest hourly partitions are gone.
        writer.prune(NOW + 3 * 3600)
        assert writer.store.count() < _sampled(world, NOW - 5400, NOW + 45, 25) / 2
    finally:
        writer.stop()


@pytest.mark.slow  # the demo's child processes
def test_a_demo_stopped_mid_step_and_mid_history_resumes_without_gap_or_duplicate(tmp_path):
    world = TeamZetaWorld(SEED)
    clock = [NOW + 3.1]
    first = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=3600, clock=lambda: clock[0])
    first.open()
    try:
        first.begin(clock[0])
        first.tick()  # part of the step: stamped before STEP0 + 7
        first._fill_from_child(STEP0 - 600, STEP0)  # stopped after the newest history window
        first.halt()
        assert int(STEP0) <= _newest(first.store) < STEP0 + 7
        clock[0] = STEP0 + 100.5
        again = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=3600, clock=lambda: clock[0])
        again.store, again.history = first.store, first.history
        plan = again.begin(clock[0])
        # The rest of the stopped step and the steps since, and the hour's older part, newest last.
        assert plan.gaps == [(STEP0 + 100.5 - 3600, STEP0 - 600), (STEP0, STEP0 + 90)]
        assert plan.skip[0] == STEP0 * 10**9 and plan.skip[1] <= (STEP0 + 7) * 10**9
        again.tick()
        again.fill()
        clock[0] = STEP0 + 120.5
        again.tick()
        assert again.store.count() == _sampled(world, STEP0 + 100.5 - 3600, STEP0 + 120, 25)
        assert _distinct_ids(again.store) == again.store.count()
        # A third start finds it whole: the live steps are recorded; the newest step is generated
        # again for what follows its newest record (nothing: its live writer had passed its end).
        clock[0] = STEP0 + 130.5
        third = LiveLogWriter(world, tmp_path / "store", sample_every=25, history_seconds=3600, clock=lambda: clock[0])
        third.store, third.history = first.store, first.history
        count = third.store.count()
        assert third.begin(clock[0]).gaps == [(STEP0 + 105, STEP0 + 120)]
        third.fill()
        assert third.store.count() == count == _distinct_ids(third.store)
    finally:
        first.stop()


def test_plan_of_a_start():
    from zeta_tui.demo.store_writer import plan

    s = 1_000_020  # on the 15 s grid
    # A new store: everything before the live start is history; the start is recorded.
    fresh = plan(s + 4.2, s - 3600, [], None)
    assert (fresh.gaps, fresh.live_from, fresh.skip, fresh.marks) == ([(s - 3600, s)], s, (0, 0), [(s, s)])
    # A previous run whose live writer began at s (recorded) and wrote up to s + 62.3: the steps
    # before s + 60 are recorded as covered, the stopped step's requests up to s + 63 are skipped.
    later = plan(s + 200.1, s - 3600, [(s - 3600, s), (s, s)], (s + 62) * 10**9 + 300_000_000)
    assert later.marks == [(s, s + 60), (s + 195, s + 195)]
    assert later.skip == ((s + 60) * 10**9, (s + 63) * 10**9)
    assert later.gaps == [(s + 60, s + 195)] and later.live_from == s + 195
    # A store written before the live start was recorded (whole steps then): the same reading.
    old = plan(s + 200.1, s - 3600, [(s - 3600, s + 0.7)], (s + 74) * 10**9)
    assert old.marks[0] == (s + 0.7, s + 60) and old.gaps == [(s + 60, s + 195)]
    # The newest record is history (the live writer wrote nothing): only the holes are filled.
    hist = plan(s + 200.1, s - 3600, [(s - 600, s), (s, s)], (s - 1) * 10**9)
    assert hist.gaps == [(s - 3600, s - 600), (s, s + 195)] and hist.marks == [(s + 195, s + 195)]


def test_a_live_insert_does_not_wait_for_the_history_session(tmp_path):
    """The history thread's store has a session of its own: a long query on it (a 20 MB window's
    insert, here a 4 s sleep) does not hold up the live thread's insert."""
    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=50, history_seconds=600, clock=lambda: NOW)
    writer.open()
    try:
        writer.begin(NOW)
        busy = threading.Thread(
            target=writer.history._query, args=("SELECT sleepEachRow(0.5) FROM numbers(8) SETTINGS max_block_size=1",)
        )
        busy.start()
        try:
            assert writer.tick() > 0
            assert busy.is_alive()  # the live rows went in while the history session was busy
        finally:
            busy.join()
    finally:
        writer.stop()


@pytest.mark.slow  # the demo's child processes
def test_the_live_thread_writes_before_history_begins(tmp_path):
    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=50, history_seconds=900, clock=lambda: NOW)
    writer.start(history=False)
    try:
        assert writer.live.wait(30) and writer.error is None
        assert writer.store.count() == writer.written_live > 0 and writer.written_history == 0
        assert not writer.caught_up.is_set()  # history waits for its release
        writer.release_history()
        assert writer.caught_up.wait(60)
        assert writer.error is None and writer.written_history == _sampled(world, NOW - 900, STEP0, 50) > 0
        assert writer.store.count() == writer.written == _distinct_ids(writer.store)
    finally:
        writer.stop()


def test_follow_sees_each_new_record_once(tmp_path):
    """The console's tail (the LogSource polling default) over the store the live thread fills."""
    import asyncio

    from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource
    from zeta_tui.config.models import LogsConfig

    world = TeamZetaWorld(SEED)
    clock = [NOW]
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=40, history_seconds=120, clock=lambda: clock[0])
    writer.open()
    source = ClickHouseLogSource(LogsConfig(kind="clickhouse", path=str(tmp_path / "store")))
    source.poll_seconds = 0.01
    try:
        writer.begin(NOW)
        writer.tick()

        async def follow() -> list:
            seen = []
            tail = source.tail("", int((NOW - 120) * 1e9), clock=lambda: clock[0])
            for _ in range(6):
                page = await anext(tail)
                seen.extend(page.records)
                clock[0] += 2.5
                writer.tick()
            await tail.aclose()
            return seen

        seen = asyncio.run(follow())
        ids = [r.trace_id for r in seen]
        # Everything from the live start to the last whole second before the last poll.
        out = writer.store._query(
            "SELECT count() FROM {database:Identifier}.{table:Identifier} WHERE "
            "Timestamp < fromUnixTimestamp64Nano({b:Int64})",
            b=int(clock[0] - 2.5) * 10**9,
        )
        assert len(ids) == len(set(ids)) == int(out.strip()) > 20
        assert [r.timestamp_ns for r in seen] == sorted(r.timestamp_ns for r in seen)
    finally:
        writer.stop()


@pytest.mark.slow  # the demo's child processes
def test_a_window_is_inserted_only_with_its_marker(tmp_path):
    """A history child stopped mid-window leaves nothing of that window (the next start writes it whole, once)."""
    import subprocess

    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=25, clock=lambda: NOW)
    writer.open()
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
        writer.stop()


@pytest.mark.slow  # the demo's child processes
def test_the_child_skips_what_is_written_and_runs_at_lower_priority(tmp_path):
    import subprocess

    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=25, clock=lambda: NOW)
    argv = writer.child_argv(STEP0, STEP0 + 30)
    whole = subprocess.run(argv, capture_output=True, check=True).stdout
    cut = (STEP0 + 15 + 6) * 10**9
    skipped = subprocess.run([*argv, "--skip", f"{STEP0 * 10**9}:{cut}"], capture_output=True, check=True).stdout
    import orjson

    def stamps(out: bytes) -> list[str]:
        return [orjson.loads(line)["Timestamp"] for line in out.splitlines() if line and not line.startswith(b"#")]

    kept = [t for t in stamps(whole) if not STEP0 <= float(t) < STEP0 + 21]
    assert stamps(skipped) == kept and 0 < len(kept) < len(stamps(whole))
    probe = subprocess.run(
        [
            argv[0],
            "-c",
            "import os; from zeta_tui.demo.store_writer import child_windows; "
            "list(child_windows(0, 10, 5)); print(os.nice(0))",
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    assert int(probe.stdout) == min(19, _own_nice() + 10)


def _own_nice() -> int:
    import os

    return os.nice(0)


def test_missing_windows():
    from zeta_tui.demo.log_store import missing_windows

    assert missing_windows(0, 100, []) == [(0, 100)]
    assert missing_windows(0, 100, [(10, 20), (15, 30), (50, 200)]) == [(0, 10), (30, 50)]
    assert missing_windows(0, 100, [(-5, 100)]) == []
    assert missing_windows(0, 100, [(40, 40)]) == [(0, 40), (40, 100)]  # an empty window covers nothing


def test_a_writer_stopped_before_its_history_is_released_fills_nothing(tmp_path):
    """`zeta demo` releases the history once Prometheus is ready; a demo stopped before (Prometheus
    failed to start) starts no history child."""
    world = TeamZetaWorld(SEED)
    writer = LiveLogWriter(world, tmp_path / "store", sample_every=50, history_seconds=900, clock=lambda: NOW)
    writer.start(history=False)
    try:
        assert writer.live.wait(30)
        writer.halt()
        assert writer.join(10) and writer.caught_up.is_set()
        assert writer._child is None and writer.written_history == 0 and writer.error is None
    finally:
        writer.stop()
