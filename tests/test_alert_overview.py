"""The alerts overview's pure parts: merging the two backends' alerts, detection latency, the
expression from a generator URL and which of its series is the alert's. Expectations are worked
out by hand."""

from __future__ import annotations

from urllib.parse import quote

from zeta_tui.models.alert_overview import is_alert_series, merge, sort_rows
from zeta_tui.models.alerts import Alert
from zeta_tui.models.metrics_meta import RuleAlert

EXPR = (
    'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05'
)


def test_the_alert_series_among_the_expressions():
    alert = {"alertname": "HighErrorRate", "job": "ml-engine", "severity": "critical", "cluster": "prod"}
    assert is_alert_series({"job": "ml-engine"}, alert)
    assert not is_alert_series({"job": "auth"}, alert)
    assert not is_alert_series({"job": "ml-engine", "instance": "ml-engine-1:8000"}, alert)  # a label the alert lacks
    assert is_alert_series({"__name__": "up", "job": "ml-engine"}, alert)  # the name is dropped from alerts
    assert is_alert_series({}, alert)  # vector(1): one series, no labels


def test_merge_keeps_one_row_and_measures_detection():
    labels = {"alertname": "HighErrorRate", "job": "ml-engine", "severity": "critical"}
    url = "http://prometheus:9090/graph?g0.expr=" + quote(EXPR) + "&g0.tab=1"
    am = [Alert({**labels, "cluster": "prod"}, {"summary": "errors"}, starts_at=1000.0, generator_url=url)]
    prom = [
        RuleAlert(
            "HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z"
        ),  # 840 s: the condition began
        RuleAlert(
            "HighLatency",
            "pending",
            {"alertname": "HighLatency", "job": "api", "severity": "warning"},
            {},
            active_at="1970-01-01T00:16:40.5Z",
        ),
    ]
    rows = sort_rows(merge(am, prom))
    assert [(r.name, r.state, r.source) for r in rows] == [
        ("HighErrorRate", "active", "alertmanager"),
        ("HighLatency", "pending", "prometheus"),
    ]
    assert rows[0].condition_since == 840.0 and rows[0].detection_seconds == 160.0  # fired 2m40s after it began
    assert rows[0].expression == EXPR
    assert rows[1].since == 1000.5 and rows[1].detection_seconds is None  # pending: not fired yet


def test_detection_from_the_rule_for_when_prometheus_sends_no_firing_time():
    # Prometheus 2.x sends Alertmanager startsAt = activeAt (840 s): the firing moment is not in
    # the data, so detection is the rule's for (2m); with no rule known it stays unknown (0).
    labels = {"alertname": "HighErrorRate", "job": "ml-engine", "severity": "critical"}
    am = [Alert(dict(labels), {}, starts_at=840.0)]
    with_rule = merge(
        am, [RuleAlert("HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z", for_seconds=120.0)]
    )
    assert with_rule[0].detection_seconds == 120.0
    without_rule = merge(am, [RuleAlert("HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z")])
    assert without_rule[0].detection_seconds == 0.0
    # Only Prometheus knows it (not delivered yet): firing, fired `for` after it began.
    only_prom = merge(
        [], [RuleAlert("HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z", for_seconds=300.0)]
    )
    assert only_prom[0].detection_seconds == 300.0
    # A firing time after activeAt (Prometheus 3) wins over the rule.
    later = merge(
        [Alert(dict(labels), {}, starts_at=1000.0)],
        [RuleAlert("HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z", for_seconds=120.0)],
    )
    assert later[0].detection_seconds == 160.0
    # Alertmanager keeps milliseconds: activeAt .319119293 and startsAt .319 are the same moment
    # (an alert without `for`, seen live on the demo), so the rule's for (0) is the answer.
    burn = {"alertname": "ErrorBudgetBurn", "job": "ml-engine", "severity": "critical"}
    same = merge(
        [Alert(dict(burn), {}, starts_at=1_795_000_000.319)],
        [RuleAlert("ErrorBudgetBurn", "firing", burn, {}, active_at="2026-11-18T11:06:40.319119293Z", for_seconds=0.0)],
    )
    assert same[0].detection_seconds == 0.0
    # A firing time well before the condition is garbage: unknown, not negative.
    early = merge(
        [Alert(dict(labels), {}, starts_at=800.0)],
        [RuleAlert("HighErrorRate", "firing", labels, {}, active_at="1970-01-01T00:14:00Z", for_seconds=120.0)],
    )
    assert early[0].detection_seconds is None


def test_detection_across_zones_prometheus_in_its_local_offset():
    # Prometheus writes activeAt in its own zone (the API docs: "2018-07-04T20:27:12.60602144+02:00");
    # Alertmanager writes UTC. 20:27:12.606 at +02:00 is 18:27:12.606 UTC (1530728832.606, by hand:
    # 17716 days to 2018-07-04, * 86400 + 18 h 27 min 12 s); the alert fired 5 minutes later.
    fired = 17716 * 86400 + 18 * 3600 + 27 * 60 + 12 + 0.606 + 300
    labels = {
        "alertname": "HighLatency",
        "job": "backend-api",
        "endpoint": "/api/v1/recommendations",
        "severity": "critical",
    }
    rows = merge(
        [Alert(dict(labels), {}, starts_at=fired)],
        [
            RuleAlert(
                "HighLatency", "firing", labels, {}, active_at="2018-07-04T20:27:12.60602144+02:00", for_seconds=600.0
            )
        ],
    )
    assert abs(rows[0].condition_since - (fired - 300)) < 1e-3
    assert abs(rows[0].detection_seconds - 300.0) < 1e-3
    west = merge([], [RuleAlert("HighLatency", "pending", labels, {}, active_at="2018-07-04T13:57:12.606-04:30")])
    assert abs(west[0].since - (fired - 300)) < 1e-3
