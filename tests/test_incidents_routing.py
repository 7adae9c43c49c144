"""Alertmanager's routing tree as zeta evaluates it (models/alert_routing.py), on the seed's
configuration verbatim and on a tree with other receiver names, against `amtool config routes
test` (Alertmanager's own evaluation) and against the configuration a real Alertmanager reports
(/api/v2/status re-marshals it: ``match`` and ``matchers`` come back in its own spelling).
Silences in force are checked on a real captured /api/v2/silences answer."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.servers import real_fixture, shared_dir
from zeta_tui.backends.alertmanager import silences_from_answer
from zeta_tui.backends.incident_history import routing_from_status
from zeta_tui.demo.processes import ChildServer, alertmanager_server, find_binary
from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.models.alert_routing import RoutingError, routing_tree, split_matchers
from zeta_tui.models.incidents import silences_in_force
from zeta_tui.models.rfc3339 import rfc3339_seconds

OTHER_NAMES = """\
route:
  receiver: ops-chat
  routes:
    - receiver: payments-chat
      matchers: ['team="payments"']
    - receiver: sre-phone
      match_re:
        severity: critical|page
      continue: true
      routes:
        - receiver: night-oncall
          matchers: ['{service=~"search.*", tier!="batch"}']
        - matchers: ['region =~ "eu-.*"']
          receiver: eu-duty
          continue: true
        - receiver: eu-ticket
          match: {region: eu-west-1}
    - receiver: checkout-tickets
      match:
        service: checkout
        code: 500
    - receiver: db-opsgenie
      matchers: ['service="postgres",severity!="info"']
receivers:
  - name: ops-chat
    slack_configs: [{api_url: "http://127.0.0.1:1/slack", channel: "#ops"}]
  - name: payments-chat
    webhook_configs: [{url: "http://127.0.0.1:1/payments"}]
  - name: sre-phone
    pagerduty_configs: [{routing_key: not-a-key, url: "http://127.0.0.1:1/pagerduty"}]
  - name: night-oncall
    webhook_configs: [{url: "http://127.0.0.1:1/night"}]
  - name: eu-duty
    webhook_configs: [{url: "http://127.0.0.1:1/eu"}]
  - name: eu-ticket
    webhook_configs: [{url: "http://127.0.0.1:1/eu-ticket"}]
  - name: checkout-tickets
    webhook_configs: [{url: "http://127.0.0.1:1/tickets"}]
  - name: db-opsgenie
    opsgenie_configs: [{api_key: not-a-key, api_url: "http://127.0.0.1:1/"}]
"""

#: label sets that take every branch of OTHER_NAMES (and the seed's)
LABEL_SETS = [
    {"severity": "critical", "service": "checkout"},
    {"severity": "critical", "service": "checkout", "code": "500"},
    {"severity": "warning", "service": "checkout", "code": "500"},
    {"severity": "critical", "service": "search-api"},
    {"severity": "critical", "service": "search-api", "tier": "batch"},
    {"severity": "page", "service": "search"},
    {"severity": "critical", "service": "search-api", "team": "payments"},
    {"severity": "critical", "region": "eu-west-1"},
    {"severity": "critical", "region": "eu-central-1"},
    {"severity": "critical", "region": "us-east-1", "service": "search-x"},
    {"severity": "criticality"},  # match_re is anchored: not critical
    {"severity": "warning", "service": "postgres"},
    {"severity": "info", "service": "postgres"},
    {"severity": "warning"},
    {"alertname": "Watchdog"},
    {},
]


def seed_alertmanager_yaml() -> str:
    """The seed's alertmanager.yaml as written in the seed (its ```yaml block)."""
    base = shared_dir()
    if base is None:
        pytest.skip("../shared (the seed) is absent")
    text = (base / "seed" / "team-zeta-observability.md").read_text()
    return re.search(r"```yaml\n(# alertmanager\.yaml\n.*?)```", text, re.S).group(1)


def runnable(text: str) -> str:
    """The seed's file with its two placeholder Slack URLs made URLs (Alertmanager refuses to load
    ``api_url: 'YOUR_SLACK_WEBHOOK'``); nothing else changes."""
    return text.replace("'YOUR_SLACK_WEBHOOK'", "'http://127.0.0.1:1/slack'")


def amtool_receivers(config: Path, labels: dict[str, str]) -> tuple[str, ...]:
    try:
        amtool = find_binary("amtool")
    except ZetaError:
        pytest.skip("`amtool` is not installed: sudo apt-get install prometheus-alertmanager")
    argv = [amtool, "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return tuple(done.stdout.strip().split(","))


# --- the seed's routing, verbatim -----------------------------------------------------------


def test_the_seed_routes_criticals_to_its_pager_and_the_rest_to_slack() -> None:
    tree = routing_tree(yaml.safe_load(seed_alertmanager_yaml()))
    # The seed's tree, read by hand: critical -> pagerduty-oncall, warning -> slack-engineering,
    # anything else -> slack-default (the root's receiver).
    assert tree.receivers_for({"alertname": "HighErrorRate", "severity": "critical"}) == ("pagerduty-oncall",)
    assert tree.receivers_for({"alertname": "DiskSpaceLow", "severity": "warning"}) == ("slack-engineering",)
    assert tree.receivers_for({"alertname": "Watchdog"}) == ("slack-default",)
    assert tree.receivers_for({"severity": "Critical"}) == ("slack-default",)  # match is exact
    # pagerduty-oncall has pagerduty_configs; the Slack receivers page nobody.
    assert tree.pager_receivers() == ("pagerduty-oncall",)


@pytest.mark.prometheus  # amtool
def test_the_seed_routes_as_amtool_routes_it(tmp_path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(runnable(seed_alertmanager_yaml()))
    tree = routing_tree(yaml.safe_load(seed_alertmanager_yaml()))
    for labels in LABEL_SETS:
        assert tree.receivers_for(labels) == amtool_receivers(config, labels), labels


# --- other receiver names -------------------------------------------------------------------


@pytest.mark.prometheus  # amtool
def test_a_tree_with_other_names_routes_as_amtool_routes_it(tmp_path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(OTHER_NAMES)
    tree = routing_tree(yaml.safe_load(OTHER_NAMES))
    answers = {}
    for labels in LABEL_SETS:
        answers[tuple(labels.items())] = tree.receivers_for(labels)
        assert answers[tuple(labels.items())] == amtool_receivers(config, labels), labels
    # A few worked by hand, so that amtool and zeta cannot agree on something unexpected.
    assert tree.receivers_for({"severity": "critical", "service": "search-api"}) == ("night-oncall",)
    assert tree.receivers_for({"severity": "critical", "region": "eu-west-1"}) == ("eu-duty", "eu-ticket")
    assert tree.receivers_for({"severity": "critical", "service": "checkout", "code": "500"}) == (
        "sre-phone",
        "checkout-tickets",
    )


def test_pager_receivers_by_integration_by_name_and_by_pattern() -> None:
    tree = routing_tree(yaml.safe_load(OTHER_NAMES))
    # PagerDuty and Opsgenie integrations page; night-oncall is a webhook that says so.
    assert tree.pager_receivers() == ("sre-phone", "night-oncall", "db-opsgenie")
    assert not tree.is_pager("ops-chat") and not tree.is_pager("eu-duty")
    named = routing_tree(yaml.safe_load(OTHER_NAMES), pager="eu-.*")
    assert named.pager_receivers() == ("eu-duty", "eu-ticket")


# --- what a real Alertmanager reports -----------------------------------------------------------


@contextmanager
def status_of(workdir: Path, config: str) -> Iterator[dict]:
    """A real Alertmanager's /api/v2/status answer on ``config`` (the server stops on leaving)."""
    try:
        child: ChildServer = alertmanager_server(workdir, config)
    except ZetaError as exc:
        pytest.skip(f"Alertmanager is not installed: {exc.hint}")
    child.start()
    try:
        child.wait_ready(timeout=30)
        yield httpx.get(f"{child.url}/api/v2/status", timeout=10).json()
    finally:
        child.stop()


@pytest.mark.prometheus  # an Alertmanager
@pytest.mark.parametrize("which", ["seed", "other names"])
def test_the_tree_alertmanager_reports_routes_as_the_file_does(tmp_path, which) -> None:
    text = runnable(seed_alertmanager_yaml()) if which == "seed" else OTHER_NAMES
    with status_of(tmp_path, text) as status:
        pass
    reported = status["config"]["original"]
    assert reported != text  # Alertmanager re-marshals it: secrets hidden, defaults spelt out
    from_server = routing_from_status(status, "test")
    from_file = routing_tree(yaml.safe_load(text))
    for labels in LABEL_SETS:
        assert from_server.receivers_for(labels) == from_file.receivers_for(labels), labels
    assert from_server.pager_receivers() == from_file.pager_receivers()


# --- reading errors -----------------------------------------------------------------------------


def test_a_tree_that_cannot_be_read_says_where() -> None:
    with pytest.raises(RoutingError, match="no route"):
        routing_tree({"receivers": [{"name": "x"}]})
    with pytest.raises(RoutingError, match=r"route\.routes\[0\] is not a route"):
        routing_tree({"route": {"receiver": "x", "routes": ["oops"]}})
    with pytest.raises(RoutingError, match=r"route\.routes\[1\]\.matchers"):
        routing_tree({"route": {"receiver": "x", "routes": [{}, {"matchers": ["not a matcher"]}]}})
    with pytest.raises(RoutingError, match="route has no receiver"):
        routing_tree({"route": {}})
    with pytest.raises(BackendUnavailable, match=r"no config\.original"):
        routing_from_status({"versionInfo": {}}, "http://am:9093")


def test_matchers_split_on_commas_outside_quotes() -> None:
    assert split_matchers('{a="b", c=~"d,e"}') == ['a="b"', 'c=~"d,e"']
    assert split_matchers('x="a\\",b"') == ['x="a\\",b"']
    assert split_matchers("severity = critical") == ["severity = critical"]


# --- silences -----------------------------------------------------------------------------------


def test_silences_in_force_when_an_alert_fired_on_a_real_answer() -> None:
    body = json.loads(real_fixture("alertmanager/v2-silences-am0.31.json"))
    silences = silences_from_answer(body)
    # Worked from the JSON by hand: equality matchers only, all active from their startsAt.
    starts = {s["id"]: rfc3339_seconds(s["startsAt"]) for s in body}
    by_instance = next(s["id"] for s in body if s["matchers"] == [_eq("instance", "web1")])
    host_down_dev = next(s["id"] for s in body if {m["name"] for m in s["matchers"]} == {"alertname", "cluster"})
    labels = {"alertname": "Host_Down", "cluster": "dev", "instance": "web1"}
    after = max(starts.values()) + 60
    assert set(silences_in_force(silences, labels, after)) == {by_instance, host_down_dev}
    # Before a silence began it was not in force.
    assert silences_in_force(silences, labels, min(starts.values()) - 1) == ()
    assert silences_in_force(silences, {"alertname": "Host_Down", "cluster": "prod"}, after) == ()


def _eq(name: str, value: str) -> dict:
    return {"isEqual": True, "isRegex": False, "name": name, "value": value}
