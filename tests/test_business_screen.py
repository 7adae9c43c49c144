"""The Business figures on the world: `zeta business --json` and the `:business` screen, with the
world's Prometheus at T0 (the session's ``prometheus_world``) and its usage in one module-scoped
embedded store (tests/support/analytics_world.py: a 15-minute slice of each of 35 days).

Every figure is recounted independently: calls by plan from the world's raw api_calls_total
samples (rate() re-done in Python, tests/support/world.py), revenue from the world's tenants as
tenant_rows gives them for the day (a customer on day d from its start day until its end day),
active and top tenants from the generated requests. Snapshots at 80x24 and 160x50: with data,
with Prometheus down, and without ClickHouse.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

pytest.importorskip("chdb", reason="the Business screen reads tenants from an embedded ClickHouse (pip install chdb)")

from tests.support.analytics_world import TODAY, UsageSlices, module_usage
from tests.support.console import settled
from tests.support.world import T0, close, extrapolated_rate, grid
from zeta_tui.cli import main
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.demo.usage import tenant_rows
from zeta_tui.launch import build_app

os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
PLANS = ("starter", "pro", "enterprise")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def usage(tmp_path_factory):
    yield from module_usage(tmp_path_factory, "business_screen")


def _context(prom_url: str | None, usage: UsageSlices | None) -> ContextConfig:
    return ContextConfig(
        prometheus=PrometheusConfig(url=prom_url, timeout_seconds=5) if prom_url else None,
        clickhouse=ClickHouseConfig(path=usage.path, database=usage.database) if usage else None,
    )


def _app(prom_url: str | None, usage: UsageSlices | None):
    config = ZetaConfig(default_context="w", contexts={"w": _context(prom_url, usage)})
    return build_app(config, "w", clock=lambda: float(T0), live=False)


def _toml(tmp_path, prom_url: str | None, usage: UsageSlices | None):
    lines = []
    if prom_url:
        lines += ["[contexts.w.prometheus]", f'url = "{prom_url}"', "timeout_seconds = 20"]
    if usage:
        lines += ["[contexts.w.clickhouse]", f'path = "{usage.path}"', f'database = "{usage.database}"']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _business(capsys, config, *argv: str) -> tuple[int, dict, str]:
    code = main(["--config", str(config), "business", "--at", str(T0), "--json", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out), err


# --- the independent computations ----------------------------------------------------------------


def _calls_at(pw, plan: str, at: float) -> float:
    """sum by (plan) (rate(api_calls_total[1h])) at ``at``, from the raw samples the backfill wrote."""
    total = 0.0
    for s in pw.world.find("api_calls_total", plan=plan):
        times = grid(pw.start, at, pw.step)
        rate = extrapolated_rate(list(zip(times, pw.world.values(s, times))), at, 3600)
        assert rate is not None
        total += rate
    return total


def _customer(t: dict, d: date) -> bool:
    start = datetime.fromtimestamp(t["created_at"], UTC).date()
    end = None if t["ended_at"] is None else datetime.fromtimestamp(t["ended_at"], UTC).date()
    return start <= d and (end is None or end > d)


# --- the headless command -----------------------------------------------------------------------


@pytest.mark.prometheus
def test_calls_by_plan_against_the_raw_samples(prometheus_world, usage, capsys, tmp_path):
    pw = prometheus_world
    code, doc, _ = _business(capsys, _toml(tmp_path, pw.url, usage), "--range", "1h")
    assert code == 0
    calls = doc["api_calls_by_plan"]
    now = {p: _calls_at(pw, p, T0) for p in PLANS}
    assert {p["plan"] for p in calls["plans"]} == set(PLANS)
    for p in calls["plans"]:
        assert close(p["per_second"], now[p["plan"]], 1e-9), p["plan"]
        assert close(p["share"], now[p["plan"]] / sum(now.values()), 1e-9)
        # The chart: one point a minute over the hour, each the rate at its own time.
        times = [t for t, _ in p["points"]]
        assert len(times) == 61 and times[0] == pytest.approx(T0 - 3600) and times[-1] == pytest.approx(T0)
        for t, v in p["points"][::15]:
            assert close(v, _calls_at(pw, p["plan"], t), 1e-9), (p["plan"], t)
    assert [p["per_second"] for p in calls["plans"]] == sorted((p["per_second"] for p in calls["plans"]), reverse=True)
    # The text: a row per plan with its rate and share, under the revenue half.
    code = main(["--config", str(_toml(tmp_path, pw.url, usage)), "business", "--at", str(T0), "--range", "1h"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("Business on 2026-03-11 (UTC): MRR $")
    for p in PLANS:
        share = now[p] / sum(now.values()) * 100
        assert any(line.split() == [p, f"{now[p]:.2f}", f"{share:.1f}", "%"] for line in out.splitlines()), p


def test_revenue_and_tenants_against_the_world(usage, capsys, tmp_path):
    code, doc, err = _business(capsys, _toml(tmp_path, None, usage))
    assert code == 0 and "[contexts.w.prometheus]" in err  # the missing half says what it needs
    assert doc["api_calls_by_plan"] is None
    r = doc["revenue"]
    tenants = tenant_rows(usage.world.topology, TODAY)
    current = [t for t in tenants if _customer(t, TODAY)]
    assert r["mrr_usd"] == sum(t["mrr_usd"] for t in current) and r["arr_usd"] == 12 * r["mrr_usd"]
    assert r["tenants"] == len(current) == 40
    for p in r["plans"]:
        assert p["mrr_usd"] == sum(t["mrr_usd"] for t in current if t["plan"] == p["plan"])
    # The 90-day trend, day by day: the four newest arrive, the three former tenants leave.
    days = [TODAY - timedelta(days=89 - i) for i in range(90)]
    assert r["mrr_trend"]["days"] == [d.isoformat() for d in days]
    assert r["mrr_trend"]["total"] == [sum(t["mrr_usd"] for t in tenants if _customer(t, d)) for d in days]
    assert r["mrr_trend"]["total"][0] != r["mrr_trend"]["total"][-1]
    changes = {(c["change"], c["tenant_id"], c["day"]) for c in r["changes"]}
    assert changes == {
        ("new", t["tenant_id"], datetime.fromtimestamp(t["created_at"], UTC).date().isoformat())
        for t in tenants
        if TODAY - timedelta(days=90) < datetime.fromtimestamp(t["created_at"], UTC).date() <= TODAY
    } | {
        ("churned", t["tenant_id"], datetime.fromtimestamp(t["ended_at"], UTC).date().isoformat())
        for t in tenants
        if t["ended_at"] is not None
    }
    assert sum(c[0] == "new" for c in changes) == 4 and sum(c[0] == "churned" for c in changes) == 3
    # Active tenants and the top ones, recounted from the requests.
    by_day: dict[date, set[str]] = {}
    for q in usage.public:
        by_day.setdefault(datetime.fromtimestamp(q.timestamp_ns // 10**9, UTC).date(), set()).add(q.tenant_id)
    first = min(by_day)
    for a in r["active_tenants"]:
        n = a["window_days"]
        now = set().union(*(by_day.get(TODAY - timedelta(days=i), set()) for i in range(n)))
        before = set().union(*(by_day.get(TODAY - timedelta(days=n + i), set()) for i in range(n)))
        assert (a["active"], a["previous"]) == (len(now), len(before)), n
        assert a["partial"] is (first > TODAY - timedelta(days=2 * n - 1))
    assert [a["partial"] for a in r["active_tenants"]] == [False, False, True]  # 35 days kept: 30 d before is not
    assert r["active_tenants"][2]["data_from"] == first.isoformat()
    requests = Counter(
        q.tenant_id
        for q in usage.public
        if datetime.fromtimestamp(q.timestamp_ns // 10**9, UTC).date() >= TODAY - timedelta(days=30)
    )
    month = Counter(
        q.tenant_id
        for q in usage.public
        if datetime.fromtimestamp(q.timestamp_ns // 10**9, UTC).date() >= TODAY.replace(day=1)
    )
    expected = sorted(requests, key=lambda t: (-requests[t], t))[:10]
    plans = {t["tenant_id"]: t for t in tenants}
    assert [t["tenant_id"] for t in r["top_tenants"]] == expected
    for t in r["top_tenants"]:
        assert t["requests_30d"] == requests[t["tenant_id"]] and t["calls_this_month"] == month[t["tenant_id"]]
        assert (t["plan"], t["mrr_usd"]) == (plans[t["tenant_id"]]["plan"], plans[t["tenant_id"]]["mrr_usd"])
        quota = plans[t["tenant_id"]]["monthly_quota_calls"]
        assert close(t["quota_used_pct"], month[t["tenant_id"]] * 100 / quota, 1e-9)


def test_prometheus_down_is_exit_3_with_the_clickhouse_half(usage, capsys, tmp_path, closed_port_url):
    code, doc, err = _business(capsys, _toml(tmp_path, closed_port_url, usage))
    assert code == 3 and closed_port_url in err
    assert doc["api_calls_by_plan"] is None and doc["api_calls_error"]
    assert doc["revenue"]["tenants"] == 40


# --- the screen ------------------------------------------------------------------------------------


async def _on_business(pilot):
    await pilot.press("colon", *"business", "enter")
    return await settled(pilot)


@pytest.mark.prometheus
@pytest.mark.console
async def test_the_screen_draws_both_halves_cycles_charts_and_opens_a_tenant(prometheus_world, usage):
    from textual.widgets import DataTable

    from zeta_tui.screens.business import BusinessScreen
    from zeta_tui.screens.tenant_detail import TenantDetailScreen

    app = _app(prometheus_world.url, usage)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _on_business(pilot)
        assert isinstance(screen, BusinessScreen) and screen.snapshot.error is None, screen.snapshot.error
        figures = str(screen.query_one("#business-figures").render())
        current = [t for t in tenant_rows(usage.world.topology, TODAY) if _customer(t, TODAY)]
        assert f"MRR ${sum(t['mrr_usd'] for t in current):,.0f}" in figures and "+4 new -3 churned" in figures
        assert "partial, data from" in figures
        table = screen.query_one("#business-top", DataTable)
        requests = Counter(
            q.tenant_id
            for q in usage.public
            if datetime.fromtimestamp(q.timestamp_ns // 10**9, UTC).date() >= TODAY - timedelta(days=30)
        )
        assert [str(k.value) for k in table.rows] == sorted(requests, key=lambda t: (-requests[t], t))[:10]
        shown = [c.display for c in screen.query("LineChart")]
        assert shown == [True, False]  # 80 columns: one chart at a time
        await pilot.press("c")
        assert [c.display for c in screen.query("LineChart")] == [False, True]
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(pilot.app.screen, TenantDetailScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(pilot.app.screen, TenantDetailScreen)
        assert pilot.app.screen.tenant_id == str(next(iter(table.rows)).value)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert isinstance(pilot.app.screen, BusinessScreen)


# --- snapshots -----------------------------------------------------------------------------------


@pytest.mark.prometheus
@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_business_snapshot(snap_compare, prometheus_world, usage, size) -> None:
    assert snap_compare(_app(prometheus_world.url, usage), terminal_size=size, run_before=_on_business)


@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_business_prometheus_down_snapshot(snap_compare, usage, size) -> None:
    assert snap_compare(_app("http://127.0.0.1:1", usage), terminal_size=size, run_before=_on_business)


@pytest.mark.prometheus
@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_business_without_clickhouse_snapshot(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url, None), terminal_size=size, run_before=_on_business)


@pytest.mark.prometheus
@pytest.mark.console
@pytest.mark.parametrize("size", SIZES)
def test_business_clickhouse_down_snapshot(snap_compare, prometheus_world, size) -> None:
    """ClickHouse configured but not answering: the Prometheus half drawn, the ClickHouse error in one line."""
    context = ContextConfig(
        prometheus=PrometheusConfig(url=prometheus_world.url, timeout_seconds=5),
        clickhouse=ClickHouseConfig(url="http://127.0.0.1:1", timeout_seconds=2),
    )
    app = build_app(ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=lambda: float(T0), live=False)
    assert snap_compare(app, terminal_size=size, run_before=_on_business)
