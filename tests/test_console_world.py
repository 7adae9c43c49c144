"""Driving the console over the world's real Prometheus: drill-down, filters, stale data."""

from __future__ import annotations

import pytest

from tests.support.console import settled
from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.models.snapshot import PaneState
from zeta_tui.widgets.endpoint_table import SlowestEndpointsTable
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.service_table import ServiceHealthTable

pytestmark = [pytest.mark.prometheus, pytest.mark.console]  # the whole console through Textual's pilot


def _app(url: str, t0: float, clock=None):
    context = ContextConfig(prometheus=PrometheusConfig(url=url, timeout_seconds=5))
    return build_app(
        ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=clock or (lambda: t0), live=False
    )


def _endpoint_rows(app) -> list[tuple[str, str]]:
    table = app.screen.query_one(SlowestEndpointsTable)
    return [(str(table.get_row_at(i)[1]), str(table.get_row_at(i)[0])) for i in range(table.row_count)]


async def test_enter_on_a_service_opens_its_api_performance(prometheus_world) -> None:
    app = _app(prometheus_world.url, prometheus_world.t0)
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        table = app.screen.query_one(ServiceHealthTable)
        assert table.selected_service() == "ml-engine"  # worst first, cursor on it
        await pilot.press("down")  # auth: the next row
        service = table.selected_service()
        await pilot.press("enter")
        screen = await settled(pilot)
        assert app.current_mode == "api" and screen.service == service
        rows = _endpoint_rows(app)
        assert rows and {s for s, _ in rows} == {service}


async def test_service_cycle_and_endpoint_filter(prometheus_world) -> None:
    app = _app(prometheus_world.url, prometheus_world.t0)
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        await pilot.press("2")
        await settled(pilot)
        assert {s for s, _ in _endpoint_rows(app)} == {"backend-api", "ml-engine", "auth"}
        await pilot.press("s")  # all -> the first discovered service with HTTP metrics, by name
        screen = await settled(pilot)
        assert screen.service == "auth" and {s for s, _ in _endpoint_rows(app)} == {"auth"}
        await pilot.press("s")
        screen = await settled(pilot)
        assert screen.service == "backend-api" and {s for s, _ in _endpoint_rows(app)} == {"backend-api"}
        await pilot.press("escape")
        await pilot.press("slash")
        for key in "auth":
            await pilot.press(key)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await settled(pilot)
        assert sorted(e for _, e in _endpoint_rows(app)) == ["/api/v1/auth/login", "/api/v1/auth/refresh"]


async def test_prometheus_going_away_keeps_the_data_and_says_stale(prometheus_world) -> None:
    now = [prometheus_world.t0]
    app = _app(prometheus_world.url, prometheus_world.t0, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot)
        rows_before = screen.query_one(ServiceHealthTable).row_count
        assert rows_before == 5
        # Point the session at a closed port, as if Prometheus went down, and refresh.
        from zeta_tui.backends.prometheus import PrometheusClient

        await app.session.prometheus.aclose()
        app.session.prometheus = PrometheusClient(PrometheusConfig(url="http://127.0.0.1:1", timeout_seconds=2))
        now[0] += 30
        screen.refresh_data()
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.snapshot.error is not None:
                break
        await pilot.pause()
        assert screen.snapshot.state(now[0], 25) is PaneState.STALE
        text = str(screen.query_one(PaneStatus).render())
        assert "stale · 30s old" in text and "Connection refused" in text and "retry in" in text
        assert screen.query_one(ServiceHealthTable).row_count == rows_before  # nothing lost
