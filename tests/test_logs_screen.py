"""The Logs screen driven by keys over the world's logs in a real embedded ClickHouse (chdb)."""

from __future__ import annotations

import json

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
from zeta_tui.screens.log_detail import LogContextScreen, LogDetailScreen
from zeta_tui.widgets.log_view import LogView

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

END = int(T0) // STEP_SECONDS * STEP_SECONDS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs-screen") / "store"
    requests = list(WorldRequests(TeamZetaWorld(SEED), sample_every=10).generate(END - 30, END))
    store = WorldLogStore(path)
    store.insert(requests)
    yield str(path), requests
    store.close()


def _app(path: str):
    context = ContextConfig(logs=LogsConfig(kind="clickhouse", path=path), time_range="15m")
    return build_app(
        ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=lambda: float(END), live=False
    )


async def _open(pilot):
    await pilot.press("3")
    return await settled(pilot)


async def test_search_highlights_and_jumps_between_matches(world) -> None:
    path, requests = world
    app = _app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open(pilot)
        view = screen.query_one(LogView)
        assert len(view.records) == len(requests)  # 30 s sampled: fewer than one page (2,000)
        await pilot.press("s", *"oomkilled", "enter")
        await pilot.pause()
        expected = sum("oomkilled" in f"{r.level} {r.service} {r.message}".lower() for r in requests)
        assert expected and len(view.matches()) >= expected
        assert "oomkilled" in view.current().message.lower()
        first = view.cursor
        await pilot.press("n")
        assert view.cursor != first and "oomkilled" in view.current().message.lower()


async def test_pii_detail_context_export_and_trace_link(world, tmp_path, monkeypatch) -> None:
    path, _ = world
    monkeypatch.chdir(tmp_path)
    app = _app(path)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open(pilot)
        view = screen.query_one(LogView)
        record = view.current()
        # Enter: the record as JSON, PII masked; `v` then reveals it.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LogDetailScreen) and app.screen.record.fields["user_id"].startswith("•••")
        await pilot.press("escape", "v", "enter")
        await pilot.pause()
        assert app.screen.record.fields["user_id"] == record.fields["user_id"]
        await pilot.press("escape", "v")
        # `c`: neighbours from the same service, the record among them.
        await pilot.press("c")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, LogContextScreen):
                break
        context = app.screen
        assert isinstance(context, LogContextScreen)
        assert {r.service for r in context.records} == {record.service}
        assert record.timestamp_ns in {r.timestamp_ns for r in context.records}
        await pilot.press("escape")
        # `e`: everything loaded, as JSON lines, masked.
        await pilot.press("e")
        await pilot.pause()
        exported = list(tmp_path.glob("zeta-logs-*.jsonl"))
        lines = exported[0].read_text().splitlines()
        assert len(lines) == len(view.records)
        assert all(json.loads(line)["user_id"].startswith("•••") for line in lines)
        # `o`: the trace link opens the waterfall; this context has no [traces], which its pane says
        # (tests/test_traces_screen.py follows the link to a real trace).
        await pilot.press("o")
        for _ in range(100):
            if getattr(app.screen, "trace_id", None) == record.trace_id and app.screen.snapshot.error is not None:
                break
            await pilot.pause(0.05)
        assert app.screen.trace_id == record.trace_id and "no [traces] section" in app.screen.snapshot.error.message
