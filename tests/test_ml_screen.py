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
from zeta_tui.models.series import InstantSample, QueryResult
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
        # The console's range keys: `t` moves on to the next preset (3h is none: the first, 15m).
        await pilot.press("t")
        for _ in range(200):  # the refetch for the new range lands
            if screen.snapshot.value.range_label == "15m":
                break
            await pilot.pause(0.05)
        assert app.range_label == "15m" and screen.snapshot.value.range_label == "15m"
        assert screen.snapshot.value.charts.step_s == 15 and screen.snapshot.value.at == app.current_range().end
        footer = {key for key, b in app.active_bindings.items() if b.binding.show}
        assert {"c", "v"} <= footer  # (enter is the table's: each block's title says it)


# --- on hand-built answers -------------------------------------------------------------------------


def _series(tenant: str, version: str, *points: tuple[float, float]):
    from zeta_tui.models.series import Sample, Series

    labels = {"tenant_id": tenant, "model_version": version} if version else {"tenant_id": tenant}
    return Series(labels, tuple(Sample(t, v) for t, v in points))


def test_the_quality_chart_keeps_the_worst_tenants_a_colour_each_versions_in_serving_order() -> None:
    from zeta_tui.models.ml_engine import MlCharts, quality_lines
    from zeta_tui.screens.ml_engine import quality_chart_lines, quality_title

    answer = [
        _series("beta", "v2", (200, 0.3)),
        _series("alpha", "v2", (300, 0.2)),
        _series("alpha", "v1", (100, 0.5), (200, 0.5)),
        _series("gamma", "v1", (100, 0.9)),  # not among the worst: left out
        _series("beta", "v1", (100, 0.4)),
        _series("delta", "v1"),  # no samples in the range: no line
    ]
    lines = quality_lines(answer, ["alpha", "beta", "delta"])
    assert [(ln.tenant_id, ln.model_version, ln.rank) for ln in lines] == [
        ("alpha", "v1", 0),
        ("alpha", "v2", 0),
        ("beta", "v1", 1),
        ("beta", "v2", 1),
    ]
    charts = MlCharts(300.0, "10m", quality=tuple(lines))
    drawn = quality_chart_lines(charts)
    assert [(ln.label, ln.colour) for ln in drawn] == [("alpha", 0), ("", 0), ("beta", 1), ("", 1)]
    assert drawn[1].xs == (300,) and drawn[1].ys == (0.2,)
    assert quality_title(charts) == "NDCG@10 · worst 2 · v1 → v2"
    unversioned = MlCharts(300.0, "10m", quality=tuple(quality_lines([_series("a", "", (1, 0.1))], ["a"])))
    assert quality_title(unversioned) == "NDCG@10 · worst 1"
    assert quality_title(MlCharts(300.0, "10m")) == "NDCG@10"


def test_the_legend_names_each_colour_once_and_keeps_the_old_marks() -> None:
    import re

    from zeta_tui.widgets.line_chart import ChartLine, legend

    colours = ["#ff0000", "#00ff00", "#0000ff"]

    def plain(text: str) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", text)

    # Without slots: a colour per place, the next mark once the colours come round (as before).
    lines = [ChartLine(n, (1.0,), (1.0,)) for n in ("p50", "p95", "p99", "p999")]
    assert plain(legend(lines, colours, 80)) == " ━━ p50  ━━ p95  ━━ p99  ╍╍ p999"
    # A tenant's second version shares its colour and is drawn, not named.
    shared = [
        ChartLine("alpha", (1.0,), (1.0,), 0),
        ChartLine("", (2.0,), (1.0,), 0),
        ChartLine("beta", (1.0,), (1.0,), 1),
    ]
    text = legend(shared, colours, 80)
    assert plain(text) == " ━━ alpha  ━━ beta"
    assert "38;2;255;0;0" in text and "38;2;0;255;0" in text and "38;2;0;0;255" not in text


def test_the_summary_line_in_words() -> None:
    from zeta_tui.models.ml_engine import MlEngine, TenantQuality, TrainingJob
    from zeta_tui.screens.ml_engine import summary

    quiet = MlEngine(
        0, "1h", training=(TrainingJob("a", "running"),), quality=(TenantQuality("a", 0.5, median_7d=0.5),)
    )
    assert summary(quiet) == "no training failing · no NDCG drop · cache hits – · ANN p99 –"
    assert summary(MlEngine(0, "1h", cache_hit_ratio=0.5)).startswith(
        "no training jobs found · no NDCG@10 found · cache hits 50.0%"
    )
    failing = tuple(TrainingJob(t, "failed") for t in ("a", "b"))
    dropped = (TenantQuality("a", 0.3, median_7d=0.5), TenantQuality("b", 0.5, median_7d=0.5))
    figures = MlEngine(0, "1h", training=failing, quality=dropped, ann_latency_s={0.99: 0.0123})
    assert summary(figures) == "training failing: a, b · 1/2 NDCG drops · cache hits – · ANN p99 12.3 ms"
    many = MlEngine(0, "1h", training=tuple(TrainingJob(f"t{i}", "failed") for i in range(4)))
    assert summary(many).startswith("4 failing training · no NDCG@10 found")


def test_the_training_cells() -> None:
    from zeta_tui.models.ml_engine import MlEngine, training_jobs
    from zeta_tui.screens.ml_engine import training_rows

    now = 1_773_250_000.0  # 2026-03-11 17:26:40 UTC
    jobs = training_jobs(
        [("shop-eu", "running", ""), ("shop-us", "failed", "oom_killed")],
        {"shop-eu": now - 750, "shop-us": now - 2 * 86400},
        {"shop-eu": 3000.0, "shop-us": 125.0},  # shop-eu's is its previous run's
        {"shop-us": now - 3 * 86400 - 3600},
        now=now,
    )
    rows = {
        key: [str(c) for c in cells] for key, cells in training_rows(MlEngine(now, "1h", training=tuple(jobs)), "red")
    }
    assert rows["shop-eu"] == ["shop-eu", "running", "17:14", "12m30s so far", "–", "–"]
    assert rows["shop-us"] == ["shop-us", "failed", "03-09 17:26", "2m5s", "oom_killed", "3d1h"]


class _Recording:
    """A stand-in Prometheus: counts what is in flight, records each range question, and answers
    ``quality`` (tenant -> NDCG now, and 7-day median) to the two queries that ask for it."""

    def __init__(self, quality: dict[str, tuple[float, float]] | None = None) -> None:
        self.in_flight = self.most = 0
        self.ranges: list[tuple[str, float]] = []
        self.quality = quality or {}

    async def _answer(self, data: list) -> QueryResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return QueryResult(data)

    async def query(self, expr: str, at: float | None = None) -> QueryResult:
        if expr.startswith("ml_recommendation_quality{"):
            data = [
                InstantSample({"tenant_id": t, "model_version": "v1"}, 0, now) for t, (now, _) in self.quality.items()
            ]
        elif expr.startswith("quantile_over_time(0.5"):
            data = [InstantSample({"tenant_id": t}, 0, median) for t, (_, median) in self.quality.items()]
        else:
            data = []
        return await self._answer(data)

    async def query_range(self, expr: str, start: float, end: float, step: float) -> QueryResult:
        self.ranges.append((expr, step))
        return await self._answer([])


def _fetch(prom: _Recording):
    from zeta_tui.backends.ml_engine import fetch_ml_engine
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    tr = TimeRange(0, 6 * 3600, "6h")
    return asyncio.run(fetch_ml_engine(prom, catalog, time_range=tr, charts=True))  # type: ignore[arg-type]


def test_one_gather_with_the_charts() -> None:
    """The screen's questions (11 instant, 4 range) are all in flight before the first answer; with
    no tenant's quality known, no quality chart is asked for."""
    prom = _Recording()
    result = _fetch(prom)
    assert prom.most == 15 and [step for _, step in prom.ranges] == [600.0] * 4
    assert not [e for e, _ in prom.ranges if "ml_recommendation_quality" in e]
    charts = result.data.charts
    assert charts is not None and charts.window == "20m" and charts.quality == ()
    assert charts.cache_hit_ratio is None and charts.ann_latency_s == {0.5: None, 0.95: None, 0.99: None}


def test_the_quality_chart_asks_for_the_worst_tenants_only() -> None:
    """5,000 tenants: the chart's range question names the CHART_TENANTS worst, not every tenant."""
    import re

    from zeta_tui.models.ml_engine import CHART_TENANTS

    # Tenant k dropped k / 10,000 against a median of 0.5; a name with regex metacharacters among the worst.
    quality = {f"t{k:04d}": (0.5 * (1 - k / 10_000), 0.5) for k in range(5_000)}
    quality["shop.eu+1"] = (0.2, 0.5)
    prom = _Recording(quality)
    _fetch(prom)
    (asked,) = [e for e, _ in prom.ranges if "ml_recommendation_quality" in e]
    worst = ["shop.eu+1", *(f"t{k:04d}" for k in range(4_999, 4_999 - CHART_TENANTS + 1, -1))]
    (pattern,) = re.findall(r'tenant_id=~"((?:[^"\\]|\\.)*)"', asked)
    # Prometheus anchors the regex; the escaped names match themselves and nothing else.
    unescaped = pattern.replace("\\\\", "\\")
    matched = sorted(t for t in quality if re.fullmatch(unescaped, t))
    assert matched == sorted(worst)


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
