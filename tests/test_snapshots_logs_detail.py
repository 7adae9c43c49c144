"""The record detail and the column picker at 80x24 and 160x50, on logs that are not the demo
world's: a shop's, as the OpenTelemetry collector's ClickHouse exporter writes them from
Kubernetes (tests/support/k8s_logs.py), in a real embedded ClickHouse (chdb).

The newest record's message and URL are longer than the screen is wide: the detail wraps them.
"""

from __future__ import annotations

import pytest

pytest.importorskip("chdb", reason="the shop's logs are in an embedded ClickHouse (pip install chdb)")

from tests.support.console import settled
from tests.support.k8s_logs import OOM_MESSAGE, OOM_URL, T_END, TABLE, write_shop_logs
from zeta_tui.config.models import ContextConfig, LogsConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.log_detail import LogDetailScreen

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from zeta_tui.backends.chdb_store import close_embedded_session

    path = str(tmp_path_factory.mktemp("k8s-logs") / "store")
    write_shop_logs(path)
    yield path
    close_embedded_session(path)


def _app(path: str):
    context = ContextConfig(logs=LogsConfig(kind="clickhouse", path=path, table=TABLE), time_range="15m")
    return build_app(
        ZetaConfig(default_context="shop", contexts={"shop": context}), "shop", clock=lambda: float(T_END), live=False
    )


def _keys(*keys: str):
    async def run(pilot) -> None:
        await pilot.press("3")
        await settled(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_record_detail_wraps_a_long_message_and_value(snap_compare, store_path, size) -> None:
    assert snap_compare(_app(store_path), terminal_size=size, run_before=_keys("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_column_picker(snap_compare, store_path, size) -> None:
    assert snap_compare(_app(store_path), terminal_size=size, run_before=_keys("C"))


@pytest.mark.parametrize("size", SIZES)
async def test_the_detail_shows_the_long_message_and_url_whole(store_path, size) -> None:
    async with _app(store_path).run_test(size=size) as pilot:
        await pilot.press("3")
        await settled(pilot)
        await pilot.press("enter")
        await pilot.pause(0.3)
        screen = pilot.app.screen
        assert isinstance(screen, LogDetailScreen) and screen.record.message == OOM_MESSAGE
        body = screen.query_one("#record-fields")
        shown = body.query_one("Static")
        lines = ["".join(s.text for s in strip).rstrip() for strip in shown.render_lines(shown.region.reset_offset)]
        assert all(len(line) <= body.region.width for line in lines)
        text = " ".join(lines)
        squeezed = "".join(text.split())
        assert "".join(OOM_MESSAGE.split()) in squeezed and OOM_URL in squeezed
        message_lines = [line for line in lines if any(word in line for word in ("OOMKilled", "restarts"))]
        assert len(message_lines) >= 2 or size[0] >= 160  # wrapped at 80 columns
