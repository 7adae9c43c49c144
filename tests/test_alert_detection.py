"""Detection latency against a live rule in a real Prometheus: a rule with ``for: 4s`` fires,
and the alerts overview says it was detected 4 s after its condition began (the rule's ``for``,
read from the rules API, since Prometheus 2.x reports no firing time)."""

from __future__ import annotations

import pytest

from tests.support.servers import rule_prometheus
from zeta_tui.backends.alert_overview import fetch_alerts
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig

RULES = """\
groups:
  - name: detection
    interval: 1s
    rules:
      - alert: SlowToFire
        expr: vector(1)
        for: 4s
        labels: {service: auth, severity: critical}
      - alert: FiresAtOnce
        expr: vector(1)
        labels: {service: auth, severity: warning}
"""


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    child = rule_prometheus(
        tmp_path_factory.mktemp("detection-prometheus"),
        RULES,
        until=lambda alerts: sorted(a["state"] for a in alerts) == ["firing", "firing"],
    )
    yield child
    child.stop()


async def test_detection_is_the_rule_for(prom) -> None:
    client = PrometheusClient(PrometheusConfig(url=prom.url))
    try:
        fetched = await fetch_alerts(None, client)
    finally:
        await client.aclose()
    assert fetched.errors == []
    rows = {r.name: r for r in fetched.rows()}
    assert rows["SlowToFire"].state == "active" and rows["SlowToFire"].detection_seconds == 4.0
    assert rows["FiresAtOnce"].detection_seconds == 0.0
