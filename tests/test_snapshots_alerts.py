"""The Alerts screen at 80x24 and 160x50 over a real Alertmanager and a real Prometheus (the
fixtures of tests/test_cli_alerts.py, the clock frozen at the moment the alerts were sent), and
with Alertmanager and Prometheus down."""

from __future__ import annotations

import os
import time

import pytest

from tests.support.console import settled
from tests.test_cli_alerts import NOW, am, prom  # noqa: F401 (fixtures)
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _app(am_url: str, prom_url: str):
    context = ContextConfig(alertmanager=AlertmanagerConfig(url=am_url, timeout_seconds=2), prometheus=PrometheusConfig(url=prom_url, timeout_seconds=2))
    return build_app(ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: NOW, live=False)


async def _on_alerts(pilot) -> None:
    await pilot.press("5")
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_alerts(snap_compare, am, prom, size) -> None:  # noqa: F811
    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=_on_alerts)


@pytest.mark.parametrize("size", SIZES)
def test_alerts_backends_down(snap_compare, size) -> None:
    assert snap_compare(_app("http://127.0.0.1:1", "http://127.0.0.1:2"), terminal_size=size, run_before=_on_alerts)


@pytest.mark.parametrize("size", SIZES)
def test_silence_form_prefilled_from_an_alert(snap_compare, am, prom, size, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("USER", "oncall")

    async def run_before(pilot) -> None:
        await _on_alerts(pilot)
        await pilot.press("down", "down", "s", *"failover drill", "enter")  # HighErrorRate; then the question
        await pilot.pause(0.2)

    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=run_before)
