"""What `zeta demo` backfills on first and later starts, and its one-per-data-dir lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from zeta_tui.demo.stack import HISTORY_SPAN, RECENT_SPAN, DemoLock, DemoPaths, DemoStack
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import ZetaError

NOW = 1_790_000_000.0


@pytest.fixture
def stack(tmp_path) -> DemoStack:
    return DemoStack(DemoPaths(tmp_path / "demo"), TeamZetaWorld(), clock=lambda: NOW)


def _covered(segments) -> tuple[float, float]:
    return min(s.start for s in segments), max(s.end for s in segments)


def test_first_start_backfills_two_hours_now_and_the_week_later(stack):
    recent, older = stack._plan({}, NOW)
    assert [(s.start, s.end, s.step) for s in recent] == [(NOW - RECENT_SPAN, NOW, 15)]
    start, end = _covered(older)
    assert start == NOW - HISTORY_SPAN and end < NOW - RECENT_SPAN
    assert {s.step for s in older} == {60, 300}  # a fine last day, a coarse rest


def test_later_start_fills_only_the_gap(stack):
    state = {"live_until": NOW - 600, "history_from": NOW - HISTORY_SPAN - 3600}
    recent, older = stack._plan(state, NOW)
    assert [(s.start, s.end) for s in recent] == [(NOW - 599, NOW)]
    assert older == []


def test_a_long_gap_gets_recent_first_and_the_rest_in_the_background(stack):
    state = {"live_until": NOW - 3 * 86400, "history_from": NOW - 10 * 86400}
    recent, older = stack._plan(state, NOW)
    assert _covered(recent) == (NOW - RECENT_SPAN, NOW)
    start, end = _covered(older)
    assert start == NOW - 3 * 86400 + 1 and end == NOW - RECENT_SPAN - 1


def test_an_interrupted_gap_fill_is_redone(stack):
    state = {"live_until": NOW - 600, "history_from": NOW - 8 * 86400, "pending_from": NOW - 2 * 86400}
    recent, older = stack._plan(state, NOW)
    assert _covered(recent)[1] == NOW and _covered(older)[0] == NOW - 2 * 86400


def test_history_that_never_finished_is_redone(stack):
    _, older = stack._plan({"live_until": NOW - 600}, NOW)
    assert _covered(older)[0] == NOW - HISTORY_SPAN


def test_second_demo_is_told_which_pid_holds_the_data_dir(tmp_path):
    first = DemoLock(tmp_path / "demo.lock")
    first.acquire()
    first.update(prometheus_url="http://127.0.0.1:9999")
    try:
        with pytest.raises(ZetaError) as caught:
            DemoLock(tmp_path / "demo.lock").acquire()
        assert f"already running (pid {os.getpid()})" in caught.value.message
        assert "http://127.0.0.1:9999" in caught.value.hint
    finally:
        first.release()
    again = DemoLock(tmp_path / "demo.lock")
    again.acquire()  # released: free to take
    assert json.loads((tmp_path / "demo.lock").read_text()) == {"pid": os.getpid()}
    again.release()


# --- the incident anchor -----------------------------------------------------------------


def _state(paths: DemoPaths) -> dict:
    return json.loads(paths.state.read_text())


def _next_spike(world: TeamZetaWorld, after: float):
    return next(i for i in world.incidents(after, after + 8 * 3600) if i.name == "ml_error_spike" and i.start >= after)


def test_a_new_store_anchors_a_spike_two_to_three_minutes_out(stack):
    state = stack.prepare()
    try:
        shift = stack.world.incident_shift
        assert state["incident_shift"] == shift == _state(stack.paths)["incident_shift"] and shift != 0
        spike = _next_spike(stack.world, NOW)
        assert 120 < spike.start - NOW <= 180 and spike.start % 60 == 0
        # Nothing in the store yet: the whole week is to be backfilled with that world.
        assert stack._plan(state, NOW)[1][0].start == NOW - HISTORY_SPAN
    finally:
        stack.lock.release()


def test_later_starts_keep_the_shift_and_the_history(tmp_path):
    paths = DemoPaths(tmp_path / "demo")
    first = DemoStack(paths, TeamZetaWorld(), clock=lambda: NOW)
    first.prepare()
    first.lock.release()
    kept = paths.tsdb / "01KEPT"
    kept.mkdir(parents=True)
    later = DemoStack(paths, TeamZetaWorld(), clock=lambda: NOW + 86400 + 1234)
    state = later.prepare()
    later.lock.release()
    assert later.world.incident_shift == first.world.incident_shift == state["incident_shift"]
    assert kept.is_dir()  # the same world: its history stays
    # The same incidents at the same instants in both worlds.
    assert later.world.incidents(NOW, NOW + 86400) == first.world.incidents(NOW, NOW + 86400)


def test_a_store_without_a_shift_or_asked_fresh_is_rebuilt_with_a_new_one(tmp_path):
    paths = DemoPaths(tmp_path / "demo")
    paths.root.mkdir(parents=True)
    # A store written before the anchor existed: its history is of shift 0, unknown to the state.
    paths.state.write_text(
        json.dumps({"seed": 42, "namespace": "production", "live_until": NOW - 600, "history_from": NOW - HISTORY_SPAN})
    )
    (paths.tsdb / "01OLD").mkdir(parents=True)
    (paths.store / "old").mkdir(parents=True)
    stack = DemoStack(paths, TeamZetaWorld(), clock=lambda: NOW)
    state = stack.prepare()
    stack.lock.release()
    assert not paths.tsdb.exists() and not paths.store.exists()
    assert "live_until" not in state and 120 < _next_spike(stack.world, NOW).start - NOW <= 180
    again = DemoStack(paths, TeamZetaWorld(), fresh=True, clock=lambda: NOW + 5000)
    again.prepare()
    again.lock.release()
    assert 120 < _next_spike(again.world, NOW + 5000).start - (NOW + 5000) <= 180
    assert again.world.incident_shift != stack.world.incident_shift


def test_children_get_the_shift_on_their_command_line(stack):
    stack.prepare()
    stack.lock.release()
    from zeta_tui.demo.backfill import Segment
    from zeta_tui.demo.log_store import LiveLogWriter

    argv = stack.history_argv([Segment(NOW - 600, NOW, 60)])
    assert argv[argv.index("--incident-shift") + 1] == str(stack.world.incident_shift)
    writer = LiveLogWriter(stack.world, stack.paths.store)
    argv = writer.child_argv(NOW - 600, NOW)
    assert argv[argv.index("--incident-shift") + 1] == str(stack.world.incident_shift)


@pytest.mark.prometheus  # promtool
def test_the_backfill_child_writes_the_shifted_world(stack):
    """The history child, run from the stack's argv, writes the anchored world: ml-engine-1 is down
    in the anchored spike (where the unshifted world has it up)."""
    if shutil.which("promtool") is None:
        pytest.skip("`promtool` is not installed: sudo apt-get install prometheus")
    from zeta_tui.demo.backfill import Segment

    stack.prepare()
    stack.lock.release()
    spike = _next_spike(stack.world, NOW)
    at = int(spike.start) + 120
    assert TeamZetaWorld().value(TeamZetaWorld().one("up", instance="ml-engine-1:8000"), at) == 1.0
    argv = stack.history_argv([Segment(at - 30, at, 15)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (stack.paths.tsdb / "wal").mkdir()  # promtool reads a data dir as Prometheus leaves it
    dump = subprocess.run(
        ["promtool", "tsdb", "dump", str(stack.paths.tsdb)], capture_output=True, text=True, timeout=60
    )
    assert dump.returncode == 0, dump.stderr
    # Lines read {__name__="up", instance="ml-engine-1:8000", job="ml-engine"} 0 1790000250000
    samples = [
        line.rsplit(" ", 2)
        for line in dump.stdout.splitlines()
        if line.startswith('{__name__="up",') and 'instance="ml-engine-1:8000"' in line
    ]
    assert [(float(v), int(ms) // 1000) for _, v, ms in samples] == [(0.0, at - 30), (0.0, at - 15), (0.0, at)]
