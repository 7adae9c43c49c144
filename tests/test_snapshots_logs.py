"""The Logs screen at 80x24 and 160x50 over the world's logs in a real embedded ClickHouse (chdb):
searching, filtered, following, a record expanded, and with the log source down."""

from __future__ import annotations

import os
import time

import pytest

pytest.importorskip(
    "chdb", reason="the Logs snapshots read the world's logs from an embedded ClickHouse (pip install chdb)"
)

from tests.support.console import settled
from tests.support.world import SEED, T0
from zeta_tui.config.models import ContextConfig, LogsConfig, ZetaConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.launch import build_app

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

END = int(T0) // STEP_SECONDS * STEP_SECONDS
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs-snap") / "store"
    store = WorldLogStore(path)
    store.insert(WorldRequests(TeamZetaWorld(SEED), sample_every=10).generate(END - 900, END))
    yield str(path)
    store.close()


def _app(logs: LogsConfig):
    context = ContextConfig(logs=logs, time_range="15m")
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: float(END), live=False
    )


async def _on_logs(pilot, *keys: str) -> None:
    await pilot.press("3")
    await settled(pilot)
    for key in keys:
        await pilot.press(key)
    await pilot.pause(0.2)
    if hasattr(pilot.app.screen, "snapshot"):  # not when a record is open in its own window
        await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_logs_search(snap_compare, store_path, size) -> None:
    assert snap_compare(_app(LogsConfig(kind="clickhouse", path=store_path)), terminal_size=size, run_before=_on_logs)


def test_logs_filtered_to_errors(snap_compare, store_path) -> None:
    async def filtered(pilot) -> None:
        await _on_logs(pilot, "slash", *"level:ERROR", "enter")

    assert snap_compare(
        _app(LogsConfig(kind="clickhouse", path=store_path)), terminal_size=(160, 50), run_before=filtered
    )


def test_logs_record_expanded(snap_compare, store_path) -> None:
    async def expanded(pilot) -> None:
        await _on_logs(pilot, "enter")

    assert snap_compare(
        _app(LogsConfig(kind="clickhouse", path=store_path)), terminal_size=(160, 50), run_before=expanded
    )


def test_logs_following(snap_compare, store_path) -> None:
    async def following(pilot) -> None:
        await _on_logs(pilot, "f")

    assert snap_compare(
        _app(LogsConfig(kind="clickhouse", path=store_path)), terminal_size=(160, 50), run_before=following
    )


@pytest.mark.parametrize("size", SIZES)
def test_logs_source_down(snap_compare, size) -> None:
    app = _app(LogsConfig(kind="loki", url="http://127.0.0.1:1", timeout_seconds=2))
    assert snap_compare(app, terminal_size=size, run_before=_on_logs)
