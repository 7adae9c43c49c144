"""The Traces screen and the trace view at 80x24 and 160x50 over the world's traces in a real
embedded ClickHouse (chdb): search results, a waterfall with a span selected, and in error."""

from __future__ import annotations

import os
import time

import pytest

pytest.importorskip(
    "chdb", reason="the Traces snapshots read the world's traces from an embedded ClickHouse (pip install chdb)"
)

from tests.support.console import settled
from tests.support.world_store import END, WorldStore
from zeta_tui.config.models import TracesConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.trace_view import TraceViewScreen

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store = WorldStore(tmp_path_factory.mktemp("traces-snap") / "store", seconds=300, sample_every=10)
    yield store
    store.close()


def _app(world, **kwargs):
    return build_app(world.config(**kwargs), "w", clock=lambda: float(END), live=False)


async def _on_traces(pilot) -> None:
    await pilot.press("4")
    await settled(pilot)


def _recommendation(world):
    """The slowest recommendations request: the seed's span tree, during the incidents."""
    return max((r for r in world.requests if r.endpoint == "/api/v1/recommendations"), key=lambda r: r.latency_ms)


async def _open(pilot, trace_id: str, *keys: str) -> None:
    await _on_traces(pilot)
    await pilot.press("i", *trace_id, "enter")
    for _ in range(200):
        screen = pilot.app.screen
        if isinstance(screen, TraceViewScreen) and (screen.laid_out or screen.snapshot.error is not None):
            break
        await pilot.pause(0.05)
    for key in keys:
        await pilot.press(key)
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES)
def test_trace_search_results(snap_compare, world, size) -> None:
    assert snap_compare(_app(world), terminal_size=size, run_before=_on_traces)


@pytest.mark.parametrize("size", SIZES)
def test_waterfall_with_a_span_selected(snap_compare, world, size) -> None:
    trace_id = _recommendation(world).trace_id

    async def run_before(pilot) -> None:
        await _open(pilot, trace_id, "down", "down", "down")

    assert snap_compare(_app(world), terminal_size=size, run_before=run_before)


def test_waterfall_found_and_folded(snap_compare, world) -> None:
    trace_id = _recommendation(world).trace_id

    async def run_before(pilot) -> None:
        await _open(pilot, trace_id, "minus", "slash", *"redis", "enter")

    assert snap_compare(_app(world), terminal_size=(160, 50), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_traces_source_down(snap_compare, world, size) -> None:
    app = _app(world, traces=TracesConfig(kind="jaeger", url="http://127.0.0.1:1", timeout_seconds=2))
    assert snap_compare(app, terminal_size=size, run_before=_on_traces)


@pytest.mark.parametrize("size", SIZES)
def test_trace_not_found(snap_compare, world, size, monkeypatch) -> None:
    async def run_before(pilot) -> None:
        await _open(pilot, "0123456789abcdef0123456789abcdef")

    # The error names the store; a path relative to the working directory keeps the snapshot
    # the same from run to run (the temporary directory's name is not).
    monkeypatch.chdir(os.path.dirname(world.path))
    app = _app(world, traces=TracesConfig(kind="clickhouse", path=os.path.basename(world.path)))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
