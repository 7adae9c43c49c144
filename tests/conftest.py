"""Shared fixtures: a real Prometheus loaded with the Team Zeta world."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.world import NAMESPACE, SEED, STEP_SECONDS, T0, WINDOW_SECONDS


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
