"""Detection latency against a live rule in a real Prometheus: a rule with ``for: 4s`` fires,
and the alerts overview says it was detected 4 s after its condition began (the rule's ``for``,
read from the rules API, since Prometheus 2.x reports no firing time)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.servers import wait_until
from zeta_tui.backends.alert_overview import fetch_alerts
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig
from zeta_tui.demo.processes import find_binary, prometheus_server
from zeta_tui.errors import ZetaError

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
    try:
        find_binary("prometheus")
    except ZetaError as exc:
        pytest.skip(f"Prometheus is not installed: {exc.hint}")
    workdir = tmp_path_factory.mktemp("detection-prometheus")
    (workdir / "rules.yml").write_text(RULES)
    child = prometheus_server(workdir, f"global:\n  evaluation_interval: 1s\nrule_files: [{workdir / 'rules.yml'}]\nscrape_configs: []\n")
    child.start()
    try:
        child.wait_ready(timeout=30)

        def both_firing() -> bool:
            raw = httpx.get(f"{child.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            return sorted(a["state"] for a in raw) == ["firing", "firing"]

        assert wait_until(both_firing, timeout=30), child.tail_log()
        yield child
    finally:
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
