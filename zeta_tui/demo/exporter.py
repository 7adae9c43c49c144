"""Live ``/metrics`` for Prometheus to scrape: the world's values at the moment of the request.

A threaded stdlib HTTP server on loopback. Prometheus scrapes it with ``honor_labels: true``
so the ``job`` and ``instance`` labels the world writes are kept, which makes the live series
the same series as the backfilled ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zeta_tui.demo.openmetrics import TEXT_CONTENT_TYPE, exposition_text
from zeta_tui.demo.world import TeamZetaWorld

SCRAPE_JOB = "zeta-world"


class WorldExporter:
    """Serves the world on http://127.0.0.1:<port>/metrics from a daemon thread.

    ``clock`` returns the unix time whose values a scrape gets (``time.time`` by default;
    tests pass a fixed clock to compare with a backfill).
    """

    def __init__(self, world: TeamZetaWorld, *, port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.clock = clock
        self.scrapes = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics is served here")
                    return
                body = exposition_text(exporter.world, exporter.clock()).encode()
                exporter.scrapes += 1
                self.send_response(200)
                self.send_header("Content-Type", TEXT_CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # a scrape every 15 s is not news; keep the terminal clean for the console

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    @property
    def target(self) -> str:
        """``host:port`` for a Prometheus static_configs target."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> WorldExporter:
        self._thread = threading.Thread(target=self._server.serve_forever, name="zeta-world-exporter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WorldExporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def scrape_config(exporter_target: str, interval: str = "15s") -> str:
    """prometheus.yml scraping the world exporter, keeping the world's own job/instance labels."""
    return f"""global:
  scrape_interval: {interval}
  evaluation_interval: {interval}
scrape_configs:
  - job_name: {SCRAPE_JOB}
    honor_labels: true
    scrape_interval: {interval}
    static_configs:
      - targets: ["{exporter_target}"]
"""
