"""The Tenant screen over the world's Prometheus (T0) and its usage in a real embedded ClickHouse
(chdb): what its facts block shows is `zeta tenant`'s figures; snapshots at 80x24 and 160x50 with
both halves, with Prometheus down, with ClickHouse absent and with ClickHouse down (its store
missing); `c` cycles the charts on a small terminal."""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

pytest.importorskip("chdb", reason="the Tenant screen's usage half reads an embedded ClickHouse (pip install chdb)")

from tests.support.analytics_world import module_usage
from tests.support.console import settled
from tests.support.world import T0
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.tenant_detail import TenantDetailScreen

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture(scope="module")
def usage(tmp_path_factory):
    yield from module_usage(tmp_path_factory, "tenant_screen")


def _app(prom_url: str | None = None, clickhouse: ClickHouseConfig | None = None):
    context = ContextConfig(
        prometheus=PrometheusConfig(url=prom_url, timeout_seconds=2) if prom_url else None, clickhouse=clickhouse
    )
    return build_app(ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=lambda: T0, live=False)


def _store(usage) -> ClickHouseConfig:
    return ClickHouseConfig(path=usage.path, database=usage.database)


def _open(tenant: str, *keys: str):
    async def run_before(pilot) -> None:
        await pilot.press("colon", *f"tenant {tenant}", "enter")
        for _ in range(100):
            if isinstance(pilot.app.screen, TenantDetailScreen):
                break
            await pilot.pause(0.05)
        await settled(pilot)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_both_halves(snap_compare, usage, prometheus_world, size) -> None:
    """tenant_013 at T0: its feed stale since 15:30, its quality down in the ml-engine spike."""
    app = _app(prometheus_world.url, _store(usage))
    assert snap_compare(app, terminal_size=size, run_before=_open("tenant_013"))


def test_c_shows_the_ndcg_chart_on_a_small_terminal(snap_compare, usage, prometheus_world) -> None:
    """tenant_007 at T0: its training failing data validation since 08:00; `c` for the NDCG chart."""
    app = _app(prometheus_world.url, _store(usage))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open("tenant_007", "c"))


@pytest.mark.parametrize("size", SIZES)
def test_prometheus_down(snap_compare, usage, size) -> None:
    down = "http://127.0.0.1:2"  # nothing listens on port 2 (and the snapshot needs a fixed URL)
    assert snap_compare(_app(down, _store(usage)), terminal_size=size, run_before=_open("tenant_007"))


@pytest.mark.parametrize("size", SIZES)
def test_without_clickhouse(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url), terminal_size=size, run_before=_open("tenant_007"))


def test_clickhouse_down(snap_compare, prometheus_world) -> None:
    missing = ClickHouseConfig(path="/nonexistent/zeta/store")
    assert snap_compare(_app(prometheus_world.url, missing), terminal_size=(80, 24), run_before=_open("tenant_013"))


def test_the_screen_shows_the_commands_figures(usage, prometheus_world, tmp_path, monkeypatch, capsys) -> None:
    """The facts block and `zeta tenant --json` at the screen's moment (the shell aligns its range to
    the minute) are one fetch's figures: same quality, training, freshness, usage."""
    import asyncio
    import json

    from zeta_tui.cli import main

    async def on_screen():
        async with _app(prometheus_world.url, _store(usage)).run_test(size=(160, 50)) as pilot:
            await _open("tenant_007")(pilot)
            screen = pilot.app.screen
            assert screen.query_one("#tenant-ndcg").display and screen.query_one("#tenant-chart").display
            return screen.snapshot.value, str(screen.query_one("#tenant-ml").render())

    report, facts = asyncio.run(on_screen())
    assert report.ml is not None and report.usage is not None
    assert "✖ failed (data_validation)" in facts and f"NDCG@10 {report.ml.quality.ndcg:.3f}" in facts
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[contexts.t.prometheus]\nurl = "{prometheus_world.url}"\n'
        f'[contexts.t.clickhouse]\npath = "{usage.path}"\ndatabase = "{usage.database}"\n'
    )
    code = main(["--config", str(config), "tenant", "tenant_007", "--at", str(report.ml.at), "--range", "1h", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    prom = doc["prometheus"]
    assert (prom["quality"]["value"], prom["quality"]["median_7d"]) == (
        report.ml.quality.ndcg,
        report.ml.quality.median_7d,
    )
    assert prom["training"]["failing_for_seconds"] == report.ml.training.failing_for_s
    assert prom["freshness"]["age_seconds"] == report.ml.data_age_s
    assert prom["recommendations_served_per_second"] == report.ml.served_per_second
    assert doc["clickhouse"]["requests"] == report.usage.requests
    # The usage half against the requests written, per endpoint (as test_analytics_screens recounts them).
    mine = [r for r in usage.in_window(7) if r.tenant_id == "tenant_007"]
    errors = sum(1 for r in mine if r.status_code >= 400)
    assert (doc["clickhouse"]["requests"], doc["clickhouse"]["errors"]) == (len(mine), errors)
    per_endpoint = Counter((r.endpoint, r.method) for r in mine)
    assert {(e["endpoint"], e["method"]): e["requests"] for e in doc["clickhouse"]["endpoints"]} == per_endpoint


# --- the joins: ctrl+t on a tenant id anywhere (T is taken: the global custom time range) ---------------


async def _on_tenant(pilot) -> TenantDetailScreen:
    for _ in range(100):
        if isinstance(pilot.app.screen, TenantDetailScreen):
            break
        await pilot.pause(0.05)
    screen = await settled(pilot)
    assert isinstance(screen, TenantDetailScreen)
    return screen


@pytest.mark.parametrize("field", ["tenantId", "tenant", "labels.tenant_id"])
async def test_ctrl_t_on_a_log_record_opens_its_tenant_and_esc_comes_back(prometheus_world, field) -> None:
    """A Loki / Elasticsearch record spelling its tenant as log_fields accepts (not the demo's tenant_id)."""
    from zeta_tui.models.logs import LogRecord
    from zeta_tui.screens.log_detail import LogDetailScreen

    record = LogRecord(int(T0 * 1e9), "ERROR", "backend-api", "feed rejected", {field: "tenant_013", "tenant_id": ""})
    async with _app(prometheus_world.url).run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        detail = LogDetailScreen(record)
        await pilot.app.push_screen(detail)
        await pilot.press("ctrl+t")
        tenant = await _on_tenant(pilot)
        assert tenant.tenant_id == "tenant_013" and tenant.snapshot.value.ml.stale  # its feed is stale at T0
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert pilot.app.screen is detail and pilot.app.current_mode == "logs"  # back on the record


async def test_ctrl_t_on_a_log_record_without_a_tenant_says_so(prometheus_world) -> None:
    from zeta_tui.models.logs import LogRecord
    from zeta_tui.screens.log_detail import LogDetailScreen

    record = LogRecord(int(T0 * 1e9), "INFO", "auth", "ok", {"user": "u1"})
    async with _app(prometheus_world.url).run_test(size=(120, 40)) as pilot:
        await pilot.app.push_screen(LogDetailScreen(record))
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert not isinstance(pilot.app.screen, TenantDetailScreen)
        assert any("no tenant field in this record" in n.message for n in pilot.app._notifications)


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["waterfall", "span-detail"])
async def test_ctrl_t_on_a_span_opens_its_tenant(prometheus_world, size) -> None:
    """A span whose tenant is an OpenTelemetry attribute ``tenant.id`` on its resource: from the
    waterfall, and on a small terminal from the span's detail (Enter), which Esc comes back to."""
    from zeta_tui.models.traces import Span, Trace
    from zeta_tui.screens.trace_view import TraceViewScreen

    start = int(T0 * 1e9)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    spans = (
        Span(
            trace_id,
            "00f067aa0ba902b7",
            "",
            "POST /api/v1/recommendations",
            "backend-api",
            start,
            80_000_000,
            resource={"tenant.id": "tenant_007"},
        ),
        Span(trace_id, "00f067aa0ba902b8", "00f067aa0ba902b7", "rank", "ml-engine", start + 5_000_000, 60_000_000),
    )
    async with _app(prometheus_world.url).run_test(size=size) as pilot:
        await pilot.press("4")
        await pilot.pause()
        await pilot.app.push_screen(TraceViewScreen(trace_id, trace=Trace(trace_id, spans)))
        for _ in range(100):
            if getattr(pilot.app.screen, "laid_out", False):
                break
            await pilot.pause(0.05)
        if size == (80, 24):
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert type(pilot.app.screen).__name__ == "SpanDetailScreen"
        before = pilot.app.screen
        await pilot.press("ctrl+t")
        tenant = await _on_tenant(pilot)
        assert tenant.tenant_id == "tenant_007" and tenant.snapshot.value.ml.training.failed
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert pilot.app.screen is before


async def test_ctrl_t_on_an_alert_opens_the_tenant_of_its_label(prometheus_world) -> None:
    from zeta_tui.models.alert_overview import AlertRow
    from zeta_tui.screens.alert_detail import AlertDetailScreen

    row = AlertRow(
        labels={"alertname": "TenantDataStale", "severity": "warning", "tenant_id": "tenant_013"},
        annotations={"summary": "Data of tenant_013 is 1h 50m old"},
        state="active",
        since=T0 - 600,
        source="alertmanager",
    )
    async with _app(prometheus_world.url).run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        detail = AlertDetailScreen(row)
        await pilot.app.push_screen(detail)
        await settled(pilot)
        await pilot.press("ctrl+t")
        tenant = await _on_tenant(pilot)
        assert tenant.tenant_id == "tenant_013"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert pilot.app.screen is detail


@pytest.mark.parametrize(("key", "table_id"), [("7", "#tenants-table"), ("8", "#cost-tenants")])
async def test_ctrl_t_on_the_tenants_and_cost_tables(usage, key, table_id) -> None:
    from textual.widgets import DataTable

    async with _app(clickhouse=_store(usage)).run_test(size=(160, 50)) as pilot:
        await pilot.press(key)
        listing = await settled(pilot)
        await pilot.press("down", "down")
        table = listing.query_one(table_id, DataTable)
        chosen = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        await pilot.press("ctrl+t")
        tenant = await _on_tenant(pilot)
        assert tenant.tenant_id == chosen and tenant.snapshot.value.usage.requests > 0
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert pilot.app.screen is listing and table.cursor_row == 2
