"""The Incidents screen over a week of the demo's scripted incidents (tests/support/incident_history.py)
in a real Prometheus and a real Alertmanager on the demo's routing, the clock frozen at the end of
the week: `:incidents` opens it, its rows are the incidents `zeta incidents` lists, Enter opens the
first critical's evidence over the incident's window, `l` and `o` join its service's logs and
traces over that window, and Esc walks each back to the same row. Snapshots at 80x24 and 160x50,
and with the backends down."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator

import pytest

from tests.support.console import settled
from tests.support.incident_history import (
    WEEK,
    alert_series,
    history_prometheus,
    scenario,
    week_incidents,
)
from tests.support.servers import started_alertmanager
from tests.support.world import T0
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.demo.alerting import alertmanager_config
from zeta_tui.demo.processes import ChildServer, free_port
from zeta_tui.launch import build_app
from zeta_tui.models.timerange import format_age

pytestmark = [pytest.mark.console, pytest.mark.prometheus, pytest.mark.slow]

os.environ["TZ"] = "UTC"
time.tzset()

NOW = T0
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Iterator[ChildServer]:
    series = alert_series(scenario(week_incidents(NOW)))
    child = history_prometheus(tmp_path_factory.mktemp("incident-screen"), series, with_rules=True)
    yield child
    child.stop()


@pytest.fixture(scope="module")
def demo_am(tmp_path_factory) -> Iterator[ChildServer]:
    yield from started_alertmanager(
        tmp_path_factory.mktemp("incident-screen-am"), alertmanager_config(f"http://127.0.0.1:{free_port()}")
    )


def _app(prom_url: str, am_url: str | None):
    context = ContextConfig(
        prometheus=PrometheusConfig(url=prom_url, timeout_seconds=5),
        alertmanager=AlertmanagerConfig(url=am_url, timeout_seconds=5) if am_url else None,
    )
    return build_app(
        ZetaConfig(default_context="snap", contexts={"snap": context}), "snap", clock=lambda: NOW, live=False
    )


async def _on_incidents(pilot):
    await pilot.press("colon", *"incidents", "enter")
    return await settled(pilot)


def _expected():
    """The week's incidents as tests/test_incidents_history.py computes them, by closed form."""
    from tests.test_incidents_history import expected_alerts, expected_incidents

    return expected_incidents(expected_alerts(scenario(week_incidents(NOW)), NOW), NOW - WEEK, NOW)


async def test_the_screen_lists_the_week_and_its_joins_walk_back(history, demo_am) -> None:
    from zeta_tui.screens.alert_detail import AlertDetailScreen
    from zeta_tui.screens.incidents import IncidentsScreen
    from zeta_tui.widgets.fitted_table import FittedTable

    app = _app(history.url, demo_am.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _on_incidents(pilot)
        assert isinstance(screen, IncidentsScreen) and app.current_mode == "incidents"
        table = screen.query_one(FittedTable)
        expected = _expected()
        assert table.row_count == len(screen.incidents) == len(expected)
        summary = str(screen.query_one("#incidents-summary").render())
        mttd = statistics.fmean(i.detected - i.began for i in expected)
        mttr = statistics.fmean(i.resolved - i.detected for i in expected if i.resolved is not None)
        assert summary.startswith(f"Last 7d: {len(expected)} incidents, 2 open\n")
        assert f"MTTD {format_age(mttd)} (< 5m) {'met' if mttd < 300 else 'BROKEN'}" in summary
        assert f"MTTR {format_age(mttr)} (< 1h) {'met' if mttr < 3600 else 'BROKEN'}" in summary
        assert "missed 0 (target 0) met" in summary and "log search < 5s: not measured here" in summary
        # An ml-engine incident of the week, resolved: pick the third row of that service.
        rows = [i for i, incident in enumerate(screen.incidents) if incident.service == "ml-engine"]
        row = rows[2]
        table.move_cursor(row=row)
        incident = screen.incidents[row]
        window = incident.window(NOW, 600)
        assert window == (incident.began - 600, incident.resolved + 600)

        await pilot.press("enter")
        detail = await settled(pilot)
        assert isinstance(detail, AlertDetailScreen)
        assert detail.row.name == incident.first.episode.name and detail.window == window
        # A past alert says how long it fired and when it ended, not "for" the time since it began.
        episode = incident.first.episode
        title = str(detail.query_one("#alert-title").render())
        fired = format_age(episode.resolved - (episode.fired or episode.began))
        assert f"resolved · fired {fired}, resolved {format_age(app.clock() - episode.resolved)} ago" in title
        # Its expression from the rules (ALERTS carry none), graphed over the incident's window.
        assert detail.snapshot.error is None, detail.snapshot.error
        assert "Incidents › " + incident.first.episode.name in app.path_to(detail)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is screen and table.cursor_row == row

        label = app.range_label
        await pilot.press("l")
        await pilot.pause(0.5)
        logs = app.screen
        assert app.current_mode == "logs" and logs.query_text == 'service:"ml-engine" AND level:ERROR'
        assert app._custom_range is not None and (app._custom_range.start, app._custom_range.end) == window
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert app.current_mode == "incidents" and app.range_label == label
        assert app.screen.query_one(FittedTable).cursor_row == row

        await pilot.press("o")
        await pilot.pause(0.5)
        assert app.current_mode == "traces" and (app._custom_range.start, app._custom_range.end) == window
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert app.current_mode == "incidents" and app.range_label == label


@pytest.mark.parametrize("size", SIZES)
def test_incidents_snapshot(snap_compare, history, demo_am, size) -> None:
    assert snap_compare(_app(history.url, demo_am.url), terminal_size=size, run_before=_on_incidents)


@pytest.mark.parametrize("size", SIZES)
def test_incidents_without_alertmanager_snapshot(snap_compare, history, size) -> None:
    assert snap_compare(_app(history.url, None), terminal_size=size, run_before=_on_incidents)


@pytest.mark.parametrize("size", SIZES)
def test_incidents_backend_down_snapshot(snap_compare, size) -> None:
    assert snap_compare(_app("http://127.0.0.1:1", "http://127.0.0.1:2"), terminal_size=size, run_before=_on_incidents)
