"""Alert history for the incident tests: what a Prometheus evaluating alert rules writes, made
without waiting a week for it, and the servers that hold it.

Why synthetic: Prometheus writes ALERTS and ALERTS_FOR_STATE only for rules it evaluates live.
`promtool tsdb create-blocks-from rules` (2.42 here) does not help: its help says "Alerting rules
are not evaluated", and tried on an alerting rule it writes the rule's *expression values* under
a series named after the alert (``XHigh{...} 10``), with no ALERTS, no ALERTS_FOR_STATE and no
``for``. So a week of history is written here, as OpenMetrics, and turned into blocks by
`promtool tsdb create-blocks-from openmetrics`, into a real Prometheus.

What makes it honest:

- ``alert_series`` is Prometheus's rule evaluation (rules/alerting.go) played over a condition
  that holds in known windows: at each evaluation while the condition holds, ``ALERTS`` with
  ``alertstate="pending"`` until ``for`` has passed since activeAt (the evaluation the condition
  was first seen), then ``"firing"``; ``ALERTS_FOR_STATE`` with activeAt's whole second; nothing
  once the condition stops. tests/test_incidents_live.py compares it with what a real Prometheus
  writes for the same condition, sample for sample.
- ``scenario`` says which of the shipped rules (queries/prometheus/alerts.yaml, their labels and
  ``for``) each of the demo's scripted incidents (zeta_tui/demo/incidents.py) holds, and when:
  the condition of each rule holds over the incident, with an onset and a tail of its own (a
  5-minute rate needs a minute of errors to pass 5 %, and keeps them 2 minutes after). These are
  the scenario's inputs, not what zeta measures; the expected MTTD and MTTR are computed from them
  in the tests by closed form (tests/test_incidents_history.py), never from zeta's output.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from zeta_tui.demo.incidents import LATENCY_REGRESSION, ML_ERROR_SPIKE, POD_RESTART, Incident
from zeta_tui.demo.processes import ChildServer, prometheus_server

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "queries" / "prometheus" / "alerts.yaml"
#: the demo's evaluation interval, and the phase of its evaluations in each interval (a real
#: group's evaluations are offset by a hash of its name; 7 s keeps them off whole minutes)
EVALUATION = 15
PHASE = 7


@dataclass(frozen=True)
class Condition:
    """An alert rule's condition holding for one alert (label set) over [start, end)."""

    labels: Mapping[str, str]
    start: float
    end: float
    hold: float  # the rule's `for`, seconds


@dataclass(frozen=True)
class Step:
    """What one of the demo's incidents makes one rule do: its labels beyond the rule's own, and
    when its condition holds relative to the incident (onset after its start, tail after its end)."""

    alert: str
    severity: str
    onset: float
    tail: float


#: Which rule each kind of scripted incident holds, and when (see the module docstring).
SCENARIO: dict[str, tuple[Step, ...]] = {
    ML_ERROR_SPIKE: (
        Step("ServiceDown", "critical", 0, 0),  # ml-engine-1 is down (OOM) the whole spike
        Step("HighErrorRate", "critical", 60, 120),  # rate()[5m] passes 5 % after a minute
    ),
    LATENCY_REGRESSION: (
        Step("HighLatency", "warning", 60, 240),  # p95 over 500 ms first
        Step("HighLatency", "critical", 120, 180),  # then over 1 s
    ),
    POD_RESTART: (Step("ServiceDown", "critical", 0, 0),),  # the target is down while it restarts
}


def rule_holds() -> dict[tuple[str, str], float]:
    """(alert, severity) -> the shipped rule's ``for`` in seconds, read from alerts.yaml."""
    units = {"s": 1, "m": 60, "h": 3600}
    found = {}
    for group in yaml.safe_load(RULES_FILE.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                text = str(rule.get("for", "0s"))
                found[(rule["alert"], rule["labels"]["severity"])] = float(text[:-1]) * units[text[-1]]
    return found


def step_labels(step: Step, incident: Incident) -> dict[str, str]:
    """The alert's labels as the shipped rule leaves them (a service is a Prometheus job)."""
    labels = {"alertname": step.alert, "severity": step.severity, "job": incident.service}
    if step.alert == "ServiceDown":
        labels["instance"] = incident.instance
    if step.alert == "HighLatency":
        labels["endpoint"] = "/api/v1/recommendations"
    return labels


def scenario(incidents: Iterable[Incident]) -> list[Condition]:
    """The conditions the scripted incidents hold (one per incident and rule)."""
    holds = rule_holds()
    return [
        Condition(step_labels(step, i), i.start + step.onset, i.end + step.tail, holds[(step.alert, step.severity)])
        for i in incidents
        for step in SCENARIO.get(i.name, ())
    ]


def evaluations(start: float, end: float, interval: float = EVALUATION, phase: float = PHASE) -> Iterator[float]:
    """The evaluation times in [start, end): interval-spaced, ``phase`` past a multiple of it."""
    t = math.ceil((start - phase) / interval) * interval + phase
    while t < end:
        yield t
        t += interval


def alert_series(
    conditions: Iterable[Condition], interval: float = EVALUATION, phase: float = PHASE
) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]:
    """(metric name, sorted labels) -> samples, as a Prometheus evaluating every ``interval`` s
    writes them. Conditions of one label set are played together (overlapping windows are one)."""
    by_alert: dict[tuple[tuple[str, str], ...], list[Condition]] = {}
    for c in conditions:
        by_alert.setdefault(tuple(sorted(c.labels.items())), []).append(c)
    out: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = {}
    for key, conds in by_alert.items():
        hold = conds[0].hold
        times = sorted({t for c in conds for t in evaluations(c.start, c.end, interval, phase)})
        active_at = None
        previous = None
        for t in times:
            if previous is None or t - previous > interval * 1.5:  # the condition had stopped: a new alert
                active_at = t
            previous = t
            state = "firing" if t - active_at >= hold else "pending"
            out.setdefault(("ALERTS", tuple(sorted({*key, ("alertstate", state)}))), []).append((t, 1.0))
            out.setdefault(("ALERTS_FOR_STATE", key), []).append((t, float(math.floor(active_at))))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(series: Mapping[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]], path: Path):
    """The series as an OpenMetrics text file (gauges, one family after the other)."""
    with path.open("w", encoding="utf-8") as out:
        for family in sorted({name for name, _ in series}):
            out.write(f"# TYPE {family} gauge\n")
            for (name, labels), samples in sorted(series.items()):
                if name != family:
                    continue
                text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                for t, v in sorted(samples):
                    out.write(f"{family}{{{text}}} {v:.17g} {t:.3f}\n")
        out.write("# EOF\n")


WEEK = 7 * 86400


def week_incidents(now: float) -> list[Incident]:
    """The demo's scripted incidents (seed and schedule of the tests' world) over the week before
    ``now``, with three hours before it and one after."""
    from tests.support.world import SEED
    from zeta_tui.demo.world import TeamZetaWorld

    return TeamZetaWorld(SEED).incidents(now - WEEK - 3 * 3600, now + 3600)


def history_prometheus(workdir: Path, series, *, with_rules: bool = False) -> ChildServer:
    """A real Prometheus (started) holding ``series`` and nothing else; the caller stops it. With
    ``with_rules`` it loads the shipped rules too (an alert's evidence screen reads its expression
    from them; with no metric series they write nothing)."""
    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            pytest.skip(f"`{binary}` is not installed: sudo apt-get install prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "alerts.om"
    write_openmetrics(series, source)
    data = workdir / "data"
    done = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=162h", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr or done.stdout
    # No scrape targets and no rules: the history is exactly what was written. A long retention
    # keeps it however far the machine's clock is from it.
    config = "global:\n  scrape_interval: 1h\n" + (f'rule_files: ["{RULES_FILE}"]\n' if with_rules else "")
    child = prometheus_server(workdir, config, data_dir=data, retention="100y")
    child.start()
    try:
        child.wait_ready(timeout=30)
    except BaseException:
        child.stop()
        raise
    return child
