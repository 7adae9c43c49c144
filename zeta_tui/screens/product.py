"""Product: do people click what the model recommends, do clicks become purchases, which model
version does better, do users come back — for one tenant, from ClickHouse's events.

The figures are `zeta product`'s (backends/product.py, models/product.py): one fetch of the
funnel, weekly retention, CTR by model version per day and the A/B test of the two most recent
versions, over the 14 UTC days to today (of the console's clock; retention: 8 weekly cohorts).
The tenant is the one with the most served recommendations until one is picked with ``t``
(screens/tenant_picker.py: the tenants with events in the window, filtered as you type; Enter
chooses, and the figures are asked again).
The console's time range does not apply to these windows, so here ``t`` picks the tenant instead
of cycling the range (``T`` still types one, for the other screens).

Blocks: the verdict line; the funnel as bars (users, conversion from the previous step, median
time); CTR by version over the days (a line each); retention as a cohort table. Below 120
columns or 34 rows one block at a time (``c`` cycles). Only aggregates are drawn: no user id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from zeta_tui.messages import ShowTenant
from zeta_tui.models.product import DAYS, WEEKS, Product
from zeta_tui.models.series import QueryResult
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.analytics import day_seconds, require_clickhouse, today_utc
from zeta_tui.screens.polling import PollingScreen
from zeta_tui.screens.tenant_picker import TenantPicker
from zeta_tui.widgets.fitted_table import Column, FittedTable
from zeta_tui.widgets.funnel_bars import FunnelBars
from zeta_tui.widgets.line_chart import ChartLine, LineChart

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

#: below this many columns, or rows, one block at a time
WIDE_COLUMNS = 120
TALL_ROWS = 34
BLOCKS = ("product-funnel", "product-ctr", "product-retention-block")
#: the least time between two readings: the funnel and retention read events, which change slowly
MIN_POLL_SECONDS = 60.0
NAN = float("nan")


def retention_columns(weeks: int) -> list[Column]:
    """Cohort, users, then W1..W(n-1): the share back n weeks after (the later weeks dropped first)."""
    cols = [Column("Cohort week", "week", 11), Column("Users", "users", 7)]
    cols += [Column(f"W{n}", f"w{n}", 6, drop=n) for n in range(1, weeks)]
    return cols


def ctr_lines(p: Product) -> list[ChartLine]:
    """One line per model version, its CTR over the window in the legend."""
    xs = tuple(day_seconds(d) for d in p.ctr_days)
    out = []
    for v in p.versions:
        total = "" if v.total_ctr_pct is None else f" {v.total_ctr_pct:.2f}%"
        out.append(ChartLine(f"{v.version}{total}", xs, tuple(NAN if c is None else c for c in v.ctr_pct)))
    return out


class ProductScreen(PollingScreen[Product]):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App
    min_poll_seconds = MIN_POLL_SECONDS

    BINDINGS = [
        Binding(
            "t", "pick_tenant", "Pick tenant", id="product.tenant", tooltip="Pick the tenant from those with events"
        ),
        Binding("ctrl+t", "tenant", "Tenant", id="product.tenant_screen", tooltip="This tenant: its Tenant screen"),
        Binding("c", "next_block", "Block", id="product.block", tooltip="Show the next block when only one fits"),
    ]

    DEFAULT_CSS = """
    #product-head { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #product-verdict { height: auto; max-height: 2; padding: 0 1; color: $accent; text-style: bold; }
    #product-note { height: 1; padding: 0 1; color: $warning; text-wrap: nowrap; text-overflow: ellipsis; }
    #product-top { height: 1fr; min-height: 8; }
    #product-funnel { width: 1fr; }
    #product-ctr { width: 1fr; }
    #product-retention-block { height: auto; max-height: 12; }
    #product-retention-title { height: 1; padding: 0 1; text-style: bold; }
    #product-retention { height: auto; }
    ProductScreen.-compact #product-retention-block { height: 1fr; max-height: 100%; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._tenant: str | None = None  # None: the most served
        self._block = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="product-head")
        yield Static("", id="product-verdict")
        yield Static("", id="product-note")
        with Horizontal(id="product-top"):
            yield FunnelBars("Funnel: users within 24 h of a served recommendation", id="product-funnel")
            yield LineChart("CTR by model version (%, per UTC day)", lambda v: f"{v:.1f}", id="product-ctr")
        with Vertical(id="product-retention-block"):
            yield Static(
                "Retention: weekly cohorts by first session, share back n weeks later", id="product-retention-title"
            )
            yield FittedTable(retention_columns(WEEKS), id="product-retention", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#product-note").display = False
        self._layout_blocks()

    def prefetch(self) -> None:
        """Only when the console opens on Product (its queries would compete with the first screen's)."""
        if self.app.first_screen == "product":
            super().prefetch()

    def question(self) -> str | None:
        return self._tenant

    def header_range(self) -> str:
        return f"{DAYS} UTC days"

    def on_resize(self) -> None:
        self._layout_blocks()

    def _compact(self) -> bool:
        return self.app.size.width < WIDE_COLUMNS or self.app.size.height < TALL_ROWS

    def _show_status(self) -> None:
        super()._show_status()
        if self.is_mounted:
            self._layout_blocks()

    def _layout_blocks(self) -> None:
        compact = self._compact()
        self.set_class(compact, "-compact")
        # Nothing read yet and the last question failed: the status line says why; no empty blocks under it.
        failed = self.snapshot.value is None and self.snapshot.error is not None
        shown = [not failed and (not compact or i == self._block) for i in range(len(BLOCKS))]
        for block_id, on_screen in zip(BLOCKS, shown):
            self.query_one(f"#{block_id}").display = on_screen
        self.query_one("#product-top").display = shown[0] or shown[1]
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Nothing read (not configured, ClickHouse down): no block to cycle. `t` stays this screen's
        # (the console's time range does not apply here; with `t` off, the app's range key would fire).
        if action == "next_block":
            return self.snapshot.value is not None and self._compact()
        return True

    def action_next_block(self) -> None:
        self._block = (self._block + 1) % len(BLOCKS)
        self._layout_blocks()

    def set_tenant(self, tenant: str) -> None:
        """Show ``tenant`` (a join, `:product ID`); its figures are asked at once."""
        if tenant != self._tenant:
            self._tenant = tenant
            self.refresh_data()

    def action_tenant(self) -> None:
        value = self.snapshot.value
        if value is not None and value.tenant:
            self.post_message(ShowTenant(value.tenant))

    def action_pick_tenant(self) -> None:
        value = self.snapshot.value
        if value is None or not value.tenants:
            self.notify("no tenant with events to pick (yet)", severity="warning")
            return

        def chosen(tenant: str | None) -> None:
            if tenant and tenant != (self.snapshot.value.tenant if self.snapshot.value else None):
                self._tenant = tenant
                self.refresh_data()

        self.app.push_screen(TenantPicker(value.tenants, value.tenant, value.tenants_in_window), chosen)

    async def fetch(self, time_range: TimeRange) -> QueryResult[Product]:
        from zeta_tui.backends.product import fetch_product  # the catalog: not at start-up

        source = require_clickhouse(self)
        until = today_utc(self.app.clock())
        return QueryResult(await fetch_product(source, self._tenant, until=until))

    def show(self, value: Product) -> None:
        self.refresh_bindings()
        head = self.query_one("#product-head", Static)
        verdict = self.query_one("#product-verdict", Static)
        note = self.query_one("#product-note", Static)
        note.update("; ".join(value.notes))
        note.display = bool(value.notes)
        funnel = self.query_one(FunnelBars)
        chart = self.query_one(LineChart)
        table = self.query_one(FittedTable)
        if value.tenant is None:
            head.update(Text(f"no tenant has recommendation events in the {value.days} days", style="dim"))
            verdict.update("")
            funnel.empty_message = "no events"
            funnel.show([])
            chart.empty_message = "no events"
            chart.show([])
            table.show_rows([])
            return
        text = Text()
        text.append(value.tenant, style="bold")
        text.append(" (the most served; t picks another)" if value.tenant_source == "most served" else "", style="dim")
        text.append(
            f" · {value.days} UTC days to {value.until:%b %d} · {value.tenants_in_window:,} tenants with events"
        )
        head.update(text)
        verdict.update(value.verdict)
        funnel.show(value.funnel)
        chart.empty_message = "no recommendation served or clicked in the window"
        chart.show(ctr_lines(value), (day_seconds(value.ctr_days[0]), day_seconds(value.ctr_days[-1])))
        weeks = max((len(c.returned_pct) for c in value.cohorts), default=1)
        table.set_columns(retention_columns(max(weeks, 2)))
        table.show_rows(
            [
                (
                    c.week.isoformat(),
                    [
                        f"{c.week:%Y-%m-%d}",
                        f"{c.users:,}",
                        *(
                            (
                                ""
                                if n >= len(c.returned_pct)
                                else "-"
                                if c.returned_pct[n] is None
                                else f"{c.returned_pct[n]:.1f}%"
                            )
                            for n in range(1, max(weeks, 2))
                        ),
                    ],
                )
                for c in value.cohorts
            ]
        )
