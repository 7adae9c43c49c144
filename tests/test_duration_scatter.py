"""The results scatter: positions worked out by hand from the log scale."""

from zeta_tui.models.traces import TraceSummary
from zeta_tui.widgets.duration_scatter import duration_scatter

MS = 1_000_000


def summary(start_ms: int, duration_ms: float, errors: int = 0) -> TraceSummary:
    return TraceSummary("t", "svc", "op", start_ms * MS, int(duration_ms * MS), 3, ("svc",), errors)


def test_marks_land_by_start_and_log_duration():
    # Plot width 20 - 9 = 11 columns for 0..110 ms: x = start // 10. Durations 1, 10, 100 ms on
    # a log scale over 3 rows: levels 0, 0.5, 1 -> rows 2, 1, 0 (int(1.5) = 1; level 1 clamps to the top).
    lines = duration_scatter([summary(0, 1), summary(50, 10), summary(100, 100, errors=1)], 0, 110 * MS, 20, 3)
    assert lines == [
        "  100 ms┤" + " " * 10 + "✖",
        "        ┤" + " " * 5 + "•" + " " * 5,
        "    1 ms┤" + "•" + " " * 10,
    ]


def test_a_shared_cell_shows_the_error_and_nothing_breaks_on_edge_cases():
    lines = duration_scatter([summary(0, 5), summary(1, 5, errors=2)], 0, 110 * MS, 20, 2)
    assert lines[1][9] == "✖"  # equal durations: both on the bottom row (level 0), the error wins the cell
    assert duration_scatter([], 0, 1, 20, 3) == [" " * 20] * 3
    assert duration_scatter([summary(0, 1)], 0, 1, 5, 3) == []
