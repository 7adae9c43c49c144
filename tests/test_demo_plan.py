"""What `zeta demo` backfills on first and later starts, and its one-per-data-dir lock."""

from __future__ import annotations

import json
import os

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
    recent, older = stack._plan({"live_until": NOW - 600}, NOW)
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
