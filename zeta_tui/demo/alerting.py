"""The demo's alerting: the shipped rules in its Prometheus, a real Alertmanager child, and a
local webhook sink in place of PagerDuty and Slack, so that nothing leaves the machine.

The Alertmanager routing is the shipped ``queries/prometheus/alertmanager.yaml``'s tree (critical
to ``pagerduty-critical``, warning to ``slack-warnings``, the rest to ``slack-default``) with
every receiver a webhook to the sink; the sink appends what it receives to
``<run dir>/alert-notifications.jsonl`` (one JSON object a notification, kept to the last 1,000),
so a demo user can see what would have paged.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from zeta_tui.demo.processes import free_port
from zeta_tui.resources import shipped_dir

RECEIVERS = ("pagerduty-critical", "slack-warnings", "slack-default")
KEEP_NOTIFICATIONS = 1000


def rules_file() -> Path:
    """The shipped alert rules (loaded by the demo's Prometheus as they are)."""
    return shipped_dir("queries") / "prometheus" / "alerts.yaml"


def alerting_config(alertmanager_target: str) -> str:
    """The prometheus.yml lines that load the shipped rules and send alerts to the Alertmanager."""
    return (
        f'rule_files: ["{rules_file()}"]\n'
        f'alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ["{alertmanager_target}"]\n'
    )


def alertmanager_config(sink_url: str) -> str:
    """The shipped routing tree with webhook receivers pointing at the sink."""
    receivers = "\n".join(
        f"  - name: {name}\n    webhook_configs:\n      - url: {sink_url}/{name}\n        send_resolved: true"
        for name in RECEIVERS
    )
    return f"""route:
  receiver: slack-default
  group_by: [alertname, service, job, endpoint]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 4h
  routes:
    - receiver: pagerduty-critical
      matchers: ['severity="critical"']
    - receiver: slack-warnings
      matchers: ['severity="warning"']
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, service, job, endpoint]
receivers:
{receivers}
"""


class WebhookSink:
    """An HTTP server on 127.0.0.1 that records Alertmanager's webhook notifications."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"unreadable": body[:200].decode(errors="replace")}
                sink.record(self.path.strip("/"), payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return  # the console owns the terminal

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, name="zeta-demo-alert-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def record(self, receiver: str, payload: dict[str, Any]) -> None:
        line = json.dumps(
            {
                "receiver": receiver,
                "status": payload.get("status"),
                "alerts": [
                    {"labels": a.get("labels", {}), "status": a.get("status"), "startsAt": a.get("startsAt")}
                    for a in payload.get("alerts", [])
                ],
            }
        )
        with self._lock:
            lines = self.path.read_text().splitlines() if self.path.exists() else []
            lines = [*lines, line][-KEEP_NOTIFICATIONS:]
            self.path.write_text("\n".join(lines) + "\n")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
