"""The alerting world of the alert tests: a real Alertmanager with alerts injected through its
API (its own routing and inhibition) and a real Prometheus whose rules hold two alerts pending
and fire one that Alertmanager also has. The fixtures `am` and `prom` (tests/conftest.py) start
them; `expected_receivers` and `expected_state` are AM_CONFIG's routing worked by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.support.servers import rule_prometheus, started_alertmanager, wait_until
from zeta_tui.demo.processes import ChildServer

# Critical pages (and carries on), ml-engine goes to its team, the rest to default; a critical
# inhibits a warning of the same service.
AM_CONFIG = """\
route:
  receiver: default
  group_by: [alertname, service]
  group_wait: 1s
  routes:
    - receiver: pager
      matchers: ['severity="critical"']
      continue: true
    - receiver: ml-team
      matchers: ['service="ml-engine"']
receivers:
  - name: default
  - name: pager
  - name: ml-team
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [service]
"""

NOW = time.time()
SENT = [  # (alert, minutes ago it started)
    (
        {
            "labels": {
                "alertname": "HighErrorRate",
                "service": "ml-engine",
                "severity": "critical",
                "job": "ml-engine",
            },
            "annotations": {"summary": "ml-engine errors above 5%"},
        },
        10,
    ),
    (
        {
            "labels": {"alertname": "HighMemoryUsage", "service": "ml-engine", "severity": "warning"},
            "annotations": {"description": "memory at 93%"},
        },
        30,
    ),
    ({"labels": {"alertname": "DiskSpaceLow", "service": "postgres", "severity": "warning"}, "annotations": {}}, 125),
    (
        {
            "labels": {"alertname": "ServiceDown", "job": "auth", "severity": "critical"},
            "annotations": {"summary": "auth is down"},
        },
        3,
    ),
]
SENT_BY_NAME = {a["labels"]["alertname"]: (a, minutes) for a, minutes in SENT}

# Prometheus: ServiceDown fires with the very labels Alertmanager has (shown once), two alerts
# stay pending for an hour (one of them critical: pending never makes the exit status 1).
RULES = """\
groups:
  - name: zeta-cli-alerts
    interval: 1s
    rules:
      - alert: ServiceDown
        expr: vector(1)
        labels: {job: auth, severity: critical}
        annotations: {summary: "auth is down"}
      - alert: HighLatency
        expr: vector(1)
        for: 1h
        labels: {service: backend-api, severity: warning}
        annotations: {summary: "p95 above 2s"}
      - alert: DatabaseDown
        expr: vector(1)
        for: 1h
        labels: {service: postgres, severity: critical}
        annotations: {summary: "postgres is down"}
"""
PENDING = {
    "HighLatency": {"service": "backend-api", "severity": "warning"},
    "DatabaseDown": {"service": "postgres", "severity": "critical"},
}
PENDING_SUMMARY = {"HighLatency": "p95 above 2s", "DatabaseDown": "postgres is down"}


def expected_receivers(labels: dict[str, str]) -> set[str]:
    """AM_CONFIG's routing tree, worked by hand."""
    out = set()
    if labels.get("severity") == "critical":
        out.add("pager")
    if labels.get("service") == "ml-engine":
        out.add("ml-team")
    return out or {"default"}


def expected_state(name: str) -> str:
    return "inhibited" if name == "HighMemoryUsage" else "active"  # a warning of ml-engine, whose critical fires


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def loaded_alertmanager(workdir: Path) -> Iterator[ChildServer]:
    """A real Alertmanager on AM_CONFIG holding SENT, once its inhibition has settled."""

    def load(child: ChildServer) -> None:
        payload = [
            {**a, "startsAt": rfc3339(NOW - minutes * 60), "endsAt": rfc3339(NOW + 3 * 3600)} for a, minutes in SENT
        ]
        httpx.post(f"{child.url}/api/v2/alerts", json=payload, timeout=10).raise_for_status()

        def settled() -> bool:
            raw = httpx.get(f"{child.url}/api/v2/alerts", timeout=5).json()
            return len(raw) == len(SENT) and any(a["status"]["inhibitedBy"] for a in raw)

        assert wait_until(settled), child.tail_log()

    yield from started_alertmanager(workdir, AM_CONFIG, load)


def pending_prometheus(workdir: Path) -> Iterator[ChildServer]:
    """A real Prometheus on RULES, once its three alerts are there (one firing, two pending)."""
    child = rule_prometheus(workdir, RULES, until=lambda alerts: len(alerts) == 3, timeout=20)
    yield child
    child.stop()
