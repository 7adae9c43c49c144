"""The Business screen's figures (`:business`, `zeta business`): pure folds of the answers.

Two halves, each read from its own backend and each able to fail alone:

- **API calls by plan** (Prometheus): the seed's ``sum by (plan) (rate(api_calls_total[1h]))``
  over the range (one line per plan) and each plan's share of the total at the range's end.
- **Revenue and tenants** (ClickHouse, queries/clickhouse/catalog/business_*.sql):
  - active tenants: distinct tenants with requests in the last 1, 7 and 30 whole UTC days up to
    ``until`` (the rollup counts by day: the "24 h" figure is the day ``until``), against the
    same number of days before; a previous period that begins before the first day with usage
    is *partial* and says from when its data are;
  - MRR and ARR per plan on ``until``; MRR per day over 90 days. A tenant counts on day d when it
    started on or before d and had not ended by then (``toDate(created_at) <= d`` and ``ended_at``
    NULL or after d). One ``mrr_usd`` per tenant: a plan change is not modelled, a tenant counts
    at its current plan and price for its whole life. ARR = 12 x MRR.
  - new and churned tenants over the 90 days (who, which day, plan, MRR);
  - top tenants by usage (the seed's "Top 10 tenants by API usage": requests from ``until`` - 30
    to ``until``) with plan, MRR and this month's calls against the quota.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from zeta_tui.errors import ZetaError

Record = Mapping[str, Any]

#: the active-tenant windows, in days
ACTIVE_WINDOWS = (1, 7, 30)
#: the revenue trend's length, in days
TREND_DAYS = 90
#: how many tenants the top list holds
TOP_LIMIT = 10


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _float(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


# --- API calls by plan (Prometheus) -------------------------------------------------------------


@dataclass(frozen=True)
class PlanCalls:
    """One plan's API calls per second at the range's end, its share of all plans', and its line."""

    plan: str
    per_second: float
    share: float | None
    points: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class CallsByPlan:
    """Every plan's calls, busiest first."""

    plans: tuple[PlanCalls, ...] = ()

    @property
    def total_per_second(self) -> float:
        return sum(p.per_second for p in self.plans)


def calls_by_plan(now: Mapping[str, float], lines: Mapping[str, Sequence[tuple[float, float]]]) -> CallsByPlan:
    """Fold the instant answer (plan -> calls/s) and the range answer (plan -> points).

    A plan with a line but no value now (its series stopped) shows 0 now. Shares are of the
    total now (None when the total is 0); NaN values count as absent.
    """
    clean = {p: v for p, v in now.items() if v is not None and not math.isnan(v)}
    total = sum(clean.values())
    plans = [
        PlanCalls(
            plan,
            clean.get(plan, 0.0),
            clean.get(plan, 0.0) / total if total > 0 else None,
            tuple(lines.get(plan, ())),
        )
        for plan in set(clean) | set(lines)
    ]
    plans.sort(key=lambda p: (-p.per_second, p.plan))
    return CallsByPlan(tuple(plans))


# --- revenue and tenants (ClickHouse) ----------------------------------------------------------


@dataclass(frozen=True)
class ActiveTenants:
    """Tenants with requests in the ``days`` days up to the answer's day, and in the days before."""

    days: int
    active: int
    previous: int
    previous_from: date
    first_day: date | None

    @property
    def label(self) -> str:
        return "24 h" if self.days == 1 else f"{self.days} d"

    @property
    def change(self) -> int:
        return self.active - self.previous

    @property
    def partial(self) -> bool:
        """The previous period starts before the data do: its count is a floor, not the figure."""
        return self.first_day is None or self.first_day > self.previous_from

    @property
    def partial_note(self) -> str:
        if not self.partial:
            return ""
        return "no data" if self.first_day is None else f"partial, data from {self.first_day.isoformat()}"


def active_tenants(records: Iterable[Record], until: date) -> tuple[ActiveTenants, ...]:
    """One ActiveTenants per window of ACTIVE_WINDOWS (a window without usage: 0 and 0, no data)."""
    by_days = {int(r["days"]): r for r in records}
    out = []
    for days in ACTIVE_WINDOWS:
        r = by_days.get(days)
        previous_from = until - timedelta(days=2 * days - 1)
        if r is None:
            out.append(ActiveTenants(days, 0, 0, previous_from, None))
            continue
        out.append(
            ActiveTenants(days, int(r["active"]), int(r["previous"]), _date(r["previous_from"]), _date(r["first_day"]))
        )
    return tuple(out)


@dataclass(frozen=True)
class PlanRevenue:
    """One plan's customers and MRR on the day."""

    plan: str
    tenants: int
    mrr_usd: float

    @property
    def arr_usd(self) -> float:
        return self.mrr_usd * 12


def plan_revenue(records: Iterable[Record]) -> tuple[PlanRevenue, ...]:
    """Plans by MRR, largest first (a plan with no customer that day stays, at 0)."""
    rows = [PlanRevenue(str(r["plan"]), int(r["tenants"]), float(r["mrr_usd"] or 0)) for r in records]
    rows.sort(key=lambda p: (-p.mrr_usd, p.plan))
    return tuple(rows)


@dataclass(frozen=True)
class MrrTrend:
    """MRR per day: ``days`` in order, and per plan one value a day (0 where it had no customer)."""

    days: tuple[date, ...] = ()
    by_plan: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def total(self) -> tuple[float, ...]:
        return tuple(sum(v) for v in zip(*self.by_plan.values())) if self.by_plan else tuple(0.0 for _ in self.days)


def mrr_trend(records: Iterable[Record], until: date, days: int = TREND_DAYS) -> MrrTrend:
    """The trend answer with every day of the window present (a missing (day, plan) is 0)."""
    window = tuple(until - timedelta(days=days - 1 - i) for i in range(days))
    index = {d: i for i, d in enumerate(window)}
    values: dict[str, list[float]] = {}
    for r in records:
        d = _date(r["day"])
        if d in index:
            values.setdefault(str(r["plan"]), [0.0] * days)[index[d]] = float(r["mrr_usd"] or 0)
    return MrrTrend(window, {plan: tuple(v) for plan, v in sorted(values.items())})


@dataclass(frozen=True)
class TenantChange:
    """A tenant that started ("new") or ended ("churned") on ``day``."""

    change: str
    day: date
    tenant_id: str
    name: str
    plan: str
    mrr_usd: float


def tenant_changes(records: Iterable[Record]) -> tuple[TenantChange, ...]:
    """Newest first, as the query orders them."""
    return tuple(
        TenantChange(
            str(r["change"]), _date(r["day"]), str(r["tenant_id"]), str(r["name"]), str(r["plan"]), float(r["mrr_usd"])
        )
        for r in records
    )


@dataclass(frozen=True)
class TopTenant:
    """A tenant among the busiest: its requests over the seed's 30 days, plan, MRR and quota used."""

    tenant_id: str
    name: str
    plan: str
    mrr_usd: float
    ended: bool
    requests: int
    month_calls: int
    quota_calls: int
    quota_used_pct: float | None


def top_tenants(records: Iterable[Record]) -> tuple[TopTenant, ...]:
    return tuple(
        TopTenant(
            str(r["tenant_id"]),
            str(r["name"] or ""),
            str(r["plan"] or ""),
            float(r["mrr_usd"] or 0),
            bool(int(r["ended"] or 0)),
            int(r["total_requests"]),
            int(r["month_calls"]),
            int(r["quota_calls"] or 0),
            _float(r["quota_used_pct"]),
        )
        for r in records
    )


@dataclass(frozen=True)
class Revenue:
    """The ClickHouse half, as of the UTC day ``until``."""

    until: date
    active: tuple[ActiveTenants, ...] = ()
    plans: tuple[PlanRevenue, ...] = ()
    trend: MrrTrend = field(default_factory=MrrTrend)
    changes: tuple[TenantChange, ...] = ()
    top: tuple[TopTenant, ...] = ()
    #: where the usage figures came from when not zeta's rollup (querying/usage_sources.py)
    note: str = ""

    @property
    def mrr_usd(self) -> float:
        return sum(p.mrr_usd for p in self.plans)

    @property
    def arr_usd(self) -> float:
        return self.mrr_usd * 12

    @property
    def tenants(self) -> int:
        return sum(p.tenants for p in self.plans)

    @property
    def new(self) -> tuple[TenantChange, ...]:
        return tuple(c for c in self.changes if c.change == "new")

    @property
    def churned(self) -> tuple[TenantChange, ...]:
        return tuple(c for c in self.changes if c.change == "churned")


@dataclass(frozen=True)
class Business:
    """Both halves; a half that could not be had is None and its error says why (not configured,
    unreachable, a table without a column)."""

    at: float
    range_label: str
    #: the range's start (the calls chart spans [start, at])
    start: float = 0.0
    calls: CallsByPlan | None = None
    calls_error: ZetaError | None = None
    revenue: Revenue | None = None
    revenue_error: ZetaError | None = None
