"""Reading an alerting rule's expression for its graph: the side to draw and the threshold, for
one comparison and for the multiwindow burn-rate rules' `and` of two. Worked out by hand, and
over every rule shipped in queries/prometheus/alerts.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zeta_tui.querying.alert_expression import split_conditions, split_threshold

EXPR = (
    'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05'
)


def test_one_comparison():
    assert split_threshold(EXPR) == (EXPR[: EXPR.rindex(" >")], ">", 0.05)
    assert split_threshold("up == 0") == ("up", "==", 0.0)
    assert split_threshold("histogram_quantile(0.95, sum by (le, job) (rate(b[5m]))) >= 0.5") == (
        "histogram_quantile(0.95, sum by (le, job) (rate(b[5m])))",
        ">=",
        0.5,
    )
    assert split_threshold("x < bool 1e-3") == ("x", "<", 0.001)
    assert split_threshold("(a > 1) and b") is None  # no top-level comparison with a number
    assert split_threshold("vector(1)") is None
    assert split_threshold("a > b") is None  # two series, no constant


def test_the_burn_rate_and_of_two_windows():
    expr = (
        "job:slo_errors_per_request:ratio_rate1h > (14.4 * 0.001)\nand\njob:slo_errors_per_request:ratio_rate5m > "
        "(14.4 * 0.001)"
    )
    assert split_conditions(expr) == [
        ("job:slo_errors_per_request:ratio_rate1h", ">", pytest.approx(0.0144)),
        ("job:slo_errors_per_request:ratio_rate5m", ">", pytest.approx(0.0144)),
    ]
    assert split_threshold(expr) is None  # two conditions: not one threshold
    assert split_conditions("a > (1 / 4) and b < 2") == [("a", ">", 0.25), ("b", "<", 2.0)]
    assert split_conditions("a > (1 / 0)") is None  # no constant to draw


def test_what_is_not_split():
    assert split_conditions("a > 1 or b > 2") is None
    assert split_conditions("a > 1 unless b > 2") is None
    assert split_conditions("a > 1 and b") is None  # one side is no comparison
    # Words inside matchers, names and parentheses are not operators.
    assert split_conditions('x{mode="and"} > 1') == [('x{mode="and"}', ">", 1.0)]
    assert split_conditions("brand_total > 3") == [("brand_total", ">", 3.0)]
    assert split_conditions("sum(a and b) > 3") == [("sum(a and b)", ">", 3.0)]


def test_every_shipped_rule_is_read():
    rules = yaml.safe_load(
        (Path(__file__).resolve().parent.parent / "queries" / "prometheus" / "alerts.yaml").read_text()
    )
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    read = {
        (r["alert"], r.get("labels", {}).get("long_window", "")): split_conditions(" ".join(r["expr"].split()))
        for r in alerts
    }
    # ModelTrainingFailed is `training_job_status{status="failed"} == 1`; every burn rate two windows.
    assert all(conditions for conditions in read.values()), [k for k, v in read.items() if not v]
    assert {k: len(v) for k, v in read.items() if k[0] == "ErrorBudgetBurn"} == {
        ("ErrorBudgetBurn", w): 2 for w in ("1h", "6h", "1d", "3d")
    }
    thresholds = {k[1]: {c[2] for c in v} for k, v in read.items() if k[0] == "ErrorBudgetBurn"}
    assert {w: round(t.pop(), 6) for w, t in thresholds.items() if len(t) == 1} == {
        "1h": 0.0144,
        "6h": 0.006,
        "1d": 0.003,
        "3d": 0.001,
    }
