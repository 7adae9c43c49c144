"""`zeta incidents` on alerts a real Prometheus fired live at a real Alertmanager.

A Prometheus evaluates, every second, rules whose conditions hold over known windows of the wall
clock (``time() > S < E``); it sends what fires to an Alertmanager whose routing has other
receiver names than the demo's, nested routes, ``continue``, ``match``, ``match_re`` and
``matchers``. One critical routes to a chat receiver only (missed: no pager route); another is
silenced, through Alertmanager's API, before it fires (missed: silenced). While they fire, what
Alertmanager itself says of them (their receivers, their silences) is read with httpx: zeta's
routing and silences must agree with it. After they resolve, every time zeta reports is checked
against the windows and the rules' ``for`` on Prometheus's evaluation grid (its phase read from
the raw samples with httpx, never from zeta).

The same samples check tests/support/incident_history.alert_series, the synthetic history of
tests/test_incidents_history.py: for the same windows and phase it writes what this Prometheus
wrote, sample for sample. The module takes about 30 s.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.incident_history import Condition, alert_series
from tests.support.servers import wait_until
from zeta_tui.cli import main
from zeta_tui.demo.processes import ChildServer, alertmanager_server, find_binary, free_port, prometheus_server
from zeta_tui.errors import ZetaError

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]  # a Prometheus and an Alertmanager, live

#: receivers named as nobody's demo; PagerDuty's events go to a closed local port, nothing leaves
ROUTING = """\
route:
  receiver: ops-chat
  group_by: [alertname]
  group_wait: 1s
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
    - receiver: checkout-tickets
      match:
        service: checkout
receivers:
  - name: ops-chat
    webhook_configs: [{url: "http://127.0.0.1:CLOSED/ops"}]
  - name: payments-chat
    webhook_configs: [{url: "http://127.0.0.1:CLOSED/payments"}]
  - name: sre-phone
    pagerduty_configs: [{routing_key: not-a-key, url: "http://127.0.0.1:CLOSED/pagerduty"}]
  - name: night-oncall
    webhook_configs: [{url: "http://127.0.0.1:CLOSED/night"}]
  - name: checkout-tickets
    webhook_configs: [{url: "http://127.0.0.1:CLOSED/tickets"}]
"""

LEAD = 8  # seconds from the start of the servers to S
LENGTH = 12  # S to E
#: name -> (window relative to [S, E], for, labels)
RULES = {
    "CheckoutDown": ((0, 0), 3, {"severity": "critical", "service": "checkout"}),
    "CheckoutErrors": ((1, 3), 1, {"severity": "critical", "service": "checkout"}),
    "CheckoutSlow": ((-2, 2), 0, {"severity": "warning", "service": "checkout"}),
    "PaymentsErrors": ((0, 0), 2, {"severity": "critical", "service": "payments", "team": "payments"}),
    "SearchDown": ((0, 0), 2, {"severity": "critical", "service": "search-api"}),
}


def window(name: str, s: int, e: int) -> tuple[int, int]:
    (ds, de), _, _ = RULES[name]
    return s + ds, e + de


def rules_yaml(s: int, e: int) -> str:
    lines = ["groups:", "  - name: live-incidents", "    interval: 1s", "    rules:"]
    for name, (_, hold, labels) in RULES.items():
        start, end = window(name, s, e)
        lines += [
            f"      - alert: {name}",
            f"        expr: vector(time()) > {start} < {end}",
            f"        for: {hold}s",
            f"        labels: {json.dumps(labels)}",
        ]
    return "\n".join(lines) + "\n"


class Live:
    def __init__(self, prom: ChildServer, am: ChildServer, s: int, e: int, silence: str, seen: dict, config: Path):
        self.prom, self.am, self.s, self.e, self.silence, self.seen, self.config = prom, am, s, e, silence, seen, config


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    try:
        find_binary("prometheus")
        am = alertmanager_server(tmp_path_factory.mktemp("live-am"), ROUTING.replace("CLOSED", str(free_port())))
    except ZetaError as exc:
        pytest.skip(f"{exc.message}: {exc.hint}")
    am.start()
    prom = None
    try:
        am.wait_ready(timeout=30)
        s = int(time.time()) + LEAD
        e = s + LENGTH
        workdir = tmp_path_factory.mktemp("live-prom")
        (workdir / "rules.yml").write_text(rules_yaml(s, e))
        prom = prometheus_server(
            workdir,
            "global:\n  evaluation_interval: 1s\n"
            f"rule_files: [{workdir / 'rules.yml'}]\n"
            f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am.port}']\n",
        )
        prom.start()
        prom.wait_ready(timeout=30)
        # The silence is made before SearchDown fires, as an on-call engineer would during a
        # maintenance window: Alertmanager starts a silence now at the earliest.
        now = time.time()
        silence = httpx.post(
            f"{am.url}/api/v2/silences",
            json={
                "matchers": [{"name": "alertname", "value": "SearchDown", "isRegex": False, "isEqual": True}],
                "startsAt": _rfc3339(now),
                "endsAt": _rfc3339(now + 600),
                "createdBy": "test",
                "comment": "search maintenance",
            },
            timeout=10,
        ).json()["silenceID"]
        assert time.time() < s, "the servers took too long to start: the windows have begun"
        # What Alertmanager says of the alerts while they fire (all five at S + 4).
        seen: dict[str, dict] = {}

        def all_firing() -> bool:
            for a in httpx.get(f"{am.url}/api/v2/alerts", timeout=5).json():
                seen[a["labels"]["alertname"]] = a
            return set(seen) == set(RULES)

        assert wait_until(all_firing, timeout=LEAD + LENGTH), (seen.keys(), prom.tail_log(), am.tail_log())
        # Until the last one has resolved and its last sample is two evaluations old.
        time.sleep(max(0.0, e + 3 + 3 - time.time()))
        config = workdir / "zeta.toml"
        config.write_text(
            f'[contexts.live.prometheus]\nurl = "{prom.url}"\n[contexts.live.alertmanager]\nurl = "{am.url}"\n'
        )
        yield Live(prom, am, s, e, silence, seen, config)
    finally:
        if prom is not None:
            prom.stop()
        am.stop()


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def raw(live: Live, selector: str) -> list[dict]:
    """Prometheus's own raw samples, read with httpx."""
    body = httpx.get(
        f"{live.prom.url}/api/v1/query", params={"query": f"{selector}[5m]", "time": str(time.time())}, timeout=10
    ).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def phase(live: Live) -> float:
    """Where in each second Prometheus evaluates this group (the same for every sample)."""
    times = [float(t) for s in raw(live, "ALERTS") for t, _ in s["values"]]
    fractions = {round(t % 1, 3) for t in times}
    assert len(fractions) == 1, fractions
    return fractions.pop()


def first_eval_after(t: float, phase_s: float, strictly: bool) -> float:
    """The first evaluation after ``t`` (strictly, or at or after) on the 1 s grid at ``phase_s``."""
    k = math.floor(t - phase_s) + 1 if strictly else math.ceil(t - phase_s)
    return k + phase_s


def expected_times(live: Live, name: str) -> tuple[float, float, float]:
    """(condition began, fired, resolved) of one rule: active at the first evaluation with time() > start,
    firing ``for`` later, resolved at the first evaluation with time() >= end."""
    start, end = window(name, live.s, live.e)
    p = phase(live)
    began = first_eval_after(start, p, strictly=True)
    return began, began + RULES[name][1], first_eval_after(end, p, strictly=False)


def run_json(capsys, live: Live) -> tuple[int, dict, list[dict]]:
    code = main(["incidents", "--config", str(live.config), "--since", "10m", "--json"])
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    return code, lines[0], lines[1:]


def test_the_synthetic_history_writes_what_prometheus_writes(live) -> None:
    p = phase(live)
    for name, (_, hold, labels) in RULES.items():
        start, end = window(name, live.s, live.e)
        # time() > start: the first evaluation strictly after it; [start, end) in the generator.
        written = alert_series([Condition({"alertname": name, **labels}, start + 1e-6, end, hold)], 1, p)
        real = {
            (s["metric"]["__name__"], tuple(sorted((k, v) for k, v in s["metric"].items() if k != "__name__"))): [
                (float(t), float(v)) for t, v in s["values"]
            ]
            for s in raw(live, f'{{__name__=~"ALERTS|ALERTS_FOR_STATE", alertname="{name}"}}')
        }
        assert set(real) == set(written), name
        for key, samples in written.items():
            assert [t for t, _ in real[key]] == pytest.approx([t for t, _ in samples], abs=2e-3), (name, key)
            assert [v for _, v in real[key]] == [v for _, v in samples], (name, key)


def test_detection_and_resolution_times_follow_the_windows_and_the_rules(capsys, live) -> None:
    _, _, found = run_json(capsys, live)
    by_service = {i["service"]: i for i in found}
    assert set(by_service) == {"checkout", "payments", "search-api"}
    checkout = by_service["checkout"]
    assert sorted(c["alertname"] for c in checkout["criticals"]) == ["CheckoutDown", "CheckoutErrors"]
    for i in found:
        for c in i["criticals"]:
            began, fired, resolved = expected_times(live, c["alertname"])
            assert seconds(c["condition_began"]) == pytest.approx(began, abs=2e-3), c
            assert seconds(c["fired"]) == pytest.approx(fired, abs=2e-3), c
            assert seconds(c["resolved"]) == pytest.approx(resolved, abs=2e-3), c
    # The checkout incident: began with CheckoutDown, detected when CheckoutErrors fired (its
    # `for` is shorter), resolved when CheckoutErrors resolved (its window ends later).
    down, errors = expected_times(live, "CheckoutDown"), expected_times(live, "CheckoutErrors")
    assert checkout["mttd_seconds"] == pytest.approx(min(down[1], errors[1]) - down[0], abs=2e-3)
    assert checkout["mttr_seconds"] == pytest.approx(max(down[2], errors[2]) - min(down[1], errors[1]), abs=2e-3)
    # The warning of checkout that fired around it is related, not an incident.
    assert [r["alertname"] for r in checkout["related"]] == ["CheckoutSlow"]
    # Alertmanager was told the alert fired when zeta says it did.
    assert seconds(live.seen["CheckoutDown"]["startsAt"]) == pytest.approx(down[1], abs=2e-3)


def test_receivers_and_silences_agree_with_alertmanager(capsys, live) -> None:
    code, summary, found = run_json(capsys, live)
    criticals = {c["alertname"]: c for i in found for c in i["criticals"]}
    for name, c in criticals.items():
        said = live.seen[name]
        assert c["receivers"] == [r["name"] for r in said["receivers"]], name
        assert c["silenced_by"] == said["status"]["silencedBy"], name
    # sre-phone has a PagerDuty integration; night-oncall is a webhook named as a pager.
    assert criticals["CheckoutDown"]["receivers"] == ["sre-phone", "checkout-tickets"]
    assert criticals["CheckoutDown"]["pager_receivers"] == ["sre-phone"] and not criticals["CheckoutDown"]["missed"]
    assert criticals["PaymentsErrors"]["receivers"] == ["payments-chat"]
    assert criticals["PaymentsErrors"]["missed_because"] == "no pager route"
    assert criticals["SearchDown"]["receivers"] == ["night-oncall"]
    assert criticals["SearchDown"]["silenced_by"] == [live.silence]
    assert criticals["SearchDown"]["missed_because"] == "silenced"
    assert summary["missed"] == 2 and code == 1
    assert {c["name"]: c["met"] for c in summary["criteria"]} == {
        "MTTD": True,
        "MTTR": True,
        "missed criticals": False,
    }
    assert summary["pager_receivers"] == ["sre-phone", "night-oncall"]


def test_a_pager_pattern_replaces_the_default(capsys, live) -> None:
    code = main(["incidents", "--config", str(live.config), "--since", "10m", "--json", "--pager", "payments-.*"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    criticals = {c["alertname"]: c for i in lines[1:] for c in i["criticals"]}
    assert criticals["PaymentsErrors"]["missed"] is False
    assert criticals["CheckoutDown"]["missed_because"] == "no pager route"
    assert lines[0]["pager_receivers"] == ["payments-chat"] and code == 1
