"""The Alerts screen at 80x24 and 160x50 over a real Alertmanager and a real Prometheus (the
fixtures of tests/test_cli_alerts.py, the clock frozen at the moment the alerts were sent), and
with Alertmanager and Prometheus down; an alert's evidence screen over the world's Prometheus
(an ml-engine error spike with the shipped HighErrorRate rule's threshold; the latency regression's
HighLatency page for /api/v1/recommendations against 1 s), and with it down."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.support.alert_world import NOW
from tests.support.console import settled
from tests.test_alerts_screen import high_latency_row
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _app(am_url: str, prom_url: str):
    context = ContextConfig(
        alertmanager=AlertmanagerConfig(url=am_url, timeout_seconds=2),
        prometheus=PrometheusConfig(url=prom_url, timeout_seconds=2),
    )
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: NOW, live=False
    )


async def _on_alerts(pilot) -> None:
    await pilot.press("5")
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_alerts(snap_compare, am, prom, size) -> None:
    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=_on_alerts)


@pytest.mark.parametrize("size", SIZES)
def test_alerts_backends_down(snap_compare, size) -> None:
    assert snap_compare(_app("http://127.0.0.1:1", "http://127.0.0.1:2"), terminal_size=size, run_before=_on_alerts)


@pytest.mark.parametrize("size", SIZES)
def test_silence_form_prefilled_from_an_alert(snap_compare, am, prom, size, monkeypatch) -> None:
    monkeypatch.setenv("USER", "oncall")

    async def run_before(pilot) -> None:
        await _on_alerts(pilot)
        await pilot.press("down", "down", "s", *"failover drill", "enter")  # HighErrorRate; then the question
        await pilot.pause(0.2)

    assert snap_compare(_app(am.url, prom.url), terminal_size=size, run_before=run_before)


def _high_error_rate(world, t0: float):
    """HighErrorRate of ml-engine as Alertmanager would hold it during the world's spike before
    ``t0``: the condition a minute into the spike, fired 2 minutes later, the shipped rule's
    expression in the generator URL."""
    from zeta_tui.demo.incidents import ML_ERROR_SPIKE
    from zeta_tui.models.alert_overview import AlertRow

    rules = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "queries" / "prometheus" / "alerts.yaml").read_text()
    )
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "HighErrorRate")
    spike = next(i for i in world.incidents(t0 - 3600, t0) if i.name == ML_ERROR_SPIKE)
    condition = spike.start + 60
    return AlertRow(
        labels={"alertname": "HighErrorRate", "job": "ml-engine", "severity": "critical"},
        annotations={"summary": "ml-engine answers 44.88% of requests with 5xx"},
        state="active",
        since=condition + 120,
        source="alertmanager",
        receivers=("pagerduty-critical",),
        generator_url="http://prometheus:9090/graph?g0.expr=" + quote(" ".join(rule["expr"].split())) + "&g0.tab=1",
        condition_since=condition,
        rule_for=120.0,
    )


def _detail_app(prom_url: str, t0: float):
    context = ContextConfig(prometheus=PrometheusConfig(url=prom_url, timeout_seconds=2))
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: t0, live=False
    )


def _open_detail(row):
    async def run_before(pilot) -> None:
        from zeta_tui.screens.alert_detail import AlertDetailScreen

        await settled(pilot)
        await pilot.app.push_screen(AlertDetailScreen(row))
        await settled(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_alert_detail_graph_and_threshold(snap_compare, prometheus_world, size) -> None:
    row = _high_error_rate(prometheus_world.world, prometheus_world.t0)
    assert snap_compare(
        _detail_app(prometheus_world.url, prometheus_world.t0), terminal_size=size, run_before=_open_detail(row)
    )


@pytest.mark.parametrize("size", SIZES)
def test_alert_detail_per_endpoint_latency(snap_compare, prometheus_world, size) -> None:
    row = high_latency_row(prometheus_world.world, prometheus_world.t0)
    assert snap_compare(
        _detail_app(prometheus_world.url, prometheus_world.t0), terminal_size=size, run_before=_open_detail(row)
    )


def test_alert_detail_prometheus_down(snap_compare, prometheus_world) -> None:
    row = _high_error_rate(prometheus_world.world, prometheus_world.t0)
    assert snap_compare(
        _detail_app("http://127.0.0.1:2", prometheus_world.t0), terminal_size=(80, 24), run_before=_open_detail(row)
    )
