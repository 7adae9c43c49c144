"""`zeta incidents` on a week of the demo's scripted incidents, in a real Prometheus and a real
Alertmanager running the demo's routing.

The history is what the shipped rules would write for the schedule of zeta_tui/demo/incidents.py
(tests/support/incident_history.py says how it is made and why it is synthetic). Every expected
figure is computed here, by closed form, from the schedule, the scenario's onsets and tails, the
rules' ``for`` (read from queries/prometheus/alerts.yaml) and the evaluation grid: an alert
becomes active at the first evaluation at or after its condition begins, fires ``for`` later
(rounded up to the grid), and resolves at the first evaluation at or after its condition ends.
Nothing is taken from zeta's output.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.support.incident_history import (
    EVALUATION,
    PHASE,
    WEEK,
    Condition,
    alert_series,
    history_prometheus,
    scenario,
    week_incidents,
)
from tests.support.servers import started_alertmanager
from tests.support.world import T0
from zeta_tui.cli import main
from zeta_tui.demo.alerting import alertmanager_config
from zeta_tui.demo.incidents import LATENCY_REGRESSION, ML_ERROR_SPIKE
from zeta_tui.demo.processes import ChildServer, free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]  # a Prometheus and an Alertmanager

#: the window's end: inside an ml-engine spike and a latency regression (both still open then)
NOW = T0


def first_evaluation(t: float) -> float:
    """The first evaluation at or after ``t`` on the grid (EVALUATION s apart, PHASE past)."""
    return math.ceil((t - PHASE) / EVALUATION) * EVALUATION + PHASE


@dataclass(frozen=True)
class Expected:
    labels: dict[str, str]
    began: float
    fired: float | None
    resolved: float | None  # None: open at ``now``

    @property
    def severity(self) -> str:
        return self.labels["severity"]


def expected_alerts(conditions: list[Condition], now: float) -> list[Expected]:
    """Each alert's episodes by closed form over the evaluation grid, as seen at ``now``."""
    by_labels: dict[tuple, list[Condition]] = {}
    for c in conditions:
        by_labels.setdefault(tuple(sorted(c.labels.items())), []).append(c)
    found = []
    for key, conds in by_labels.items():
        windows: list[list[float]] = []
        for c in sorted(conds, key=lambda c: c.start):
            # Two windows are one alert when no evaluation falls between them.
            if windows and first_evaluation(c.start) <= first_evaluation(windows[-1][1]):
                windows[-1][1] = max(windows[-1][1], c.end)
            else:
                windows.append([c.start, c.end])
        hold = conds[0].hold
        for start, end in windows:
            began, gone = first_evaluation(start), first_evaluation(end)
            if began >= gone or began > now:
                continue
            last_seen = min(gone - EVALUATION, math.floor((now - PHASE) / EVALUATION) * EVALUATION + PHASE)
            fired = began + math.ceil(hold / EVALUATION) * EVALUATION
            is_open = now - last_seen <= 2 * EVALUATION
            found.append(Expected(dict(key), began, fired if fired <= last_seen else None, None if is_open else gone))
    return found


@dataclass(frozen=True)
class ExpectedIncident:
    service: str
    criticals: tuple[Expected, ...]

    @property
    def began(self) -> float:
        return min(c.began for c in self.criticals)

    @property
    def detected(self) -> float:
        return min(c.fired for c in self.criticals)

    @property
    def resolved(self) -> float | None:
        ends = [c.resolved for c in self.criticals]
        return None if None in ends else max(ends)


def expected_incidents(alerts: list[Expected], since: float, now: float) -> list[ExpectedIncident]:
    by_service: dict[str, list[Expected]] = {}
    for a in alerts:
        if a.severity == "critical" and a.fired is not None:
            by_service.setdefault(a.labels["job"], []).append(a)
    found = []
    for service, group in by_service.items():
        chains: list[list[Expected]] = []
        reach = -math.inf
        for a in sorted(group, key=lambda a: a.began):
            if chains and a.began <= reach:
                chains[-1].append(a)
            else:
                chains.append([a])
                reach = -math.inf
            reach = max(reach, now if a.resolved is None else a.resolved)
        found += [ExpectedIncident(service, tuple(chain)) for chain in chains]
    return [i for i in found if since <= i.detected <= now]


def seconds(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


# --- the servers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_incidents():
    return week_incidents(NOW)


@pytest.fixture(scope="module")
def conditions(world_incidents) -> list[Condition]:
    return scenario(world_incidents)


@pytest.fixture(scope="module")
def history(tmp_path_factory, conditions) -> Iterator[ChildServer]:
    child = history_prometheus(tmp_path_factory.mktemp("incident-history"), alert_series(conditions))
    yield child
    child.stop()


@pytest.fixture(scope="module")
def demo_alertmanager(tmp_path_factory) -> Iterator[ChildServer]:
    """The demo's routing (criticals to pagerduty-critical, a webhook: a pager by its name). No
    alert is sent to it, so its sink URL is never called."""
    yield from started_alertmanager(
        tmp_path_factory.mktemp("incident-am"), alertmanager_config(f"http://127.0.0.1:{free_port()}")
    )


@pytest.fixture(scope="module")
def config(history, demo_alertmanager, tmp_path_factory) -> str:
    closed = f"http://127.0.0.1:{free_port()}"
    path = tmp_path_factory.mktemp("incident-config") / "zeta.toml"
    path.write_text(
        'default_context = "demo"\n'
        f'[contexts.demo.prometheus]\nurl = "{history.url}"\n'
        f'[contexts.demo.alertmanager]\nurl = "{demo_alertmanager.url}"\n'
        f'[contexts.promonly.prometheus]\nurl = "{history.url}"\n'
        f'[contexts.amdown.prometheus]\nurl = "{history.url}"\n[contexts.amdown.alertmanager]\nurl = "{closed}"\n'
        f'[contexts.promdown.prometheus]\nurl = "{closed}"\n'
        f'[contexts.promdown.alertmanager]\nurl = "{demo_alertmanager.url}"\n'
        "[contexts.nothing]\n"
    )
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def incidents_json(capsys, config: str, *args: str) -> tuple[int, dict, list[dict]]:
    code, out, err = run(capsys, "incidents", "--config", config, "--json", *args)
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and lines[0]["kind"] == "summary", (out, err)
    assert all(line["kind"] == "incident" for line in lines[1:])
    return code, lines[0], lines[1:]


# --- the week ---------------------------------------------------------------------------------


def test_every_incident_of_the_week_with_its_detection_and_resolution(capsys, config, conditions) -> None:
    code, summary, found = incidents_json(capsys, config, "--at", str(NOW))
    expected = expected_incidents(expected_alerts(conditions, NOW), NOW - WEEK, NOW)
    assert len(expected) > 60  # the week holds dozens of spikes, regressions and pod restarts
    by_key = {(i["service"], seconds(i["began"])): i for i in found}
    assert len(by_key) == len(found) == len(expected)
    for want in expected:
        got = by_key[(want.service, want.began)]
        assert seconds(got["detected"]) == pytest.approx(want.detected, abs=1e-3)
        assert got["mttd_seconds"] == pytest.approx(want.detected - want.began, abs=1e-3)
        if want.resolved is None:
            assert got["open"] and got["resolved"] is None and got["mttr_seconds"] is None
        else:
            assert seconds(got["resolved"]) == pytest.approx(want.resolved, abs=1e-3)
            assert got["mttr_seconds"] == pytest.approx(want.resolved - want.detected, abs=1e-3)
        assert sorted(c["alertname"] for c in got["criticals"]) == sorted(c.labels["alertname"] for c in want.criticals)
        for c in got["criticals"]:
            # The demo's routing: every critical pages pagerduty-critical (a webhook, a pager by name).
            assert c["receivers"] == ["pagerduty-critical"] and c["pager_receivers"] == ["pagerduty-critical"]
            assert c["silenced_by"] == [] and c["missed"] is False
    # The latest to begin first.
    assert [seconds(i["began"]) for i in found] == sorted((seconds(i["began"]) for i in found), reverse=True)

    mttd = statistics.fmean(i.detected - i.began for i in expected)
    resolved = [i.resolved - i.detected for i in expected if i.resolved is not None]
    mttr = statistics.fmean(resolved)
    assert summary["incidents"] == len(expected)
    assert summary["open"] == sum(1 for i in expected if i.resolved is None) == 2
    assert summary["mttd_seconds"] == pytest.approx(mttd, abs=1e-3)
    assert summary["mttr_seconds"] == pytest.approx(mttr, abs=1e-3)
    assert summary["missed"] == 0
    verdicts = {c["name"]: c["met"] for c in summary["criteria"]}
    assert verdicts == {"MTTD": mttd < 300, "MTTR": mttr < 3600, "missed criticals": True}
    assert code == (1 if mttd >= 300 or mttr >= 3600 else 0)
    assert summary["pager_receivers"] == ["pagerduty-critical"] and summary["unknown"] == []
    assert "not measured" in summary["log_search"]


def test_each_scripted_incident_is_detected_as_its_rules_say(capsys, config, world_incidents) -> None:
    """Straight from the schedule: an ml-engine spike pages through ServiceDown a minute (its
    ``for``) after the spike begins, and HighErrorRate joins it; a latency regression pages
    only after HighLatency's 10 minutes, which alone breaks the 5-minute MTTD for it."""
    _, _, found = incidents_json(capsys, config, "--at", str(NOW))
    spikes = [i for i in world_incidents if i.name == ML_ERROR_SPIKE and NOW - WEEK <= i.start + 60 <= NOW]
    regressions = [i for i in world_incidents if i.name == LATENCY_REGRESSION and NOW - WEEK <= i.start + 720 <= NOW]
    assert spikes and regressions
    for spike in spikes:
        incident = next(
            i
            for i in found
            if i["service"] == "ml-engine"
            and seconds(i["began"]) <= spike.start + EVALUATION
            and seconds(i["detected"]) >= spike.start
        )
        names = {c["alertname"] for c in incident["criticals"]}
        assert {"ServiceDown", "HighErrorRate"} <= names
        down = next(c for c in incident["criticals"] if c["labels"].get("instance") == spike.instance)
        assert seconds(down["condition_began"]) == first_evaluation(spike.start)
        assert seconds(down["fired"]) == first_evaluation(spike.start) + 60
    for regression in regressions:
        incident = next(
            i
            for i in found
            if i["service"] == "backend-api" and seconds(i["began"]) == first_evaluation(regression.start + 120)
        )
        assert incident["mttd_seconds"] == 600
        # The warning of the same endpoint fired around it: a related alert, not an incident.
        assert any(r["alertname"] == "HighLatency" and r["severity"] == "warning" for r in incident["related"])


def test_a_narrower_window_holds_only_its_incidents(capsys, config, conditions) -> None:
    _, summary, found = incidents_json(capsys, config, "--at", str(NOW), "--since", "1d")
    expected = expected_incidents(expected_alerts(conditions, NOW), NOW - 86400, NOW)
    assert summary["incidents"] == len(found) == len(expected)
    assert summary["window_seconds"] == 86400


def test_the_table_says_the_criteria_and_lists_the_incidents(capsys, config, conditions) -> None:
    code, out, _ = run(capsys, "incidents", "--config", config, "--at", str(NOW))
    expected = expected_incidents(expected_alerts(conditions, NOW), NOW - WEEK, NOW)
    mttd = statistics.fmean(i.detected - i.began for i in expected)
    assert code == (0 if mttd < 300 else 1)  # the week's mean resolution is minutes, none is missed
    head, table = out.split("\n\n", 1)
    assert head.startswith(f"Incidents in the last 7d ({datetime.fromtimestamp(NOW - WEEK, UTC):%m-%d %H:%M:%S}")
    assert "log search < 5s: not measured here" in head
    for name in ("MTTD", "MTTR", "missed criticals"):
        assert any(line.startswith(name) for line in head.splitlines())
    rows = table.strip().splitlines()
    assert rows[0].split()[:3] == ["BEGAN", "(UTC)", "SERVICE"] and len(rows) == 1 + len(expected)
    assert sum(1 for r in rows if " open " in r) == 2
    # Each row: when it began, fired and resolved (UTC), in the order they began, latest first.
    for row, want in zip(rows[1:], sorted(expected, key=lambda i: -i.began)):
        assert row.startswith(f"{datetime.fromtimestamp(want.began, UTC):%m-%d %H:%M:%S}  {want.service} ")
        assert f" {datetime.fromtimestamp(want.detected, UTC):%H:%M:%S} " in row
        if want.resolved is not None:
            assert f" {datetime.fromtimestamp(want.resolved, UTC):%H:%M:%S} " in row


# --- without (or with a broken) Alertmanager or Prometheus ---------------------------------------


def quiet_stretch(conditions: list[Condition], hours: int = 3) -> float:
    """The end of a ``hours``-long stretch of the week whose only pages are pod restarts (MTTD 1 min,
    MTTR a minute: every criterion met)."""
    alerts = expected_alerts(conditions, NOW)
    for end in range(int(NOW) - 3600, int(NOW - WEEK + hours * 3600), -3600):
        inside = expected_incidents(alerts, end - hours * 3600, end)
        if inside and all({c.labels["alertname"] for c in i.criticals} == {"ServiceDown"} for i in inside):
            return float(end)
    raise AssertionError("no quiet stretch in the week")


def test_met_criteria_exit_0_and_unknown_ones_exit_3(capsys, config, conditions) -> None:
    at = str(quiet_stretch(conditions))
    code, summary, found = incidents_json(capsys, config, "--at", at, "--since", "3h")
    assert code == 0 and found and all(c["met"] for c in summary["criteria"])
    # Without Alertmanager, whether a critical was missed is unknown: never reported as met.
    code, summary, found = incidents_json(capsys, config, "--context", "promonly", "--at", at, "--since", "3h")
    assert code == 3 and found
    assert summary["unknown"] == ["receivers", "silences"] and summary["missed"] is None
    assert {c["name"]: c["met"] for c in summary["criteria"]}["missed criticals"] is None
    assert all(c["receivers"] is None and c["missed"] is None for i in found for c in i["criticals"])
    code, _, err = run(capsys, "incidents", "--config", config, "--context", "promonly", "--at", at, "--since", "3h")
    assert code == 3 and "no [alertmanager] section" in err and "[contexts.promonly.alertmanager]" in err
    # Alertmanager down: its error, the same unknowns.
    code, _, err = run(capsys, "incidents", "--config", config, "--context", "amdown", "--at", at, "--since", "3h")
    assert code == 3 and "Alertmanager could not be read" in err


def test_a_broken_criterion_exits_1_even_without_alertmanager(capsys, config, conditions) -> None:
    """Around a latency regression that pages 10 minutes after its condition (HighLatency's
    ``for``), the mean time to detect is over 5 minutes: broken, whatever Alertmanager would say."""
    alerts = expected_alerts(conditions, NOW)
    regression = next(i for i in expected_incidents(alerts, NOW - WEEK, NOW) if i.service == "backend-api")
    at = regression.detected + 300
    expected = expected_incidents(alerts, at - 1800, at)
    assert statistics.fmean(i.detected - i.began for i in expected) >= 300
    code, summary, _ = incidents_json(capsys, config, "--context", "promonly", "--at", str(at), "--since", "30m")
    assert code == 1 and {c["name"]: c["met"] for c in summary["criteria"]}["MTTD"] is False
    assert summary["incidents"] == len(expected)


def test_prometheus_down_exits_3_and_config_errors_exit_2(capsys, config) -> None:
    code, out, err = run(capsys, "incidents", "--config", config, "--context", "promdown")
    assert code == 3 and out == "" and "could not be read" in err
    code, out, err = run(capsys, "incidents", "--config", config, "--context", "nothing")
    assert code == 2 and "prometheus" in err
    code, out, err = run(capsys, "incidents", "--config", config, "--since", "a week")
    assert code == 2 and "--since" in err
    code, out, err = run(capsys, "incidents", "--config", config, "--pager", "(unclosed")
    assert code == 2 and "--pager" in err
