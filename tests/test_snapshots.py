"""Every screen at 80x24 and 160x50: with the world's data at a frozen time, and with Prometheus down.

The app comes from the same factory as `zeta` (launch.build_app) with a frozen clock and
polling off (live=False), so each snapshot is one deterministic fetch from a real Prometheus.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

from tests.support.console import settled
from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

# Clock labels in charts and pane states use local time; pin it.
os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _config(url: str, *, production: bool = False) -> ZetaConfig:
    context = ContextConfig(
        production=production, prometheus=PrometheusConfig(url=url, timeout_seconds=5), time_range="1h"
    )
    return ZetaConfig(default_context="snap", contexts={"snap": context})


def _app(url: str, t0: float, *, production: bool = False):
    return build_app(_config(url, production=production), "snap", clock=lambda: t0, live=False)


_settled = settled


async def _on_api(pilot) -> None:
    await _settled(pilot)
    await pilot.press("2")
    await _settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_health_with_data(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url, prometheus_world.t0), terminal_size=size, run_before=_settled)


@pytest.mark.parametrize("size", SIZES)
def test_api_performance_with_data(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url, prometheus_world.t0), terminal_size=size, run_before=_on_api)


@pytest.fixture(scope="module")
def closed_port_url() -> str:
    # A fixed port (so the error text in the snapshot is stable) that nothing listens on.
    url = "http://127.0.0.1:1"
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 1)) == 0:
            pytest.skip("something listens on 127.0.0.1:1; the down-state snapshots need it closed")
    return url


@pytest.mark.parametrize("size", SIZES)
def test_health_with_prometheus_down(snap_compare, closed_port_url, size) -> None:
    app = _app(closed_port_url, 1_790_000_000.0, production=True)
    assert snap_compare(app, terminal_size=size, run_before=_settled)


@pytest.mark.parametrize("size", SIZES)
def test_api_performance_with_prometheus_down(snap_compare, closed_port_url, size) -> None:
    app = _app(closed_port_url, 1_790_000_000.0, production=True)
    assert snap_compare(app, terminal_size=size, run_before=_on_api)


def test_below_minimum_size_says_so(snap_compare, closed_port_url) -> None:
    assert snap_compare(_app(closed_port_url, 1_790_000_000.0), terminal_size=(50, 12), run_before=_settled)


def test_help_lists_every_binding(snap_compare, closed_port_url) -> None:
    async def open_help(pilot) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_app(closed_port_url, 1_790_000_000.0), terminal_size=(160, 50), run_before=open_help)
