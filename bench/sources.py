"""Where bench/startup.py gets a Prometheus whose data covers "now".

A source is started once per bench run and gives a base URL:

- ``TeamZetaPrometheus`` (default): what `zeta demo` runs — the Team Zeta world backfilled
  for the last hours with zeta_tui.demo.backfill, a Prometheus child over those blocks, and
  the world's live /metrics exporter scraped every 15 s, so the console sees time move;
- ``ExternalPrometheus``: a Prometheus that is already running (``--prometheus-url``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Protocol


class PrometheusSource(Protocol):
    """A Prometheus holding data up to about now."""

    description: str

    def start(self, workdir: Path) -> str:
        """Start (or find) the server; returns its base URL."""
        ...

    def stop(self) -> None: ...


class ExternalPrometheus:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.description = f"external Prometheus at {self.url}"

    def start(self, workdir: Path) -> str:
        return self.url

    def stop(self) -> None:
        pass


class TeamZetaPrometheus:
    """The demo world: ``hours`` of history ending now at ``step`` seconds, plus the live scrape."""

    def __init__(self, hours: float = 2.0, step: int = 15, namespace: str = "production") -> None:
        self.hours = hours
        self.step = step
        self.namespace = namespace
        self.description = f"Team Zeta world: {hours:g} h backfilled at {step} s, live scrape every 15 s"
        self.backfill_seconds: float | None = None
        self._exporter = None
        self._server = None

    def start(self, workdir: Path) -> str:
        from zeta_tui.demo.backfill import Segment, backfill, move_blocks
        from zeta_tui.demo.exporter import WorldExporter, scrape_config
        from zeta_tui.demo.processes import prometheus_server
        from zeta_tui.demo.world import TeamZetaWorld

        began = time.monotonic()
        world = TeamZetaWorld(namespace=self.namespace)
        end = time.time()
        data = workdir / "data"
        move_blocks(backfill(world, [Segment(end - self.hours * 3600, end, self.step)], workdir / "staging"), data)
        shutil.rmtree(workdir / "staging", ignore_errors=True)
        self.backfill_seconds = time.monotonic() - began
        self._exporter = WorldExporter(world).start()
        self._server = prometheus_server(workdir, scrape_config(self._exporter.target), data_dir=data, retention="30d")
        self._server.start()
        self._server.wait_ready(timeout=60)
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._exporter is not None:
            self._exporter.stop()
            self._exporter = None
