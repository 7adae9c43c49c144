"""ML Engine (`:ml`): training jobs, model quality, embedding cache, ANN latency, recommendations.

The figures are `zeta ml`'s (backends/ml_engine.py fetch_ml_engine, models/ml_engine.py says how
each is computed), plus the charts over the screen's range in the same round trip:

- a summary line: tenants failing training (named when few), quality drops, the cache hit ratio
  and the ANN p99 over the range, in words (never colour alone);
- charts: NDCG@10 of the worst tenants (a colour per tenant, a line per model version), the
  embedding cache hit ratio (its figure now, over the last rate window, and over the range),
  ANN search p50/p95/p99;
- tables: training jobs (failed first), quality per tenant (worst first, DROP over 10 % of the
  7-day median), recommendations served (top first, with each tenant's share).

Where the screen is small (under 140x34) one chart and one table show at a time: ``c`` cycles the
charts, ``v`` the tables. Enter on any row opens that tenant's screen (ShowTenant); the time range
keys are the console's (``t``, ``T``).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Static

from zeta_tui.messages import ShowTenant
from zeta_tui.models.ml_engine import MlCharts, MlEngine, TrainingJob
from zeta_tui.models.series import QueryResult, Series
from zeta_tui.models.timerange import TimeRange, format_age
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.widgets import units
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.line_chart import ChartLine, LineChart

CHARTS = ("ml-chart-quality", "ml-chart-cache", "ml-chart-ann")
TABLES = ("ml-training-block", "ml-quality-block", "ml-served-block")
#: below either, one chart and one table at a time (`c` and `v` cycle them)
ALL_WIDTH, ALL_HEIGHT = 140, 34
#: failing tenants named in the summary line (beyond: a count)
NAMED_FAILING = 3

TRAINING_COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("Status", "status", 9),
    Column("Started", "started", 5, name=True, drop=1),
    Column("Took", "took", 10),
    Column("Reason", "reason", 6, name=True),
    Column("Failing", "failing", 7),
)
QUALITY_COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("NDCG@10", "ndcg", 7),
    Column("Model", "model", 6, name=True),
    Column("Median", "median", 6),
    Column("Change", "change", 7),
    Column("Drop", "drop", 4),
)
SERVED_COLUMNS = (
    Column("Tenant", "tenant", 10, name=True),
    Column("Recs/s", "rate", 7),
    Column("Share", "share", 5, drop=1),
)


def _clock(t: float | None, now: float) -> str:
    """The time of day within the last day (most starts), else with the date."""
    if t is None:
        return units.DASH
    return datetime.fromtimestamp(t).strftime("%H:%M" if 0 <= now - t < 86400 else "%m-%d %H:%M")


def took(job: TrainingJob) -> str:
    """How long the job took, or for a running one how long it has run so far."""
    if job.running_for_s is not None:
        return f"{format_age(job.running_for_s)} so far"
    return units.DASH if job.duration_s is None else format_age(job.duration_s)


def training_rows(m: MlEngine, error: str) -> list[tuple[str, list[str | Text]]]:
    return [
        (
            j.tenant_id,
            [
                j.tenant_id,
                Text(j.status, style=f"bold {error}", justify="left") if j.failed else j.status,
                _clock(j.started, m.at),
                took(j),
                j.reason or units.DASH,
                units.DASH if j.failing_for_s is None else format_age(j.failing_for_s),
            ],
        )
        for j in m.training
    ]


def quality_rows(m: MlEngine, error: str) -> list[tuple[str, list[str | Text]]]:
    return [
        (
            q.tenant_id,
            [
                q.tenant_id,
                units.DASH if q.ndcg is None else f"{q.ndcg:.3f}",
                q.model_version or units.DASH,
                units.DASH if q.median_7d is None else f"{q.median_7d:.3f}",
                units.DASH if q.drop is None else f"{-q.drop * 100:+.1f}%",
                Text("DROP", style=f"bold {error}", justify="left") if q.dropped else "",
            ],
        )
        for q in m.quality
    ]


def served_rows(m: MlEngine) -> list[tuple[str, list[str | Text]]]:
    total = sum(r.per_second for r in m.served)
    return [
        (
            r.tenant_id,
            [r.tenant_id, units.per_second(r.per_second), units.percent(r.per_second / total if total else None)],
        )
        for r in m.served
    ]


def summary(m: MlEngine) -> str:
    failing = [j.tenant_id for j in m.failing]
    if not m.training:
        training = "no training jobs found"
    elif not failing:
        training = "no training failing"
    elif len(failing) <= NAMED_FAILING:
        training = f"training failing: {', '.join(failing)}"
    else:
        training = f"{len(failing)} failing training"
    dropped, tenants = len(m.dropped), len(m.quality) or len(m.training)
    quality = f"{dropped}/{tenants} NDCG drops" if dropped else "no NDCG drop" if m.quality else "no NDCG@10 found"
    p99 = m.ann_latency_s.get(0.99)
    # One line at 80 columns: the counts first, the figures after (cut last where narrower).
    return f"{training} · {quality} · cache hits {units.percent(m.cache_hit_ratio)} · ANN p99 {units.seconds(p99)}"


def _line(label: str, series: Series, colour: int | None = None) -> ChartLine:
    return ChartLine(label, tuple(s.t for s in series.samples), tuple(s.v for s in series.samples), colour)


def quality_chart_lines(charts: MlCharts) -> list[ChartLine]:
    """A colour per tenant, named once in the legend (its later versions' lines go unnamed: the
    legend has room for five tenants at 80 columns, not for ten tenant-version pairs); the
    title names the versions (quality_title)."""
    lines, named = [], set()
    for q in charts.quality:
        lines.append(_line("" if q.tenant_id in named else q.tenant_id, q.series, q.rank))
        named.add(q.tenant_id)
    return lines


def quality_title(charts: MlCharts) -> str:
    """ "NDCG@10 · worst 5 · ranker-v41 → ranker-v42": the versions in the order they served."""
    tenants = len({q.tenant_id for q in charts.quality})
    if not tenants:
        return "NDCG@10"
    versions = " → ".join(dict.fromkeys(q.model_version for q in charts.quality if q.model_version))
    return f"NDCG@10 · worst {tenants}" + (f" · {versions}" if versions else "")


def cache_title(m: MlEngine) -> str:
    now = m.charts.cache_hit_ratio.last if m.charts and m.charts.cache_hit_ratio else None
    return f"Cache hits · {units.percent(now)} now · {units.percent(m.cache_hit_ratio)} over {m.range_label}"


class MlEngineScreen(PollingScreen[MlEngine]):
    """The ML Engine's figures for the console's range (see the module's docstring)."""

    BINDINGS = [
        Binding("enter", "open_tenant", "Tenant", id="ml.tenant", tooltip="Open the selected row's tenant"),
        Binding("c", "next_chart", "Chart", id="ml.chart", tooltip="Show the next chart when only one fits"),
        Binding("v", "next_table", "Table", id="ml.table", tooltip="Show the next table when only one fits"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._chart_index = 0
        self._table_index = 0
        self._summary = ""

    def prefetch(self) -> None:
        """Only when the console opens on ML: its 7-day medians are a heavy question, and a
        screen without a number key is not worth slowing every start for."""
        if self.app.first_screen == "ml":
            super().prefetch()

    def compose_body(self) -> ComposeResult:
        yield Static("no data yet", id="ml-summary", classes="summary")
        with Grid(id="ml-charts"):
            yield LineChart("NDCG@10 · worst tenants", lambda v: f"{v:.2f}", id="ml-chart-quality")
            yield LineChart("Embedding cache hit ratio", lambda v: f"{v * 100:.0f}%", id="ml-chart-cache")
            yield LineChart("ANN search latency p50 / p95 / p99", units.seconds, id="ml-chart-ann")
        with Horizontal(id="ml-tables"):
            for block, title, table_id, columns in (
                ("ml-training-block", "Training jobs, failed first · enter: tenant", "ml-training", TRAINING_COLUMNS),
                (
                    "ml-quality-block",
                    "NDCG@10 vs 7-day median, worst first · enter: tenant",
                    "ml-quality",
                    QUALITY_COLUMNS,
                ),
                ("ml-served-block", "Recs served, top first", "ml-served", SERVED_COLUMNS),
            ):
                with Vertical(id=block, classes="ml-block"):
                    yield Static(title, classes="section-title")
                    yield FittedTable(columns, id=table_id, zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual also runs PollingScreen.on_mount (handlers are called down the MRO).
        self._layout()

    def on_resize(self) -> None:
        self._layout()

    def compact(self) -> bool:
        width, height = self.app.size
        return width < ALL_WIDTH or height < ALL_HEIGHT

    def _layout(self) -> None:
        compact = self.compact()
        for i, chart_id in enumerate(CHARTS):
            self.query_one(f"#{chart_id}").display = not compact or i == self._chart_index
        for i, block_id in enumerate(TABLES):
            self.query_one(f"#{block_id}").display = not compact or i == self._table_index
        self.query_one("#ml-charts").set_class(compact, "-compact")
        self.query_one("#ml-tables").set_class(compact, "-compact")
        focused = self.focused
        if focused is None or not focused.display or not focused.parent or not focused.parent.display:
            self.query_one(f"#{TABLES[self._table_index]} FittedTable", FittedTable).focus()

    # --- data ----------------------------------------------------------------------------

    async def fetch(self, time_range: TimeRange) -> QueryResult[MlEngine]:
        prom = self.require_prometheus()
        from zeta_tui.backends.ml_engine import fetch_ml_engine  # httpx: not at start-up

        return await fetch_ml_engine(prom, self.app.catalog, time_range=time_range, charts=True)

    def show(self, value: MlEngine) -> None:
        text = summary(value)
        if text != self._summary:  # an update repaints even when the words are the same
            self._summary = text
            self.query_one("#ml-summary", Static).update(text, layout=False)
        error = self.app.theme_variables.get("error", "red")
        self.query_one("#ml-training", FittedTable).show_rows(training_rows(value, error))
        self.query_one("#ml-quality", FittedTable).show_rows(quality_rows(value, error))
        self.query_one("#ml-served", FittedTable).show_rows(served_rows(value))
        # The tables (what is broken) go out in this frame; the charts (plotext) in the next.
        self.call_after_refresh(self._show_charts, value)

    def _show_charts(self, value: MlEngine) -> None:
        charts = value.charts
        if charts is None:
            return
        tr = self.app.current_range()
        x_range = (tr.start, tr.end)
        quality = self.query_one("#ml-chart-quality", LineChart)
        title = quality_title(charts)
        if quality.border_title != title:  # setting it repaints, even unchanged
            quality.border_title = title
        quality.empty_message = 'no ml_recommendation_quality{metric="ndcg_10"} in this time range'
        quality.show(quality_chart_lines(charts), x_range)
        cache = self.query_one("#ml-chart-cache", LineChart)
        if cache.border_title != cache_title(value):
            cache.border_title = cache_title(value)
        cache.empty_message = "no cache_hits_total / cache_misses_total in this time range"
        ratio = charts.cache_hit_ratio
        cache.show([_line(f"hits / lookups, {charts.window} windows", ratio)] if ratio is not None else [], x_range)
        ann = self.query_one("#ml-chart-ann", LineChart)
        ann.empty_message = "no ann_search_duration_seconds histogram in this time range"
        ann.show(
            [_line(f"p{round(q * 100)}", s) for q, s in charts.ann_latency_s.items() if s is not None],
            x_range,
        )

    # --- actions -------------------------------------------------------------------------

    def action_next_chart(self) -> None:
        self._chart_index = (self._chart_index + 1) % len(CHARTS)
        self._layout()

    def action_next_table(self) -> None:
        self._table_index = (self._table_index + 1) % len(TABLES)
        self._layout()
        if self.compact():
            self.query_one(f"#{TABLES[self._table_index]} FittedTable", FittedTable).focus()

    def selected_tenant(self) -> str | None:
        table = self.focused if isinstance(self.focused, FittedTable) else None
        if table is None or not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_open_tenant(self) -> None:
        tenant = self.selected_tenant()
        if tenant is None:
            self.notify("no tenant selected", severity="warning")
            return
        self.post_message(ShowTenant(tenant))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(ShowTenant(str(event.row_key.value)))
