"""Pure pieces: durations and time ranges, snapshots and backoff, statuses, units, sparklines."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeta_tui.errors import BackendTimeout
from zeta_tui.models.health import ServiceHealth, ServiceStatus
from zeta_tui.models.snapshot import PaneState, Snapshot, backoff_seconds
from zeta_tui.models.timerange import TimeRange, format_duration, parse_duration
from zeta_tui.widgets import units
from zeta_tui.widgets.sparkline_text import BLOCKS, resample, sparkline


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h30m", 5400), ("7d", 604800), ("500ms", 0.5), ("2w", 1209600)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "1x", "h", "1h 30m", "-5m"])
def test_parse_duration_rejects_with_example(bad: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 30s"):
        parse_duration(bad)


@given(st.integers(min_value=1, max_value=10**8))
def test_format_duration_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_time_range_step_and_window() -> None:
    tr = TimeRange.last("1h", 10_000.0)
    assert (tr.start, tr.end, tr.seconds) == (6_400.0, 10_000.0, 3_600.0)
    assert tr.step() == 60.0  # 3600 / 60 points
    assert tr.rate_window() == "2m"
    assert TimeRange.last("7d", 0).step() == 10800.0
    assert TimeRange.last("15m", 0).step() == 15.0


def test_snapshot_states_and_stale_keeps_value() -> None:
    s: Snapshot[int] = Snapshot()
    assert s.state(0, 10) is PaneState.LOADING
    s = s.failed(BackendTimeout("slow"), retry_at=20)
    assert s.state(5, 10) is PaneState.ERROR and s.failures == 1
    s = s.succeeded(42, at=30)
    assert s.state(35, 10) is PaneState.FRESH and s.failures == 0 and s.error is None
    assert s.state(41, 10) is PaneState.STALE  # too old
    s = s.failed(BackendTimeout("slow"), retry_at=60)
    assert s.value == 42 and s.state(31, 10) is PaneState.STALE  # a failure keeps the last good value


def test_backoff_doubles_and_caps() -> None:
    assert [backoff_seconds(n, 10, cap=100) for n in range(0, 6)] == [10, 10, 20, 40, 80, 100]


@pytest.mark.parametrize(
    ("ratio", "status"),
    [
        (1.0, ServiceStatus.UP),
        (0.5, ServiceStatus.DEGRADED),
        (0.0, ServiceStatus.DOWN),
        (None, ServiceStatus.UNKNOWN),
        (math.nan, ServiceStatus.UNKNOWN),
    ],
)
def test_status_from_up_ratio(ratio: float | None, status: ServiceStatus) -> None:
    assert ServiceStatus.from_up_ratio(ratio) is status


def test_worst_first_ordering() -> None:
    rows = [
        ServiceHealth("a", ServiceStatus.UP, restarts=0),
        ServiceHealth("b", ServiceStatus.DOWN),
        ServiceHealth("c", ServiceStatus.UP, restarts=3),
        ServiceHealth("d", ServiceStatus.DEGRADED),
    ]
    assert [r.name for r in sorted(rows, key=ServiceHealth.sort_key)] == ["b", "d", "c", "a"]


def test_units() -> None:
    assert units.bytes_(512) == "512 B" and units.bytes_(1536) == "1.5 KiB" and units.bytes_(3 * 1024**3) == "3.0 GiB"
    assert units.bytes_(428.4 * 1024**2) == "428 MiB"
    assert units.seconds(0.0123) == "12.3 ms" and units.seconds(0.25) == "250 ms" and units.seconds(1.5) == "1.50 s"
    assert units.seconds(math.inf) == "> max bucket"
    assert units.seconds(None) == units.DASH == units.percent(math.nan)
    assert units.cores(0.25) == "250 m" and units.cores(2.5) == "2.50"
    assert units.percent(0.1234) == "12.3%"
    assert (units.number(0.29333), units.number(0.05), units.number(0), units.number(-2.5)) == (
        "0.293",
        "0.05",
        "0",
        "-2.5",
    )
    assert (units.number(1234), units.number(2.5e6), units.number(7e9), units.number(math.nan)) == (
        "1.23k",
        "2.5M",
        "7G",
        units.DASH,
    )


def test_sparkline_scales_min_to_max_and_marks_gaps() -> None:
    assert sparkline([0, 7], 2) == BLOCKS[0] + BLOCKS[7]
    assert sparkline([1, math.nan, 3], 3) == BLOCKS[0] + " " + BLOCKS[7]
    assert sparkline([5, 5, 5], 3) == BLOCKS[0] * 3  # flat: lowest block, not blank
    assert sparkline([], 4) == ""


@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9), min_size=1, max_size=300),
    st.integers(1, 40),
)
def test_sparkline_width_and_peak_kept(values: list[float], width: int) -> None:
    line = sparkline(values, width)
    assert len(line) == width
    assert set(line) <= set(BLOCKS)
    points = resample(values, width)
    assert max(points) == max(values)  # the peak survives resampling
    if max(points) > min(points):
        assert BLOCKS[-1] in line and BLOCKS[0] in line
