"""The SLO screen over the real Prometheus world at a fixed time: its rows are fetch_slo's figures
(themselves checked against an independent reference in tests/test_slo_world.py), written as
`zeta slo` writes them; snapshots at 80x24 and 160x50, and with Prometheus down."""

from __future__ import annotations

import os
import time

import pytest
from textual.widgets import DataTable

from tests.support.console import settled
from zeta_tui.backends.discovery import discover
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.backends.slo import fetch_slo, slo_services
from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.models.slo import BURN_WINDOWS, burn_text, plain_words, remaining_text

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _app(url: str, t0: float):
    context = ContextConfig(prometheus=PrometheusConfig(url=url, timeout_seconds=5), time_range="1h")
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: t0, live=False
    )


async def _on_slo(pilot) -> None:
    await pilot.press("6")
    await settled(pilot)


async def test_rows_are_the_slo_figures(prometheus_world) -> None:
    app = _app(prometheus_world.url, prometheus_world.t0)
    async with app.run_test(size=(160, 50)) as pilot:
        await _on_slo(pilot)
        table = pilot.app.screen.query_one("#slo-table", DataTable)
        shown = {
            table.get_row_at(i)[0] + "/" + table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)
        }
        client = PrometheusClient(PrometheusConfig(url=prometheus_world.url))
        inventory = await discover(client, app.context, "snap", at=prometheus_world.t0)
        expected = (
            await fetch_slo(client, app.catalog, inventory, slo_services(inventory, ()), at=prometheus_world.t0)
        ).data
        # Nothing configured: the services with HTTP metrics, found in Prometheus.
        assert sorted({s.service for s in expected}) == ["auth", "backend-api", "ml-engine"]
        await client.aclose()
        assert set(shown) == {f"{s.service}/{s.objective.name}" for s in expected}
        for s in expected:
            row = shown[f"{s.service}/{s.objective.name}"]
            assert str(row[4]).endswith(remaining_text(s)) and str(row[4]).startswith("✖") == s.exhausted
            assert [str(c) for c in row[5:]] == [burn_text(s.burn_rates[w]) for w in BURN_WINDOWS]
        words = str(pilot.app.screen.query_one("#slo-words").render())
        first = next(
            s
            for s in expected
            if f"{s.service}/{s.objective.name}" == table.coordinate_to_cell_key((0, 0)).row_key.value
        )
        assert words.endswith(plain_words(first))


@pytest.mark.parametrize("size", SIZES)
def test_slo_snapshot(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url, prometheus_world.t0), terminal_size=size, run_before=_on_slo)


def test_slo_prometheus_down(snap_compare) -> None:
    assert snap_compare(_app("http://127.0.0.1:1", 1_790_000_000.0), terminal_size=(80, 24), run_before=_on_slo)
