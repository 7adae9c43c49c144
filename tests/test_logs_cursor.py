"""The Logs screen opens on the newest record with the cursor in view, and the cursor keys move it
visibly, at 80x24 and 160x50, over more records than fit (the world's logs in a real embedded
ClickHouse, chdb).

What is expected comes from the generated requests (the newest one, the ones a join's query
selects) and from the view's height on screen, never from the cursor logic itself.
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "chdb", reason="the Logs screen tests read the world's logs from an embedded ClickHouse (pip install chdb)"
)

from tests.support.console import settled
from tests.support.world import SEED, T0
from zeta_tui.config.models import ContextConfig, LogsConfig, ZetaConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.launch import build_app
from zeta_tui.messages import ShowLogs
from zeta_tui.screens.log_detail import LogDetailScreen
from zeta_tui.screens.logs import SEARCH_LIMIT
from zeta_tui.widgets.log_view import LogView

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

END = int(T0) // STEP_SECONDS * STEP_SECONDS
SECONDS = 120
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs-cursor") / "store"
    requests = list(WorldRequests(TeamZetaWorld(SEED), sample_every=10).generate(END - SECONDS, END))
    assert len(requests) > SEARCH_LIMIT  # more than one search brings back, far more than fit
    store = WorldLogStore(path)
    store.insert(requests)
    yield str(path), requests
    store.close()


def _app(path: str):
    context = ContextConfig(logs=LogsConfig(kind="clickhouse", path=path), time_range="15m")
    return build_app(
        ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=lambda: float(END), live=False
    )


def _rows_on_screen(view: LogView) -> int:
    """Record rows the view shows: its height on screen less the header line."""
    return view.region.height - 1


def _cursor_row(view: LogView) -> int | None:
    """The screen row (1 = first under the header) whose time is drawn in reverse video, if one is
    (the time cell: a FATAL level is reversed too)."""
    for y in range(1, view.region.height):
        first = next(iter(view.render_line(y)), None)
        if first is not None and first.style is not None and first.style.reverse:
            return y
    return None


def _assert_visible(view: LogView, index: int) -> None:
    top = view.scroll_offset.y
    rows = _rows_on_screen(view)
    assert view.cursor == index
    assert top <= index < top + rows, f"cursor {index} outside rows {top}..{top + rows - 1}"
    row = _cursor_row(view)
    assert row == index - top + 1
    drawn = "".join(seg.text for seg in view.render_line(row))
    assert view.records[index].message[:20] in drawn


def _newest(requests, keep=lambda r: True):
    chosen = [r for r in requests if keep(r)]
    return max(chosen, key=lambda r: r.timestamp_ns)


@pytest.mark.parametrize("size", SIZES)
async def test_opens_on_the_newest_record_and_every_cursor_key_moves_it_in_view(world, size) -> None:
    path, requests = world
    newest = _newest(requests)
    async with _app(path).run_test(size=size) as pilot:
        await pilot.press("3")
        screen = await settled(pilot)
        view = screen.query_one(LogView)
        n = len(view.records)
        assert n == SEARCH_LIMIT
        page = _rows_on_screen(view)
        assert page == size[1] - 6  # shell header, pane status, query bar, mode line, footer
        # Open: the cursor on the newest record, its row on screen.
        assert (view.current().timestamp_ns, view.current().message) == (newest.timestamp_ns, newest.message)
        _assert_visible(view, n - 1)
        assert view.scroll_offset.y == n - page  # the newest at the bottom, the view full
        # Each key, and where it must leave the cursor.
        steps = [
            ("up", n - 2),
            ("pageup", n - 2 - page),
            ("pageup", n - 2 - 2 * page),
            ("down", n - 1 - 2 * page),
            ("pagedown", n - 1 - page),
            ("G", n - 1),
            ("g", 0),
            ("down", 1),
            ("pagedown", 1 + page),
            ("pagedown", 1 + 2 * page),
            ("pageup", 1 + page),
            ("end", n - 1),
            ("home", 0),
            ("j", 1),
            ("k", 0),
        ]
        for key, expected in steps:
            await pilot.press(key)
            await pilot.pause()
            _assert_visible(view, expected)
        assert view.scroll_offset.y == 0  # back at the oldest: the first row is the first record


@pytest.mark.parametrize("size", SIZES)
async def test_a_join_opens_the_logs_on_the_newest_matching_record_in_view(world, size) -> None:
    path, requests = world
    newest = _newest(requests, lambda r: r.service == "ml-engine" and r.level == "ERROR")
    matching = sum(r.service == "ml-engine" and r.level == "ERROR" for r in requests)
    async with _app(path).run_test(size=size) as pilot:
        app = pilot.app
        await pilot.pause()
        app.post_message(ShowLogs('service:"ml-engine" AND level:ERROR', END - SECONDS, END))
        for _ in range(100):
            if app.current_mode == "logs":
                break
            await pilot.pause(0.05)
        screen = await settled(pilot)
        await pilot.pause(0.2)
        view = screen.query_one(LogView)
        assert len(view.records) == min(matching, SEARCH_LIMIT) > _rows_on_screen(view)
        assert (view.current().timestamp_ns, view.current().message) == (newest.timestamp_ns, newest.message)
        _assert_visible(view, len(view.records) - 1)
        await pilot.press("pageup")
        _assert_visible(view, len(view.records) - 1 - _rows_on_screen(view))


@pytest.mark.parametrize("size", SIZES)
async def test_a_search_landing_while_the_screen_is_hidden_is_in_view_when_it_shows(world, size) -> None:
    path, requests = world
    newest = _newest(requests)
    async with _app(path).run_test(size=size) as pilot:
        await pilot.press("3")
        screen = await settled(pilot)
        view = screen.query_one(LogView)
        await pilot.press("slash", *"level:FATAL", "enter")  # the world has none: an empty list
        for _ in range(100):
            if not view.records and screen.snapshot.fetched_at is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.1)
        assert not view.records
        await pilot.press("1")
        # A search of everything lands while another screen is shown (as one started just before
        # leaving does): the records are replaced then.
        screen.query_text = ""
        screen.refresh_data()
        for _ in range(100):
            if len(view.records) == SEARCH_LIMIT:
                break
            await pilot.pause(0.05)
        await pilot.press("3")
        await pilot.pause(0.2)
        assert (view.current().timestamp_ns, view.current().message) == (newest.timestamp_ns, newest.message)
        _assert_visible(view, len(view.records) - 1)


async def test_a_refresh_keeps_the_newest_in_view_and_follow_goes_to_it(world) -> None:
    path, _ = world
    async with _app(path).run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        screen = await settled(pilot)
        view = screen.query_one(LogView)
        n = len(view.records)
        await pilot.press("r")
        await settled(pilot)
        await pilot.pause(0.2)
        _assert_visible(view, n - 1)
        await pilot.press("g")
        _assert_visible(view, 0)
        await pilot.press("f")  # following: the cursor goes to the newest, in view
        await pilot.pause(0.2)
        _assert_visible(view, n - 1)
        await pilot.press("f")


async def test_from_a_join_enter_shows_the_pod_tenant_endpoint_and_whole_message_at_80x24(world) -> None:
    # The Logs part of the walkthrough from a page to the culprit: the join lands on the newest
    # matching record, and Enter shows its pod, tenant, endpoint and message without scrolling.
    path, requests = world
    newest = _newest(requests, lambda r: r.service == "ml-engine" and r.level == "ERROR")
    async with _app(path).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await pilot.pause()
        app.post_message(ShowLogs('service:"ml-engine" AND level:ERROR', END - SECONDS, END))
        for _ in range(100):
            if app.current_mode == "logs":
                break
            await pilot.pause(0.05)
        await settled(pilot)
        await pilot.press("enter")
        await pilot.pause(0.3)
        detail = app.screen
        assert isinstance(detail, LogDetailScreen) and detail.record.timestamp_ns == newest.timestamp_ns
        window = detail.query_one("#record-fields")
        body = window.query_one("Static")
        strips = body.render_lines(body.region.reset_offset)[: window.region.height]  # on screen, unscrolled
        on_screen = [" ".join("".join(s.text for s in strip).split()) for strip in strips]
        text = " ".join(on_screen)
        for value in (newest.instance, newest.tenant_id, newest.endpoint):
            assert any(value in line.split() for line in on_screen), value
        assert " ".join(newest.message.split()) in text  # wrapped, whole
