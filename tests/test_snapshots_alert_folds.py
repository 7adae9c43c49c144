"""The Alerts screen with folds at 80x24 and 160x50, over a real Alertmanager and Prometheus
holding tests/support/fold_world.py's alerts (five ModelTrainingFailed of ml-engine that differ by
tenant_id, one silenced; a HighLatency page firing on one endpoint, pending on another; alerts
alone, one named with 30 characters), the clock frozen at the moment they were sent: the folded
list with the cursor on the five, then the five opened with the cursor on a tenant."""

from __future__ import annotations

import os
import time

import pytest

from tests.support import fold_world as fw
from tests.support.console import settled
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
#: the five's line: after the three criticals (ServiceDown, HighErrorRate, HighLatency)
TO_THE_FIVE = ("down", "down", "down")


@pytest.fixture(scope="module")
def am(tmp_path_factory):
    yield from fw.loaded_alertmanager(tmp_path_factory.mktemp("fold-snap-alertmanager"))


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    yield from fw.pending_prometheus(tmp_path_factory.mktemp("fold-snap-prometheus"))


def _app(am_url: str, prom_url: str):
    context = ContextConfig(
        alertmanager=AlertmanagerConfig(url=am_url, timeout_seconds=2),
        prometheus=PrometheusConfig(url=prom_url, timeout_seconds=2),
    )
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: fw.NOW, live=False
    )


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.press("5")
        await settled(pilot)
        await pilot.press(*keys)
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_alerts_folded(snap_compare, am, prom, size) -> None:
    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=_keys(*TO_THE_FIVE))


@pytest.mark.parametrize("size", SIZES)
def test_alerts_fold_opened_on_a_tenant(snap_compare, am, prom, size) -> None:
    keys = (*TO_THE_FIVE, "enter", "down", "down")
    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=_keys(*keys))
