"""The alerts of the folding tests: five ModelTrainingFailed of ml-engine that differ by tenant_id
(one of them silenced), a HighLatency page on one endpoint firing in Alertmanager while another
endpoint's is pending in Prometheus, and alerts alone around them, one with a name of 30
characters. `loaded_alertmanager` and `pending_prometheus` start the real servers; what the
tests expect is worked out from SENT and PENDING here, not from zeta's output."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.alert_world import rfc3339
from tests.support.servers import rule_prometheus, started_alertmanager, wait_until
from zeta_tui.demo.processes import ChildServer

AM_CONFIG = """\
route:
  receiver: tickets
  group_by: [alertname, job]
  group_wait: 1s
  routes:
    - receiver: pager
      matchers: ['severity="critical"']
receivers:
  - name: tickets
  - name: pager
"""

NOW = time.time()
TENANTS = ("tenant_007", "tenant_013", "tenant_021", "tenant_034", "tenant_042")
#: the tenant whose failure a silence holds
SILENCED_TENANT = "tenant_034"
TRAINING = [
    (
        {
            "labels": {
                "alertname": "ModelTrainingFailed",
                "job": "ml-engine",
                "instance": "ml-engine-0:8000",
                "status": "failed",
                "tenant_id": tenant,
                "severity": "warning",
            },
            "annotations": {
                "summary": f"Model training failed for {tenant}",
                "description": f"The latest training job of {tenant} failed; its recommendations keep using "
                "the previous model until a run succeeds.",
            },
        },
        minutes,
    )
    for tenant, minutes in zip(TENANTS, (4, 9, 16, 25, 38))
]
OTHERS = [
    (
        {
            "labels": {"alertname": "HighErrorRate", "job": "ml-engine", "severity": "critical"},
            "annotations": {"summary": "ml-engine answers 44.88% of requests with 5xx"},
        },
        6,
    ),
    (
        {
            "labels": {
                "alertname": "ServiceDown",
                "job": "ml-engine",
                "instance": "ml-engine-1:8000",
                "severity": "critical",
            },
            "annotations": {"summary": "ml-engine target ml-engine-1:8000 is down"},
        },
        3,
    ),
    (
        {
            "labels": {
                "alertname": "HighLatency",
                "job": "backend-api",
                "endpoint": "/api/v1/recommendations",
                "severity": "critical",
            },
            "annotations": {"summary": "p95 latency > 1s for /api/v1/recommendations (backend-api): 1.479s"},
        },
        14,
    ),
    (
        {
            "labels": {
                "alertname": "KubeDeploymentReplicasMismatch",
                "job": "kube-state-metrics",
                "namespace": "zeta",
                "deployment": "ranker",
                "severity": "warning",
            },
            "annotations": {"summary": "Deployment zeta/ranker has not matched its expected replicas for 15 minutes"},
        },
        52,
    ),
]
SENT = TRAINING + OTHERS

# Prometheus holds HighLatency of another endpoint pending (its `for` of an hour not passed).
RULES = """\
groups:
  - name: zeta-fold
    interval: 1s
    rules:
      - alert: HighLatency
        expr: vector(1)
        for: 1h
        labels: {job: backend-api, endpoint: /api/v1/auth/login, severity: critical}
        annotations: {summary: "p95 latency > 1s for /api/v1/auth/login (backend-api)"}
"""
PENDING = [{"alertname": "HighLatency", "job": "backend-api", "endpoint": "/api/v1/auth/login", "severity": "critical"}]


def expected_receiver(labels: dict[str, str]) -> str:
    """AM_CONFIG's routing, by hand."""
    return "pager" if labels["severity"] == "critical" else "tickets"


def loaded_alertmanager(workdir: Path) -> Iterator[ChildServer]:
    """A real Alertmanager on AM_CONFIG holding SENT, SILENCED_TENANT's failure silenced."""

    def load(child: ChildServer) -> None:
        payload = [
            {**a, "startsAt": rfc3339(NOW - minutes * 60), "endsAt": rfc3339(NOW + 3 * 3600)} for a, minutes in SENT
        ]
        httpx.post(f"{child.url}/api/v2/alerts", json=payload, timeout=10).raise_for_status()
        silence = {
            "matchers": [
                {"name": "alertname", "value": "ModelTrainingFailed", "isRegex": False, "isEqual": True},
                {"name": "tenant_id", "value": SILENCED_TENANT, "isRegex": False, "isEqual": True},
            ],
            "startsAt": rfc3339(NOW - 60),
            "endsAt": rfc3339(NOW + 3 * 3600),
            "createdBy": "oncall",
            "comment": "retraining by hand, OPS-7",
        }
        httpx.post(f"{child.url}/api/v2/silences", json=silence, timeout=10).raise_for_status()

        def settled() -> bool:
            raw = httpx.get(f"{child.url}/api/v2/alerts", timeout=5).json()
            return len(raw) == len(SENT) and any(a["status"]["silencedBy"] for a in raw)

        assert wait_until(settled), child.tail_log()

    yield from started_alertmanager(workdir, AM_CONFIG, load)


def pending_prometheus(workdir: Path) -> Iterator[ChildServer]:
    """A real Prometheus on RULES, once its alert is pending."""
    child = rule_prometheus(workdir, RULES, until=lambda alerts: len(alerts) == len(PENDING), timeout=20)
    yield child
    child.stop()
