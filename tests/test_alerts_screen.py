"""The Alerts screen over a real Alertmanager (alerts injected through its API) and a real
Prometheus whose rules fire one alert Alertmanager also has and hold two pending: rows, order,
states and receivers come from what the test sent (tests/test_cli_alerts.py's fixtures, its
routing worked by hand there); the evidence screen graphs the rule's expression with its
threshold, and its keys open the service's error logs and failing traces in the same window."""

from __future__ import annotations

import pytest

from tests.support.console import open_alert, settled
from tests.test_cli_alerts import NOW, PENDING, SENT, am, expected_receivers, expected_state, prom  # noqa: F401 (fixtures)
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.alert_detail import AlertDetailScreen
from zeta_tui.widgets.alert_table import AlertTable
from zeta_tui.widgets.line_chart import LineChart

SEVERITY_ORDER = ("critical", "error", "warning", "info")


def _app(am_url: str, prom_url: str | None):
    context = ContextConfig(alertmanager=AlertmanagerConfig(url=am_url),
                            prometheus=PrometheusConfig(url=prom_url) if prom_url else None)
    return build_app(ZetaConfig(default_context="a", contexts={"a": context}), "a", clock=lambda: NOW, live=False)


async def _alerts(pilot):
    await pilot.press("5")
    return await settled(pilot)


async def test_rows_states_order_and_receivers(am, prom) -> None:  # noqa: F811
    async with _app(am.url, prom.url).run_test(size=(160, 50)) as pilot:
        screen = await _alerts(pilot)
        rows = screen.query_one(AlertTable).rows_shown
        sent = {a["labels"]["alertname"]: (a, minutes) for a, minutes in SENT}
        # Alertmanager's four, and Prometheus's two pending; ServiceDown (both know it) once.
        assert sorted(r.name for r in rows) == sorted([*sent, *PENDING])
        for r in rows:
            if r.name in sent:
                alert, minutes = sent[r.name]
                assert (r.state, set(r.receivers), r.since) == (expected_state(r.name), expected_receivers(alert["labels"]),
                                                                pytest.approx(NOW - minutes * 60, abs=0.01))
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


async def test_evidence_graph_threshold_and_joins(am, prom) -> None:  # noqa: F811
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


async def test_one_backend_down_keeps_the_other(am) -> None:  # noqa: F811
    async with _app(am.url, "http://127.0.0.1:1").run_test(size=(120, 40)) as pilot:
        screen = await _alerts(pilot)
        assert len(screen.query_one(AlertTable).rows_shown) == len(SENT)
        assert any("incomplete" in w for w in screen.snapshot.warnings)
