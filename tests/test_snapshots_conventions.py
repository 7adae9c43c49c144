"""Health and API performance on Prometheus servers zeta did not fill, with service names of 30+
characters, at 80x24 and 160x50 (tests/support/conventions.py has the worlds).

A name is whole while its row has room, and cut in the middle when it must be; the screens'
figures are tested against the reference in test_conventions.py.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.support.console import settled
from tests.support.conventions import LONG_KUBE_SERVICE, LONG_SERVICE, T0, loaded_world
from zeta_tui.config.models import ContextConfig, LabelsConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.widgets.endpoint_table import SlowestEndpointsTable
from zeta_tui.widgets.fitted_table import ELLIPSIS
from zeta_tui.widgets.service_table import ServiceHealthTable

os.environ["TZ"] = "UTC"
time.tzset()

pytestmark = [pytest.mark.prometheus, pytest.mark.console]  # the whole console through Textual's pilot
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _app(world: str, **context):
    url = loaded_world(world).url
    ctx = ContextConfig(prometheus=PrometheusConfig(url=url, timeout_seconds=10), time_range="1h", **context)
    return build_app(ZetaConfig(default_context="lab", contexts={"lab": ctx}), "lab", clock=lambda: T0, live=False)


def _kube():
    return _app("kube", namespace="shop", labels=LabelsConfig(service="service"))


async def _on_api(pilot) -> None:
    await settled(pilot)
    await pilot.press("2")
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_health_with_long_names_and_no_containers(snap_compare, size) -> None:
    assert snap_compare(_app("client_libs"), terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_api_performance_in_kubernetes_labels(snap_compare, size) -> None:
    assert snap_compare(_kube(), terminal_size=size, run_before=_on_api)


def _column(table, key: str) -> list[str]:
    index = list(table.columns).index(key)
    return [
        table.get_row_at(i)[index].plain
        if hasattr(table.get_row_at(i)[index], "plain")
        else str(table.get_row_at(i)[index])
        for i in range(table.row_count)
    ]


async def test_a_long_name_is_whole_with_room_and_cut_in_the_middle_without() -> None:
    for size, whole in (((160, 50), True), ((80, 24), False)):
        app = _kube()
        async with app.run_test(size=size) as pilot:
            await settled(pilot)
            names = _column(app.screen.query_one(ServiceHealthTable), "service")
            if whole:
                assert LONG_KUBE_SERVICE in names
            else:
                cut = next(n for n in names if ELLIPSIS in n)
                head, _, tail = cut.partition(ELLIPSIS)
                assert (
                    LONG_KUBE_SERVICE.startswith(head)
                    and LONG_KUBE_SERVICE.endswith(tail)
                    and len(head) >= 5
                    and len(tail) >= 5
                )
            await _on_api(pilot)
            services = _column(app.screen.query_one(SlowestEndpointsTable), "service")
            assert any(s == LONG_KUBE_SERVICE for s in services) == whole


async def test_the_health_row_of_a_service_without_containers_says_so() -> None:
    app = _app("client_libs")
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        table = app.screen.query_one(ServiceHealthTable)
        rows = dict(zip(_column(table, "service"), _column(table, "signals")))
        assert rows[LONG_SERVICE] == "no container metrics"
        assert rows["prometheus"] == "no requests, latency, container metrics"
