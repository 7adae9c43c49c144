"""The Alerts screen over a real Alertmanager (alerts injected through its API) and a real
Prometheus whose rules fire one alert Alertmanager also has and hold two pending: rows, order,
states and receivers come from what the test sent (tests/test_cli_alerts.py's fixtures, its
routing worked by hand there); the evidence screen graphs the rule's expression with its
threshold, and its keys open the service's error logs and failing traces in the same window.
A HighLatency page on the world's latency regression graphs that endpoint's p95 (the reference
quantile of tests/support/world.py at the same instants) against 1 s and names the endpoint; a
pending HighLatency warning (no generator URL) graphs its own rule, not the page's."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.support.alert_world import NOW, PENDING, SENT, expected_receivers, expected_state
from tests.support.console import open_alert, settled
from tests.support.servers import rule_prometheus
from tests.test_alert_latency_world import _reference_p95
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.models.alert_overview import AlertRow
from zeta_tui.screens.alert_detail import AlertDetailScreen
from zeta_tui.widgets.alert_table import AlertTable
from zeta_tui.widgets.line_chart import LineChart

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

SEVERITY_ORDER = ("critical", "error", "warning", "info")


def _app(am_url: str, prom_url: str | None):
    context = ContextConfig(
        alertmanager=AlertmanagerConfig(url=am_url), prometheus=PrometheusConfig(url=prom_url) if prom_url else None
    )
    return build_app(ZetaConfig(default_context="a", contexts={"a": context}), "a", clock=lambda: NOW, live=False)


async def _alerts(pilot):
    await pilot.press("5")
    return await settled(pilot)


async def test_rows_states_order_and_receivers(am, prom) -> None:
    async with _app(am.url, prom.url).run_test(size=(160, 50)) as pilot:
        screen = await _alerts(pilot)
        rows = screen.query_one(AlertTable).rows_shown
        sent = {a["labels"]["alertname"]: (a, minutes) for a, minutes in SENT}
        # Alertmanager's four, and Prometheus's two pending; ServiceDown (both know it) once.
        assert sorted(r.name for r in rows) == sorted([*sent, *PENDING])
        for r in rows:
            if r.name in sent:
                alert, minutes = sent[r.name]
                assert (r.state, set(r.receivers), r.since) == (
                    expected_state(r.name),
                    expected_receivers(alert["labels"]),
                    pytest.approx(NOW - minutes * 60, abs=0.01),
                )
            else:
                assert r.state == "pending" and r.source == "prometheus"
        ranks = [SEVERITY_ORDER.index(r.severity) for r in rows]
        assert ranks == sorted(ranks)
        for severity in set(r.severity for r in rows):
            same = [r.since for r in rows if r.severity == severity]
            assert same == sorted(same, reverse=True)  # newest first within a severity
        summary = str(screen.query_one("#alerts-summary").render())
        firing = [n for n in sent if expected_state(n) == "active"]
        critical = sum(1 for n in firing if sent[n][0]["labels"]["severity"] == "critical")
        assert summary.startswith(f"{len(firing)} firing ({critical} critical) · {len(PENDING)} pending")


async def test_evidence_graph_threshold_and_joins(am, prom) -> None:
    async with _app(am.url, prom.url).run_test(size=(160, 50)) as pilot:
        detail = await open_alert(pilot, "DatabaseDown")
        assert isinstance(detail, AlertDetailScreen)
        assert detail.snapshot.error is None, detail.snapshot.error
        lines = detail.query_one(LineChart).lines
        # The rule is `vector(1)` with no comparison: one series of 1s, no threshold line.
        assert [line.label for line in lines] == ["value"] and set(lines[0].ys) == {1.0}
        start, end = detail.window
        await pilot.press("l")
        await pilot.pause(0.3)
        logs = pilot.app.screen
        assert logs.query_text == 'service:"postgres" AND level:ERROR'
        assert (pilot.app.current_range().start, pilot.app.current_range().end) == (start, end)
        await pilot.press("5")
        await pilot.pause(0.2)
        await pilot.press("o")
        await pilot.pause(0.3)
        traces = pilot.app.screen
        assert traces.form["service"] == "postgres" and traces.form["tags"] == "error=true"


async def test_one_backend_down_keeps_the_other(am) -> None:
    async with _app(am.url, "http://127.0.0.1:1").run_test(size=(120, 40)) as pilot:
        screen = await _alerts(pilot)
        assert len(screen.query_one(AlertTable).rows_shown) == len(SENT)
        assert any("incomplete" in w for w in screen.snapshot.warnings)


async def test_without_prometheus_the_summary_says_pending_is_unknown(am) -> None:
    async with _app(am.url, None).run_test(size=(120, 40)) as pilot:
        screen = await _alerts(pilot)
        assert len(screen.query_one(AlertTable).rows_shown) == len(SENT)
        summary = str(screen.query_one("#alerts-summary").render())
        assert "pending unknown" in summary and " 0 pending" not in summary, summary
        assert any(
            "no [prometheus] section" in w and "[contexts.a.prometheus]" in w and "pending alerts unknown" in w
            for w in screen.snapshot.warnings
        ), screen.snapshot.warnings


# --- HighLatency: the alert's endpoint, its own rule ------------------------------------------

RULES = Path(__file__).resolve().parent.parent / "queries" / "prometheus" / "alerts.yaml"
SLOW = {"job": "backend-api", "endpoint": "/api/v1/recommendations"}


def shipped_rule(name: str, severity: str) -> dict:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return next(r for g in groups for r in g["rules"] if r.get("alert") == name and r["labels"]["severity"] == severity)


def high_latency_row(world, t0: float, severity: str = "critical", *, with_url: bool = True) -> AlertRow:
    """HighLatency of /api/v1/recommendations as Alertmanager (or, without URL, Prometheus) holds
    it during the world's latency regression before ``t0``: the condition four minutes into it,
    firing the rule's `for` later, the shipped rule's expression in the generator URL."""
    from zeta_tui.demo.incidents import LATENCY_REGRESSION

    rule = shipped_rule("HighLatency", severity)
    regression = next(i for i in world.incidents(t0 - 3600, t0) if i.name == LATENCY_REGRESSION)
    condition = regression.start + 240
    url = (
        "http://prometheus:9090/graph?g0.expr=" + quote(" ".join(rule["expr"].split())) + "&g0.tab=1"
        if with_url
        else ""
    )
    rule_for = 600.0 if severity == "critical" else 300.0
    return AlertRow(
        labels={"alertname": "HighLatency", **SLOW, "severity": severity},
        annotations={"summary": f"p95 latency > 1s for {SLOW['endpoint']} ({SLOW['job']}): 1.479s"},
        state="active" if with_url else "pending",
        since=condition + rule_for if with_url else condition,
        source="alertmanager" if with_url else "prometheus",
        receivers=("pagerduty-critical",) if with_url else (),
        generator_url=url,
        condition_since=condition,
        rule_for=rule_for,
    )


def _detail_app(prom_url: str, t0: float):
    context = ContextConfig(prometheus=PrometheusConfig(url=prom_url, timeout_seconds=5))
    return build_app(ZetaConfig(default_context="d", contexts={"d": context}), "d", clock=lambda: t0, live=False)


async def _detail(pilot, row: AlertRow) -> AlertDetailScreen:
    await settled(pilot)
    await pilot.app.push_screen(AlertDetailScreen(row))
    return await settled(pilot)


async def test_high_latency_evidence_is_its_endpoints_p95_against_1s(prometheus_world) -> None:
    pw = prometheus_world
    row = high_latency_row(pw.world, pw.t0)
    async with _detail_app(pw.url, pw.t0).run_test(size=(160, 50)) as pilot:
        detail = await _detail(pilot, row)
        assert detail.snapshot.error is None, detail.snapshot.error
        title = str(detail.query_one("#alert-title").render())
        assert title.startswith("CRITICAL HighLatency · backend-api /api/v1/recommendations · active"), title
        data, threshold = detail.query_one(LineChart).lines  # the alert's one series, then its threshold
        assert data.label == "endpoint=/api/v1/recommendations,job=backend-api"
        assert (threshold.label, set(threshold.ys)) == ("threshold > 1", {1.0})
        # Every point is that endpoint's p95 at its instant, worked out from the raw samples.
        assert len(data.xs) > 100
        for x, y in [*list(zip(data.xs, data.ys))[::10], (data.xs[-1], data.ys[-1])]:
            expected = _reference_p95(pw, x, ("job", "endpoint"))[(SLOW["job"], SLOW["endpoint"])]
            assert y == pytest.approx(expected, rel=1e-9), x
        assert max(data.ys) > 1.0 > min(data.ys)  # the window starts half an hour before the condition
        facts = str(detail.query_one("#alert-facts-text").render())
        assert "endpoint = /api/v1/recommendations" in facts


@pytest.fixture(scope="module")
def shipped_rules_prometheus(tmp_path_factory):
    child = rule_prometheus(tmp_path_factory.mktemp("shipped-rules"), RULES.read_text(), until=lambda alerts: True)
    yield child
    child.stop()


@pytest.mark.parametrize(("severity", "threshold"), [("warning", 0.5), ("critical", 1.0)])
async def test_without_a_generator_url_the_alerts_own_rule_is_graphed(
    shipped_rules_prometheus, severity, threshold
) -> None:
    """Prometheus's own (pending) alerts carry no generator URL: the rule is found by name in the
    rules API, and of the two HighLatency rules the one of the alert's severity."""
    from tests.support.world import T0
    from zeta_tui.demo.world import TeamZetaWorld

    row = high_latency_row(TeamZetaWorld(42), T0, severity, with_url=False)
    async with _detail_app(shipped_rules_prometheus.url, T0).run_test(size=(120, 40)) as pilot:
        detail = await _detail(pilot, row)
        assert detail.snapshot.error is None, detail.snapshot.error
        lines = detail.query_one(LineChart).lines
        assert [line.label for line in lines] == [
            f"threshold > {threshold:g}"
        ]  # no data in this Prometheus: the threshold alone
        title = str(detail.query_one("#alert-title").render())
        assert title.startswith(f"{severity.upper()} HighLatency · backend-api /api/v1/recommendations · pending"), (
            title
        )
