"""The way back, by keys: joins remember where the user was, Esc and Backspace walk it back with
the cursor, filter and time window as they were, and the header shows the path. The `:` command
line reaches every screen and says what a context cannot show."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "chdb", reason="the joins read the world's logs and traces from an embedded ClickHouse (pip install chdb)"
)

from tests.support.console import settled
from tests.support.world_store import END, WorldStore
from zeta_tui.launch import build_app
from zeta_tui.screens.command_line import CommandLine
from zeta_tui.screens.trace_view import TraceViewScreen
from zeta_tui.widgets.log_view import LogView
from zeta_tui.widgets.shell_header import ShellHeader

pytestmark = pytest.mark.console  # the whole console through Textual's pilot


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store = WorldStore(tmp_path_factory.mktemp("navigation") / "store", seconds=120, sample_every=10)
    yield store
    store.close()


def _app(world, **kwargs):
    return build_app(world.config(**kwargs), "w", clock=lambda: float(END), live=False)


def _bar(app) -> str:
    return str(app.screen.query_one(ShellHeader).query_one("#bar").render())


async def _waterfall(pilot):
    for _ in range(100):
        if isinstance(pilot.app.screen, TraceViewScreen) and pilot.app.screen.laid_out:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    return pilot.app.screen


async def test_a_trace_opened_from_a_log_record_walks_back_to_the_same_record(world) -> None:
    async with _app(world).run_test(size=(160, 50)) as pilot:
        app = pilot.app
        await pilot.press("3")
        logs = await settled(pilot)
        view = logs.query_one(LogView)
        await pilot.press("up", "up", "up")  # a record of the user's choosing, not the newest
        chosen = view.current()
        window = app.current_range()
        await pilot.press("o")
        trace = await _waterfall(pilot)
        assert trace.trace_id == chosen.trace_id
        assert f"Logs › Traces › trace {chosen.trace_id[:8]}" in _bar(app)
        await pilot.press("escape")
        back = await settled(pilot)
        assert back is logs and app.current_mode == "logs"
        assert logs.query_one(LogView).current() == chosen  # the cursor where it was
        assert app.current_range() == window and "›" not in _bar(app)
        await pilot.press("4")  # the waterfall the join opened was closed on the way back
        assert not isinstance(app.screen, TraceViewScreen)


async def test_a_span_join_locks_the_window_and_backspace_restores_it(world) -> None:
    async with _app(world).run_test(size=(160, 50)) as pilot:
        app = pilot.app
        await pilot.press("3")
        await settled(pilot)
        label = app.range_label
        await pilot.press("o")
        await _waterfall(pilot)
        await pilot.press("L")  # every log record of the trace, in the trace's window
        logs = await settled(pilot)
        assert app.range_label.count("..") == 1 and logs.query_text.startswith("trace_id:")
        assert "Logs › Traces › trace " in _bar(app) and _bar(app).count("›") == 3
        await pilot.press("backspace")  # back to the waterfall, its window again
        await _waterfall(pilot)
        assert app.range_label == label
        await pilot.press("backspace")  # and back to where the trace was opened from
        await settled(pilot)
        assert app.current_mode == "logs" and app.range_label == label


async def test_a_number_key_starts_a_new_way(world) -> None:
    async with _app(world).run_test(size=(160, 50)) as pilot:
        app = pilot.app
        await pilot.press("3")
        await settled(pilot)
        await pilot.press("o")
        await _waterfall(pilot)
        await pilot.press("1")
        await settled(pilot)
        assert app.way_back == [] and "›" not in _bar(app)


async def test_the_command_line_opens_a_trace_and_lists_what_the_context_lacks(world) -> None:
    async with _app(world).run_test(size=(160, 50)) as pilot:
        app = pilot.app
        await pilot.press("3")
        logs = await settled(pilot)
        trace_id = logs.query_one(LogView).current().trace_id
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)
        listing = str(app.screen.query_one("#command-list").render())
        assert ":trace TRACE_ID" in listing and ":alerts" in listing
        await pilot.press(*f"trace {trace_id}", "enter")
        trace = await _waterfall(pilot)
        assert trace.trace_id == trace_id
        await pilot.press("escape")
        await settled(pilot)
        assert app.current_mode == "logs"


async def test_the_command_line_names_the_section_a_screen_needs() -> None:
    from zeta_tui.config.models import ContextConfig, ZetaConfig

    app = build_app(ZetaConfig(default_context="w", contexts={"w": ContextConfig()}), "w", live=False)
    async with app.run_test(size=(160, 50)) as pilot:
        app = pilot.app
        await settled(pilot)
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"ten")
        await pilot.pause()
        listing = str(app.screen.query_one("#command-list").render())
        assert ":tenants" in listing and "not configured: add [contexts.w.clickhouse]" in listing
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CommandLine)


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.mark.parametrize("size", SIZES)
def test_the_path_in_the_header_snapshot(snap_compare, world, size) -> None:
    async def joined(pilot) -> None:
        await pilot.press("3")
        await settled(pilot)
        await pilot.press("o")
        await _waterfall(pilot)
        await pilot.press("L")
        await settled(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=joined)
