"""The Product screen's and `zeta product`'s figures (pure): the funnel, retention cohorts, CTR by
model version per day, and the A/B verdict of the two most recent versions in plain words.

Everything is folded from the named queries' answers (queries/clickhouse/catalog: funnel,
retention, ctr, product_tenants, ab_test; docs/product-analytics.md defines each figure); nothing is recomputed
here except what the words need.

- **The two most recent versions** are the two whose first served recommendation in the window
  is the latest (ties: the name sorting last is newer). The newer one is B (the challenger), the
  other A (the baseline): "B beats A by ...".
- **The default tenant** is the one with the most served recommendations in the window.
- **The picker's list** is the PICKER_LIMIT most served tenants (product_tenants), however many
  tenants a platform has; ``tenants_in_window`` counts them all.
- **Too few to say**: the z-test's normal approximation needs at least 10 clicks and 10 served
  without a click in each arm (the usual rule of thumb); below that the verdict says so instead
  of "no significant difference".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: the z-test's approximation needs this many clicks (and non-clicks) in each arm
MIN_CLICKS = 10
#: the window of the funnel, CTR and A/B test, in UTC days, unless asked otherwise
DAYS = 14
#: retention: this many weekly cohorts (the query's default)
WEEKS = 8
#: the picker lists at most this many tenants, the most served (product_tenants' limit)
PICKER_LIMIT = 1000
STEP_WORDS = {
    "recommendation_served": "served",
    "recommendation_clicked": "clicked",
    "item_added_to_cart": "added to cart",
    "purchase_completed": "purchased",
}

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """One step of the funnel: users who reached it, conversion from the previous and the first
    step (%; None when the denominator is 0) and the median seconds from the previous step."""

    step: int
    event: str
    users: int
    conv_prev_pct: float | None
    conv_first_pct: float | None
    median_s_from_prev: float | None

    @property
    def label(self) -> str:
        return STEP_WORDS.get(self.event, self.event)


@dataclass(frozen=True, slots=True)
class Cohort:
    """A weekly cohort (users by their first session's ISO week) and the share back each week after."""

    week: date
    users: int
    #: returned_pct for week 0, 1, ... (week 0 is 100 % when the cohort has users)
    returned_pct: tuple[float | None, ...]
    returned: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VersionCtr:
    """CTR of one model version per day (None on a day it served nothing), over the window's days."""

    version: str
    served: int
    clicks: int
    first_day: date
    ctr_pct: tuple[float | None, ...]

    @property
    def total_ctr_pct(self) -> float | None:
        return None if self.served == 0 else self.clicks * 100 / self.served


@dataclass(frozen=True, slots=True)
class AbArm:
    version: str
    served: int
    clicks: int
    ctr_pct: float | None
    purchases: int
    purchase_rate_pct: float | None


@dataclass(frozen=True, slots=True)
class AbTest:
    """The ab_test answer: A (baseline), B (the newer version) and the comparison of their CTRs."""

    a: AbArm
    b: AbArm
    diff_pt: float | None
    ci_low_pt: float | None
    ci_high_pt: float | None
    z: float | None
    p_value: float | None
    sql_verdict: str
    needed_per_arm: int | None


@dataclass(frozen=True, slots=True)
class TenantServed:
    tenant_id: str
    served: int


@dataclass(frozen=True, slots=True)
class Product:
    """Everything the Product screen draws for one tenant over ``days`` UTC days ending ``until``."""

    tenant: str | None
    #: "chosen" (asked for) or "most served" (the default)
    tenant_source: str
    days: int
    until: date
    #: the most served tenants, at most PICKER_LIMIT
    tenants: tuple[TenantServed, ...]
    #: every tenant with served or clicked recommendations in the window (past the limit too)
    tenants_in_window: int = 0
    funnel: tuple[FunnelStep, ...] = ()
    cohorts: tuple[Cohort, ...] = ()
    ctr_days: tuple[date, ...] = ()
    versions: tuple[VersionCtr, ...] = ()
    ab: AbTest | None = None
    verdict: str = ""
    notes: tuple[str, ...] = field(default=())


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def funnel_steps(records: Sequence[Record]) -> tuple[FunnelStep, ...]:
    """The funnel query's rows, in step order."""
    return tuple(
        FunnelStep(
            int(r["step"]),
            str(r["event"]),
            int(r["users"]),
            _f(r["conv_prev_pct"]),
            _f(r["conv_first_pct"]),
            _f(r["median_s_from_prev"]),
        )
        for r in sorted(records, key=lambda r: int(r["step"]))
    )


def _day(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


def cohorts(records: Sequence[Record]) -> tuple[Cohort, ...]:
    """The retention query's rows (a row per cohort and week) as one row per cohort, oldest first."""
    by_week: dict[date, dict[int, Record]] = {}
    for r in records:
        by_week.setdefault(_day(r["cohort_week"]), {})[int(r["week"])] = r
    out = []
    for week in sorted(by_week):
        rows = by_week[week]
        last = max(rows)
        out.append(
            Cohort(
                week,
                int(rows[min(rows)]["users"]),
                tuple(_f(rows[n]["returned_pct"]) if n in rows else None for n in range(last + 1)),
                tuple(int(rows[n]["returned"]) if n in rows else 0 for n in range(last + 1)),
            )
        )
    return tuple(out)


def tenants_by_served(records: Sequence[Record]) -> tuple[tuple[TenantServed, ...], int]:
    """The product_tenants answer: its tenants, most served first, and how many have events in all."""
    tenants = tuple(TenantServed(str(r["tenant_id"]), int(r["served"])) for r in records)
    return tenants, (int(records[0]["tenants_in_window"]) if records else 0)


def version_ctr(records: Sequence[Record], tenant: str, days: Sequence[date]) -> tuple[VersionCtr, ...]:
    """One tenant's CTR per version and day, newest version first (see the module's docstring).

    A version with clicks but nothing served in the window (clicks on older recommendations) is
    kept in the lines but never picked for the A/B test."""
    per: dict[str, dict[date, tuple[int, int]]] = {}
    for r in records:
        if str(r["tenant_id"]) != tenant:
            continue
        per.setdefault(str(r["model_version"]), {})[_day(r["date"])] = (int(r["served"]), int(r["clicks"]))
    out = []
    for version, by_day in per.items():
        served = sum(s for s, _ in by_day.values())
        clicks = sum(c for _, c in by_day.values())
        first = min((d for d, (s, _) in by_day.items() if s > 0), default=max(by_day))
        ctr = tuple((by_day[d][1] * 100 / by_day[d][0]) if d in by_day and by_day[d][0] > 0 else None for d in days)
        out.append(VersionCtr(version, served, clicks, first, ctr))
    # newest first: the latest first-served day (no served at all sorts last), then the name
    out.sort(key=lambda v: (v.served > 0, v.first_day, v.version), reverse=True)
    return tuple(out)


def newest_two(versions: Sequence[VersionCtr]) -> tuple[str, str] | None:
    """(A, B): the baseline and the newer of the two most recent versions that served, or None."""
    serving = [v.version for v in versions if v.served > 0]
    return (serving[1], serving[0]) if len(serving) >= 2 else None


def ab_test(records: Sequence[Record]) -> AbTest:
    """The ab_test query's three rows (arm A, arm B, 'B - A')."""
    rows = {str(r["arm"]): r for r in records}
    a, b, d = rows["A"], rows["B"], rows["B - A"]

    def arm(r: Record) -> AbArm:
        return AbArm(
            str(r["model_version"]),
            int(r["served"] or 0),
            int(r["clicks"] or 0),
            _f(r["ctr_pct"]),
            int(r["purchases"] or 0),
            _f(r["purchase_rate_pct"]),
        )

    needed = d.get("needed_per_arm")
    return AbTest(
        arm(a),
        arm(b),
        _f(d["diff_pt"]),
        _f(d["ci_low_pt"]),
        _f(d["ci_high_pt"]),
        _f(d["z"]),
        _f(d["p_value"]),
        str(d["verdict"] or ""),
        None if needed is None else int(needed),
    )


def short_count(n: float) -> str:
    """980, 1.2k, 41k, 1.2M: a count in at most four characters."""
    if n < 1000:
        return f"{n:.0f}"
    if n < 9950:
        return f"{n / 1000:.1f}k"
    if n < 999_500:
        return f"{n / 1000:.0f}k"
    return f"{n / 1e6:.1f}M"


def _pt(v: float) -> str:
    return f"{v:+.1f}"


def _served(first: int, second: int) -> str:
    a, b = short_count(first), short_count(second)
    return f"{a} served each" if a == b else f"{a} and {b} served"


def verdict(ab: AbTest | None, versions: Sequence[VersionCtr], days: int) -> str:
    """The A/B test in one sentence, the issue's style: "v7 beats v6 by +0.8 pt CTR (95 % CI +0.3 to
    +1.3), 41k served each"; or why there is no verdict."""
    serving = [v.version for v in versions if v.served > 0]
    if ab is None:
        if not serving:
            return f"no recommendations served in the {days} days: no A/B test"
        return f"only {serving[0]} served in the {days} days: no A/B test"
    a, b = ab.a, ab.b
    for arm in (b, a):
        if arm.served == 0:
            return f"{arm.version} has no traffic in the {days} days: no A/B test"
    if ab.sql_verdict.startswith("not testable"):
        return f"{b.version} against {a.version}: {ab.sql_verdict}"
    few = [x for x in (b, a) if min(x.clicks, x.served - x.clicks) < MIN_CLICKS]
    if few:
        arms = ", ".join(f"{x.version} {x.clicks} clicks of {x.served} served" for x in (b, a))
        return (
            f"too few served to say whether {b.version} or {a.version} does better "
            f"({arms}; the test needs {MIN_CLICKS} clicks in each)"
        )
    assert ab.diff_pt is not None and ab.ci_low_pt is not None and ab.ci_high_pt is not None
    if ab.sql_verdict.endswith(" beats " + a.version):  # B wins
        return (
            f"{b.version} beats {a.version} by {_pt(ab.diff_pt)} pt CTR "
            f"(95 % CI {_pt(ab.ci_low_pt)} to {_pt(ab.ci_high_pt)}), {_served(b.served, a.served)}"
        )
    if ab.sql_verdict.endswith(" beats " + b.version):  # A wins: the difference A - B
        return (
            f"{a.version} beats {b.version} by {_pt(-ab.diff_pt)} pt CTR "
            f"(95 % CI {_pt(-ab.ci_high_pt)} to {_pt(-ab.ci_low_pt)}), {_served(a.served, b.served)}"
        )
    needed = "" if ab.needed_per_arm is None else f"; {short_count(ab.needed_per_arm)} each would detect it"
    return (
        f"no significant difference between {b.version} and {a.version} ({_pt(ab.diff_pt)} pt CTR, "
        f"95 % CI {_pt(ab.ci_low_pt)} to {_pt(ab.ci_high_pt)}), {_served(b.served, a.served)}{needed}"
    )
