"""The ML Engine screen (`:ml`) on the backfilled world at T0 over 3 h (what the world holds: the
2026-03-11 16:00 rollout's drop and tenant_007's failing training are inside it).

- its figures are `zeta ml --json`'s, asked of the same Prometheus for the same range;
- its charts (range queries) against the world's raw samples at a few points, computed here
  from the samples (tests/support/world.py), never from zeta's answers;
- Enter on a tenant row opens the Tenant screen and Esc comes back to the same row; `c` and `v`
  cycle the chart and the table at 80x24;
- snapshots at 80x24 and 160x50 with data and with Prometheus down.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import time
from collections import defaultdict

import pytest

from tests.support.console import settled
from tests.support.world import T0, close, extrapolated_rate, grid, histogram_quantile, in_range
from zeta_tui.cli import main
from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.headless.ml import to_json
from zeta_tui.launch import build_app
from zeta_tui.models.timerange import TimeRange

pytestmark = pytest.mark.console

# Clock labels in charts and tables use local time; pin it.
os.environ["TZ"] = "UTC"
time.tzset()

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
RANGE = "3h"


def _app(url: str, t0: float, *, production: bool = False):
    context = ContextConfig(
        production=production, prometheus=PrometheusConfig(url=url, timeout_seconds=10), time_range=RANGE
    )
    config = ZetaConfig(default_context="snap", contexts={"snap": context})
    return build_app(config, "snap", clock=lambda: t0, live=False)


async def _on_ml(pilot):
    await settled(pilot)
    await pilot.press("colon", *"ml", "enter")
    return await settled(pilot)


async def _headless(tmp_path, capsys, url: str, at: float) -> dict:
    """`zeta ml --json` (in a thread: it runs its own event loop)."""
    config = tmp_path / "config.toml"
    config.write_text(f'[contexts.t.prometheus]\nurl = "{url}"\ntimeout_seconds = 20\n')
    capsys.readouterr()
    argv = ["--config", str(config), "ml", "--at", repr(at), "--range", RANGE, "--json"]
    code = await asyncio.to_thread(main, argv)
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err  # tenant_007 is failing
    return json.loads(out)


@pytest.mark.prometheus
async def test_the_screen_shows_the_commands_figures_and_joins_a_tenant(prometheus_world, tmp_path, capsys) -> None:
    from zeta_tui.screens.ml_engine import MlEngineScreen
    from zeta_tui.screens.tenant_detail import TenantDetailScreen
    from zeta_tui.widgets.fitted_table import FittedTable

    end = TimeRange.last(RANGE, T0).aligned().end  # the console's range ends on its step grid
    headless = await _headless(tmp_path, capsys, prometheus_world.url, end)  # (Textual takes stdout)
    app = _app(prometheus_world.url, T0)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _on_ml(pilot)
        assert isinstance(screen, MlEngineScreen) and app.current_mode == "ml"
        assert screen.snapshot.error is None, screen.snapshot.error
        figures = screen.snapshot.value
        tr = app.current_range()
        assert (tr.end - tr.start, figures.at, tr.end) == (3 * 3600, end, end)
        # The figures the screen holds are the command's, for the same end and range.
        assert to_json(figures) == headless
        # The tables show them in the model's order: tenant_007's failure first, the worst drop first.
        training = screen.query_one("#ml-training", FittedTable)
        first = [str(c) for c in training.get_row_at(0)]
        assert first[:2] == ["tenant_007", "failed"] and "data_validation" in first
        quality = screen.query_one("#ml-quality", FittedTable)
        assert [str(k.value) for k in quality.rows] == [q.tenant_id for q in figures.quality]
        served = screen.query_one("#ml-served", FittedTable)
        assert [str(k.value) for k in served.rows] == [r.tenant_id for r in figures.served]
        summary = str(screen.query_one("#ml-summary").render())
        failing, dropped = len(figures.failing), len(figures.dropped)
        assert failing > 3 and summary.startswith(f"{failing} failing training · {dropped}/40 NDCG drops · ")

        # Enter on the third quality row: that tenant's screen, the way back to the same row.
        quality.focus()
        quality.move_cursor(row=2)
        tenant = figures.quality[2].tenant_id
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TenantDetailScreen) and app.screen.tenant_id == tenant
        assert "ML Engine" in app.path_to(app.screen)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is screen and quality.cursor_row == 2


@pytest.mark.prometheus
async def test_one_chart_and_one_table_at_80x24_and_the_keys_cycle_them(prometheus_world) -> None:
    app = _app(prometheus_world.url, T0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _on_ml(pilot)

        def shown(ids: tuple[str, ...]) -> list[str]:
            return [i for i in ids if screen.query_one(f"#{i}").display]

        from zeta_tui.screens.ml_engine import CHARTS, TABLES

        assert (shown(CHARTS), shown(TABLES)) == ([CHARTS[0]], [TABLES[0]])
        await pilot.press("c")
        await pilot.press("v")
        assert (shown(CHARTS), shown(TABLES)) == ([CHARTS[1]], [TABLES[1]])
        assert screen.focused is screen.query_one("#ml-quality")
        for _ in range(2):
            await pilot.press("c", "v")
        assert (shown(CHARTS), shown(TABLES)) == ([CHARTS[0]], [TABLES[0]])
        footer = {key for key, b in app.active_bindings.items() if b.binding.show}
        assert {"c", "v"} <= footer  # (enter is the table's: each block's title says it)


# --- the charts against the world's raw samples ---------------------------------------------------


def _raw(pw, series, end: float) -> list[tuple[float, float]]:
    return list(zip(grid(pw.start, end, pw.step), pw.world.values(series, grid(pw.start, end, pw.step))))


def _gauge(pw, series, at: float) -> float | None:
    """An instant selector at ``at``: the newest raw sample in the 5-minute lookback."""
    recent = [v for _, v in in_range(_raw(pw, series, at), at, 300) if not math.isnan(v)]
    return recent[-1] if recent else None


@pytest.fixture(scope="module")
def charts(prometheus_world):
    """The screen's fetch at T0 over 3 h, charts and all (one gather)."""
    from zeta_tui.backends.ml_engine import fetch_ml_engine
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.models.timerange import TimeRange
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    tr = TimeRange.last(RANGE, T0).aligned()

    async def fetch():
        client = prometheus_world.client()
        try:
            return await fetch_ml_engine(client, catalog, time_range=tr, charts=True)
        finally:
            await client.aclose()

    return tr, asyncio.run(fetch()).data


def _points(series, every: int) -> list[tuple[float, float]]:
    """A few of a chart's points, the last one always."""
    samples = series.samples
    return [(s.t, s.v) for s in (*samples[::every], samples[-1])]


@pytest.mark.prometheus
def test_the_quality_chart_is_the_worst_tenants_raw_gauges_by_version(prometheus_world, charts) -> None:
    pw = prometheus_world
    tr, figures = charts
    worst = [q.tenant_id for q in figures.quality[:5]]
    lines = figures.charts.quality
    assert [ln.tenant_id for ln in lines] == sorted((ln.tenant_id for ln in lines), key=worst.index)
    assert {ln.tenant_id for ln in lines} == set(worst)
    # The world switches every tenant from ranker-v41 to ranker-v42 at 16:00: two lines each.
    for tenant in worst:
        versions = [ln.model_version for ln in lines if ln.tenant_id == tenant]
        expected = [
            s.label_dict["model_version"]
            for s in pw.world.find("ml_recommendation_quality", metric="ndcg_10", tenant_id=tenant)
            if any(_gauge(pw, s, t) is not None for t in grid(tr.start, tr.end, int(figures.charts.step_s)))
        ]
        assert sorted(versions) == sorted(expected) == ["ranker-v41", "ranker-v42"], tenant
        assert versions == ["ranker-v41", "ranker-v42"]  # in the order they served
    checked = 0
    for line in lines:
        raw = pw.world.one(
            "ml_recommendation_quality", metric="ndcg_10", tenant_id=line.tenant_id, model_version=line.model_version
        )
        for t, v in _points(line.series, 5):
            assert close(v, _gauge(pw, raw, t)), (line.tenant_id, line.model_version, t)
            checked += 1
    assert checked >= 20


@pytest.mark.prometheus
def test_the_cache_and_ann_charts_against_the_raw_counters(prometheus_world, charts) -> None:
    pw = prometheus_world
    tr, figures = charts
    c = figures.charts
    window = {"10m": 600}[c.window]  # 3 h: a 300 s step, a 10-minute rate window
    assert c.step_s == 300
    hits, misses = pw.world.find("cache_hits_total"), pw.world.find("cache_misses_total")
    cache = c.cache_hit_ratio
    assert cache is not None and cache.samples[-1].t == tr.end
    for t, v in _points(cache, 7):
        h = sum(extrapolated_rate(_raw(pw, s, t), t, window, as_rate=False) for s in hits)
        m = sum(extrapolated_rate(_raw(pw, s, t), t, window, as_rate=False) for s in misses)
        assert close(v, h / (h + m)), t
    buckets = pw.world.find("ann_search_duration_seconds_bucket")
    for q, series in c.ann_latency_s.items():
        assert series is not None
        for t, v in _points(series, 9):
            rates: dict[float, float] = defaultdict(float)
            for s in buckets:
                rates[float(s.label_dict["le"])] += extrapolated_rate(_raw(pw, s, t), t, window)
            assert close(v, histogram_quantile(q, rates.items())), (q, t)


# --- snapshots ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def port_one() -> str:
    # A fixed port (so the error text in the snapshot is stable) that nothing listens on.
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 1)) == 0:
            pytest.skip("something listens on 127.0.0.1:1; the down-state snapshots need it closed")
    return "http://127.0.0.1:1"


@pytest.mark.prometheus
@pytest.mark.parametrize("size", SIZES)
def test_ml_snapshot(snap_compare, prometheus_world, size) -> None:
    assert snap_compare(_app(prometheus_world.url, T0), terminal_size=size, run_before=_on_ml)


@pytest.mark.parametrize("size", SIZES)
def test_ml_prometheus_down_snapshot(snap_compare, port_one, size) -> None:
    assert snap_compare(_app(port_one, T0, production=True), terminal_size=size, run_before=_on_ml)
