"""The Traces screen and the trace view driven by keys, over the world's logs and traces in a
real embedded ClickHouse (chdb). Expected spans come from the world's generator (span_tree),
never from what the screen shows."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "chdb", reason="the Traces screen tests read the world's traces from an embedded ClickHouse (pip install chdb)"
)

from textual.widgets import DataTable

from tests.support.console import settled
from tests.support.world_store import END, WorldStore
from zeta_tui.launch import build_app
from zeta_tui.models.trace_tree import build_tree
from zeta_tui.models.traces import Trace
from zeta_tui.screens.trace_view import TraceViewScreen
from zeta_tui.widgets.log_view import LogView
from zeta_tui.widgets.waterfall import WaterfallView

pytestmark = pytest.mark.console  # the whole console through Textual's pilot


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store = WorldStore(tmp_path_factory.mktemp("traces-screen") / "store", seconds=120, sample_every=10)
    yield store
    store.close()


def _app(world, **kwargs):
    return build_app(world.config(**kwargs), "w", clock=lambda: float(END), live=False)


async def _traces(pilot):
    await pilot.press("4")
    return await settled(pilot)


async def _waterfall(pilot):
    for _ in range(100):
        if isinstance(pilot.app.screen, TraceViewScreen) and pilot.app.screen.laid_out:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    return pilot.app.screen


async def test_results_sort_and_open_the_slowest(world) -> None:
    by_id = {r.trace_id: r for r in world.requests}
    async with _app(world).run_test(size=(160, 50)) as pilot:
        screen = await _traces(pilot)
        table = screen.query_one("#traces-results", DataTable)
        assert table.row_count == 50  # the form's default limit; the store holds more
        newest = [table.coordinate_to_cell_key((row, 0)).row_key.value for row in range(table.row_count)]
        starts = [world.spans(by_id[t])[0].start_ns for t in newest]
        assert starts == sorted(starts, reverse=True)
        await pilot.press("s")  # slowest first
        slowest = table.coordinate_to_cell_key((0, 0)).row_key.value
        shown = [by_id[table.coordinate_to_cell_key((row, 0)).row_key.value] for row in range(table.row_count)]
        assert by_id[slowest].latency_ms == max(r.latency_ms for r in shown)
        await pilot.press("enter")
        view_screen = await _waterfall(pilot)
        expected = world.spans(by_id[slowest])
        assert view_screen.trace_id == slowest
        assert len(view_screen.shown_trace.spans) == len(expected)
        assert sorted((s.span_id, s.parent_id, s.duration_ns) for s in view_screen.shown_trace.spans) == sorted(
            (s.span_id, s.parent_id, s.duration_ns) for s in expected
        )
        view = view_screen.query_one(WaterfallView)
        assert len(view.rows) == len(expected)  # everything expanded
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_folding_critical_path_and_find(world) -> None:
    request = max(world.requests, key=lambda r: (len(world.spans(r)), r.latency_ms))
    expected = build_tree(Trace(request.trace_id, world.spans(request)))
    async with _app(world).run_test(size=(160, 50)) as pilot:
        screen = await _traces(pilot)
        await pilot.press("i", *request.trace_id, "enter")
        view_screen = await _waterfall(pilot)
        view = view_screen.query_one(WaterfallView)
        await pilot.press("space")  # the root folds: one row
        assert len(view.rows) == 1
        await pilot.press("space", "minus")
        assert all(view.trace_tree.depth[i] <= max(expected.depth) - 1 for i in view.rows)
        await pilot.press("E", "right_square_bracket")
        first = view.path[0].index
        assert view.current == first and view.trace_tree.spans[first].parent_id == ""  # the path starts at the root
        await pilot.press("right_square_bracket")
        assert view.current == view.path[1].index
        deepest = max(range(len(expected.spans)), key=lambda i: expected.depth[i])
        name = expected.spans[deepest].name
        await pilot.press("C", "slash", *name, "enter")
        assert view.trace_tree.spans[view.current].name == name  # found, with its ancestors expanded
        found = sum(
            1
            for s in expected.spans
            if name in s.name or name in s.service or any(name in f"{k}={v}" for k, v in s.attributes.items())
        )
        assert view_screen._found == f"find: {found} matches (n / N)"
        del screen


async def test_a_missing_trace_is_an_error_pane_not_a_crash(world) -> None:
    async with _app(world).run_test(size=(120, 40)) as pilot:
        await _traces(pilot)
        await pilot.press("i", *"0123456789abcdef0123456789abcdef", "enter")
        screen = pilot.app.screen
        for _ in range(100):
            if screen.snapshot.error is not None:
                break
            await pilot.pause(0.05)
        assert "0123456789abcdef0123456789abcdef" in screen.snapshot.error.message


async def test_joins_logs_to_trace_and_back_and_to_api_performance(world) -> None:
    async with _app(world).run_test(size=(160, 50)) as pilot:
        await pilot.press("3")
        logs = await settled(pilot)
        record = logs.query_one(LogView).current()
        await pilot.press("o")  # the log record's trace
        view_screen = await _waterfall(pilot)
        request = next(r for r in world.requests if r.trace_id == record.trace_id)
        assert view_screen.trace_id == record.trace_id
        assert {s.span_id for s in view_screen.shown_trace.spans} == {s.span_id for s in world.spans(request)}
        view = view_screen.query_one(WaterfallView)
        assert view.trace_tree.spans[view.current].span_id == record.span_id  # the record's own span is selected
        await pilot.press("L")  # every log record of the trace
        logs = await settled(pilot)
        shown = list(logs.query_one(LogView).records)
        assert [r.trace_id for r in shown] == [record.trace_id]  # one log record per request
        assert pilot.app.range_label.count("..") == 1 and logs.query_text == f'trace_id:"{record.trace_id}"'
        await pilot.press("4")
        await _waterfall(pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        api = pilot.app.screen
        assert api.service == request.service and api.endpoint_text == request.endpoint
        window = pilot.app.current_range()
        assert window.start < request.timestamp_ns / 1e9 < window.end and window.end - window.start == 1800
