"""Shared fixtures: real servers (a Prometheus loaded with the Team Zeta world, a plain one, the
alerting world's Alertmanager and Prometheus), a socket that never answers, a closed port and a
recording proxy."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import alert_world, servers
from tests.support.world import NAMESPACE, SEED, STEP_SECONDS, T0, WINDOW_SECONDS
from zeta_tui.demo.processes import ChildServer, free_port

#: Fixtures that start a real Prometheus, Alertmanager or VictoriaMetrics (here or in a test
#: module). A test that uses one, even through another fixture, is marked ``prometheus``; one that
#: uses two or more is marked ``slow`` too. A new fixture that starts a server belongs here.
SERVER_FIXTURES = frozenset(
    {
        "prometheus_world",  # here: a Prometheus loaded with the Team Zeta world
        "prometheus",  # here: a plain Prometheus
        "am",  # here and in test_alertmanager_api.py: an Alertmanager
        "prom",  # here and in test_alert_detection.py: a Prometheus evaluating rules
        "shipped_rules_prometheus",  # test_alerts_screen.py
        "vm_url",  # test_victoriametrics.py
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        servers_used = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if servers_used:
            item.add_marker(pytest.mark.prometheus)
        if len(servers_used) > 1:
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class PrometheusWorld:
    """A Prometheus child holding ``world`` over [t0 - window, t0] at ``step``; query it at ``t0``."""

    url: str
    t0: float
    world: object  # zeta_tui.demo.world.TeamZetaWorld (imported lazily: collection stays fast)
    workdir: Path
    start: float
    step: int
    seconds_to_load: float

    def client(self):  # -> PrometheusClient
        from zeta_tui.backends.prometheus import PrometheusClient
        from zeta_tui.config.models import PrometheusConfig

        return PrometheusClient(PrometheusConfig(url=self.url, timeout_seconds=20))


@pytest.fixture(scope="session")
def prometheus_world() -> Iterator[PrometheusWorld]:
    """Backfill 3 h of the world ending at T0 into a fresh Prometheus on a free loopback port."""
    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            pytest.skip(f"`{binary}` is not installed: sudo apt-get install prometheus")
    from zeta_tui.demo.backfill import Segment, backfill, move_blocks
    from zeta_tui.demo.processes import prometheus_server
    from zeta_tui.demo.world import TeamZetaWorld

    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="zeta-world-"))
    world = TeamZetaWorld(SEED, NAMESPACE)
    start = T0 - WINDOW_SECONDS
    data = workdir / "data"
    move_blocks(backfill(world, [Segment(start, T0, STEP_SECONDS)], workdir / "staging"), data)
    # No scrape targets: the data is exactly what was backfilled. A long retention keeps
    # T0's blocks however far the machine's clock has moved past it.
    server = prometheus_server(workdir, "global:\n  scrape_interval: 1h\n", data_dir=data, retention="100y")
    server.start()
    try:
        server.wait_ready(timeout=30)
        yield PrometheusWorld(server.url, T0, world, workdir, start, STEP_SECONDS, time.monotonic() - began)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# --- servers from tests/support/servers.py (one process per kind for the session) ---------


@pytest.fixture(scope="session")
def prometheus() -> ChildServer:
    """A real Prometheus with no scrape targets."""
    return servers.plain_prometheus()


@pytest.fixture(scope="session")
def silent() -> servers.SilentServer:
    """A server that accepts connections and never answers."""
    return servers.silent_server()


@pytest.fixture
def closed_port_url() -> str:
    """An http URL on a loopback port where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def recording_proxy(prometheus: ChildServer) -> Iterator[servers.RecordingProxy]:
    """A forward proxy to ``prometheus`` that records what it was asked."""
    proxy = servers.RecordingProxy(prometheus.url)
    yield proxy
    proxy.close()


# --- the alerting world (tests/support/alert_world.py), one per test module ----------------


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChildServer]:
    """A real Alertmanager holding the alerting world's alerts, routed and inhibited."""
    yield from alert_world.loaded_alertmanager(tmp_path_factory.mktemp("cli-alertmanager"))


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChildServer]:
    """A real Prometheus whose rules fire one alert and hold two pending."""
    yield from alert_world.pending_prometheus(tmp_path_factory.mktemp("cli-prometheus"))
