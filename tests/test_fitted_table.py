"""Name columns take the room their rows have, and are cut in the middle only when they must."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zeta_tui.widgets.fitted_table import ELLIPSIS, Column, elide_middle, fit_widths


def test_elide_middle_keeps_both_ends() -> None:
    assert elide_middle("checkout-payments-gateway-service", 18) == "checkout-" + ELLIPSIS + "-service"
    assert elide_middle("short", 18) == "short"
    assert elide_middle("abcdef", 1) == "a"
    assert elide_middle("abcdef", 2) == "a" + ELLIPSIS


@given(st.text(min_size=0, max_size=80), st.integers(min_value=1, max_value=60))
def test_elide_middle_fits_and_keeps_the_ends(text: str, width: int) -> None:
    out = elide_middle(text, width)
    assert len(out) <= width
    if len(text) <= width:
        assert out == text
    elif width >= 3:
        head, _, tail = out.partition(ELLIPSIS)
        assert text.startswith(head) and text.endswith(tail) and len(head) >= len(tail) >= len(head) - 1


COLUMNS = (
    Column("Service", "service", 11, name=True),
    Column("Status", "status", 10),
    Column("CPU", "cpu", 6),
    Column("Disk", "disk", 10, drop=2),
    Column("Net", "net", 10, drop=1),
    Column("Endpoint", "endpoint", 8, name=True),
)


def test_names_get_their_longest_value_while_there_is_room() -> None:
    widths = fit_widths(COLUMNS, 160, {"service": 33, "endpoint": 20})
    assert widths == {"service": 33, "status": 10, "cpu": 6, "disk": 10, "net": 10, "endpoint": 20}


def test_droppable_columns_go_before_a_name_is_cut() -> None:
    # Every column at its least width takes 11+10+6+10+10+8 + 6*2 = 67 cells.
    assert set(fit_widths(COLUMNS, 80, {"service": 11, "endpoint": 8})) == {c.key for c in COLUMNS}
    # Names of 33 and 20 do not fit beside everything in 80: disk (the highest rank) goes first,
    # then network, and then the names share what is left, the shortest-served first.
    # Figures first give up the cells their labels leave empty (no values given here).
    assert set(fit_widths(COLUMNS, 80, {"service": 25, "endpoint": 12})) == {c.key for c in COLUMNS}
    widths = fit_widths(COLUMNS, 80, {"service": 33, "endpoint": 20})
    assert "disk" not in widths
    assert sum(w + 2 for w in widths.values()) <= 80
    assert widths["service"] > 11 and widths["endpoint"] > 8


@given(
    st.integers(min_value=20, max_value=250),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_fit_never_overflows_what_it_can_avoid_and_never_shrinks_below_least(
    available: int, service: int, endpoint: int
) -> None:
    widths = fit_widths(COLUMNS, available, {"service": service, "endpoint": endpoint})
    for c in COLUMNS:
        if c.key in widths:
            # a figure may give up the cells its label leaves empty (its values are not given here)
            given = {"service": service, "endpoint": endpoint}
            least = min(c.width, max(len(c.label), given[c.key])) if c.name else len(c.label)
            assert widths[c.key] >= least
            if c.name:
                assert widths[c.key] <= max(c.width, len(c.label), {"service": service, "endpoint": endpoint}[c.key])
    least_kept = sum(c.width + 2 for c in COLUMNS if not c.drop)
    if available >= least_kept:
        assert sum(w + 2 for w in widths.values()) <= available
        # a name is cut only when the table has no cell left to give it
        if any(widths[k] < n for k, n in (("service", service), ("endpoint", endpoint))):
            assert sum(w + 2 for w in widths.values()) >= available - 1
            assert all(widths[c.key] == len(c.label) for c in COLUMNS if not c.name and c.key in widths)


def test_figures_give_up_their_empty_cells_only_for_a_name_that_would_be_cut() -> None:
    columns = (Column("Service", "service", 11, name=True), Column("Req/s", "rate", 8), Column("Memory", "mem", 12))
    assert fit_widths(columns, 40, {"service": 14, "rate": 4, "mem": 7}) == {"service": 14, "rate": 8, "mem": 12}
    # 33 wanted: 3 cells are free, rate gives 3 (its label is 5) and memory 5 (its values 7): 11 + 11
    assert fit_widths(columns, 40, {"service": 33, "rate": 4, "mem": 7}) == {"service": 22, "rate": 5, "mem": 7}


def test_growing_columns_take_what_the_names_leave() -> None:
    columns = (
        Column("Service", "service", 11, name=True),
        Column("CPU", "cpu", 6, grow=13),
        Column("Mem", "mem", 12, grow=13),
    )
    assert fit_widths(columns, 160, {"service": 40}) == {"service": 40, "cpu": 19, "mem": 25}
    assert fit_widths(columns, 70, {"service": 40}) == {
        "service": 40,
        "cpu": 6,
        "mem": 12,
    }  # 4 cells each: no sparkline
