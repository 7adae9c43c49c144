"""The console's screens, each declared once: id, title, key, `:` commands, the backends it needs.

Everything else derives from this table: the number-key bindings, the command palette, the `:`
command line and its completion, the `?` help, the header's titles, the command line's
`--screen` choices and which screens say "not configured". It imports no Textual: the command
line is parsed, and the first frame drawn, before the console's modules are loaded.

Adding a screen: write its module under screens/ and add one ScreenSpec here (CONTRIBUTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScreenSpec:
    """One screen of the console."""

    id: str
    title: str
    #: "module:Class" of the screen, imported when the console opens
    where: str
    #: the footer's word for its key
    short: str = ""
    #: number key (the nine most used), or "" for a screen reached by `:` and the palette only
    key: str = ""
    #: names on the `:` command line (the first is the id); an argument follows some of them
    commands: tuple[str, ...] = ()
    #: what a command's argument is, for completion and help ("" when it takes none)
    argument: str = ""
    #: context sections the screen reads, any one of which is enough ("prometheus", "clickhouse", ...)
    needs: tuple[str, ...] = ()
    #: one line for the palette, the help and the key's tooltip
    summary: str = ""
    #: shown in the footer (the first six keys fit at 80 columns)
    in_footer: bool = True
    #: a mode the number keys switch to (False: a screen pushed on top, e.g. a trace's waterfall)
    mode: bool = True

    @property
    def module(self) -> str:
        return self.where.split(":")[0]

    @property
    def class_name(self) -> str:
        return self.where.split(":")[1]

    @property
    def binding_id(self) -> str:
        return f"screen.{self.id}"


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec(
        "health",
        "Service health",
        "zeta_tui.screens.health:HealthScreen",
        "Health",
        "1",
        ("health", "services"),
        needs=("prometheus",),
        summary="Service health: status, CPU, memory, I/O, restarts",
    ),
    ScreenSpec(
        "api",
        "API performance",
        "zeta_tui.screens.api_performance:ApiPerformanceScreen",
        "API",
        "2",
        ("api", "performance"),
        argument="service",
        needs=("prometheus",),
        summary="API performance: rate, latency, errors, slowest endpoints",
    ),
    ScreenSpec(
        "logs",
        "Logs",
        "zeta_tui.screens.logs:LogsScreen",
        "Logs",
        "3",
        ("logs",),
        argument="query",
        needs=("logs",),
        summary="Logs: search and live tail",
    ),
    ScreenSpec(
        "traces",
        "Traces",
        "zeta_tui.screens.traces:TracesScreen",
        "Traces",
        "4",
        ("traces",),
        needs=("traces",),
        summary="Traces: search, waterfall, critical path",
    ),
    ScreenSpec(
        "alerts",
        "Alerts",
        "zeta_tui.screens.alerts:AlertsScreen",
        "Alerts",
        "5",
        ("alerts",),
        needs=("alertmanager", "prometheus"),
        summary="Alerts: firing and pending, with their evidence",
    ),
    ScreenSpec(
        "slo",
        "SLO",
        "zeta_tui.screens.slo:SloScreen",
        "SLO",
        "6",
        ("slo",),
        needs=("prometheus",),
        summary="SLOs: error budgets and burn rates per service",
    ),
    ScreenSpec(
        "tenants",
        "Tenants",
        "zeta_tui.screens.tenants:TenantsScreen",
        "Tenants",
        "7",
        ("tenants",),
        needs=("clickhouse",),
        summary="Tenants: usage, errors, latency, quota (ClickHouse)",
        in_footer=False,
    ),
    ScreenSpec(
        "cost",
        "Cost",
        "zeta_tui.screens.cost:CostScreen",
        "Cost",
        "8",
        ("cost",),
        needs=("clickhouse",),
        summary="Cost per service, per call and per tenant, with recommendations",
        in_footer=False,
    ),
    ScreenSpec(
        "sql",
        "SQL console",
        "zeta_tui.screens.sql_console:SqlConsoleScreen",
        "SQL",
        "9",
        ("sql",),
        needs=("clickhouse",),
        summary="SQL console: read-only SQL on ClickHouse",
        in_footer=False,
    ),
    # No number key: the nine are the screens of the moment; incidents are looked back on.
    ScreenSpec(
        "incidents",
        "Incidents",
        "zeta_tui.screens.incidents:IncidentsScreen",
        "Incidents",
        commands=("incidents",),
        needs=("prometheus",),
        summary="Incidents: MTTD, MTTR and missed criticals over 7 days, against the seed's targets",
        in_footer=False,
    ),
    ScreenSpec(
        "ml",
        "ML Engine",
        "zeta_tui.screens.ml_engine:MlEngineScreen",
        "ML",
        commands=("ml",),
        needs=("prometheus",),
        summary="ML Engine: training jobs, NDCG@10 per tenant, embedding cache, ANN latency, recommendations",
        in_footer=False,
    ),
    ScreenSpec(
        "business",
        "Business",
        "zeta_tui.screens.business:BusinessScreen",
        "Business",
        commands=("business",),
        needs=("prometheus", "clickhouse"),
        summary="Business: active tenants, API calls by plan, MRR/ARR and their trend, top tenants",
        in_footer=False,
    ),
    ScreenSpec(
        "product",
        "Product",
        "zeta_tui.screens.product:ProductScreen",
        "Product",
        commands=("product",),
        argument="tenant id",
        needs=("clickhouse",),
        summary="Product: a tenant's funnel, CTR by model version, the A/B verdict, weekly retention (ClickHouse)",
        in_footer=False,
    ),
    # Screens opened on top of a mode, by a join or by `:` with an argument.
    ScreenSpec(
        "trace",
        "Trace",
        "zeta_tui.screens.trace_view:TraceViewScreen",
        commands=("trace",),
        argument="trace id",
        needs=("traces",),
        summary="One trace's waterfall, by id",
        mode=False,
    ),
    ScreenSpec(
        "tenant",
        "Tenant",
        "zeta_tui.screens.tenant_detail:TenantDetailScreen",
        commands=("tenant",),
        argument="tenant id",
        needs=("clickhouse", "prometheus"),
        summary="One tenant: endpoints, quota, cost, SLA; model quality, training, data freshness, alerts",
        mode=False,
    ),
    ScreenSpec(
        "silences",
        "Silences",
        "zeta_tui.screens.silences:SilencesScreen",
        commands=("silences",),
        needs=("alertmanager",),
        summary="Alertmanager's silences: active, pending, expired",
        mode=False,
    ),
)

BY_ID = {s.id: s for s in SCREENS}

#: every screen a key switches to, in key order (1-9)
MODES = tuple(s.id for s in SCREENS if s.mode)

#: the screens whose data come from the embedded analytics store (ClickHouse usage and cost)
ANALYTICS_MODES = tuple(s.id for s in SCREENS if s.mode and s.needs == ("clickhouse",))


def by_command(word: str) -> ScreenSpec | None:
    """The screen a `:` command names (its id, or one of its command names), any case."""
    word = word.strip().lower()
    return next((s for s in SCREENS if word == s.id or word in s.commands), None)


def missing_section(spec: ScreenSpec, configured: set[str]) -> str | None:
    """The section to add for ``spec`` when the context has none of what it needs, else None."""
    if not spec.needs or any(n in configured for n in spec.needs):
        return None
    return spec.needs[0]
