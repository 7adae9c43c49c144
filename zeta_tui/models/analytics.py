"""What a platform lead reads from the usage and cost tables: windows, sorting, recommendations.

Pure functions over the catalog queries' records (dicts keyed by the column names of
queries/clickhouse/catalog/*.sql), so every figure and every sentence can be tested without a
database.

Recommendations (the Cost screen's plain words):

- a service whose cost per call rose more than ``COST_RISE_PCT`` week over week: the last
  7 days up to ``until`` against the 7 before, each as total cost / total calls (a ratio of
  sums, so a quiet day does not weigh like a busy one);
- a tenant whose cost to serve, scaled to a 30-day month, exceeds its monthly revenue (MRR);
- a tenant whose calls this month, projected to the month's end, pass its plan's quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Record = Mapping[str, Any]

#: Week-over-week rise of a service's cost per call that earns a recommendation.
COST_RISE_PCT = 20.0
#: Analysis windows the Tenants and Cost screens cycle through (days, ending today).
WINDOWS_DAYS = (7, 30, 1)


@dataclass(frozen=True)
class Recommendation:
    """One finding in plain words; ``severity`` is "warning" or "info" (shown as a word too)."""

    severity: str
    subject: str
    text: str


def next_window(days: int) -> int:
    """The window after ``days`` in WINDOWS_DAYS (7 -> 30 -> 1 -> 7)."""
    i = WINDOWS_DAYS.index(days) if days in WINDOWS_DAYS else -1
    return WINDOWS_DAYS[(i + 1) % len(WINDOWS_DAYS)]


def window_text(days: int, until: date) -> str:
    """ "last 7 days (Nov 21 – Nov 27)" for the window of ``days`` ending on ``until``."""
    first = until - timedelta(days=days - 1)
    span = f"{until:%b %d}" if days == 1 else f"{first:%b %d} – {until:%b %d}"
    return f"{'today' if days == 1 else f'last {days} days'} ({span})"


def as_date(value: Any) -> date:
    """A date from what a query returns (a date, or 'YYYY-MM-DD' text from JSON output)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _pct_rise(before: float, after: float) -> float:
    return (after - before) / before * 100.0


def _per_call(rows: Iterable[Record]) -> tuple[float, int]:
    cost, calls = 0.0, 0
    for r in rows:
        cost += float(r["cost_usd"])
        calls += int(r["api_calls"])
    return cost, calls


def cost_per_call_rises(
    rows: Sequence[Record], until: date, threshold_pct: float = COST_RISE_PCT
) -> list[Recommendation]:
    """Services whose cost per call over the 7 days to ``until`` is > threshold above the 7 before.

    ``rows`` are daily_cost / cost_per_call records (date, service, cost_usd, api_calls).
    """
    this_week = {until - timedelta(days=i) for i in range(7)}
    last_week = {until - timedelta(days=i) for i in range(7, 14)}
    found = []
    for service in sorted({str(r["service"]) for r in rows}):
        mine = [r for r in rows if r["service"] == service]
        now_cost, now_calls = _per_call(r for r in mine if as_date(r["date"]) in this_week)
        was_cost, was_calls = _per_call(r for r in mine if as_date(r["date"]) in last_week)
        if not now_calls or not was_calls or not was_cost:
            continue
        now, was = now_cost / now_calls, was_cost / was_calls
        rise = _pct_rise(was, now)
        if rise > threshold_pct:
            found.append(
                Recommendation(
                    "warning",
                    service,
                    f"{service}: cost per call rose {rise:.0f} % week over week "
                    f"({money(was, per_call=True)} → {money(now, per_call=True)} a call; "
                    f"{money(now_cost)} over the last 7 days). Check what changed in its unit costs or its traffic "
                    "mix.",
                )
            )
    return found


def tenants_costing_more_than_mrr(rows: Sequence[Record]) -> list[Recommendation]:
    """Tenants whose monthly cost to serve exceeds their MRR (cost_per_tenant records), worst first."""
    found = []
    for r in sorted(rows, key=lambda r: -float(r["cost_to_mrr_pct"] or 0)):
        mrr, monthly = float(r["mrr_usd"]), float(r["monthly_cost_usd"])
        if mrr > 0 and monthly > mrr:
            found.append(
                Recommendation(
                    "warning",
                    str(r["tenant_id"]),
                    f"{r['tenant_id']} ({r['name']}, {r['plan']}) costs {money(monthly)} a month to serve against "
                    f"{money(mrr)} MRR ({float(r['cost_to_mrr_pct']):.0f} %): review its plan or its usage.",
                )
            )
    return found


def tenants_heading_over_quota(rows: Sequence[Record]) -> list[Recommendation]:
    """Tenants whose projected calls this month pass their quota (quota_utilization records)."""
    found = []
    for r in rows:
        projected, used = float(r["projected_pct"] or 0), float(r["used_pct"] or 0)
        if projected > 100:
            already = "is over" if used >= 100 else "will pass"
            found.append(
                Recommendation(
                    "info",
                    str(r["tenant_id"]),
                    f"{r['tenant_id']} ({r['plan']}) {already} its monthly quota of "
                    f"{count_text(int(r['monthly_quota_calls']))} calls ({used:.0f} % used, "
                    f"{projected:.0f} % projected by month end): an upsell, or a rate-limit conversation.",
                )
            )
    return found


def recommendations(
    cost_rows: Sequence[Record], tenant_rows: Sequence[Record], quota_rows: Sequence[Record], until: date
) -> list[Recommendation]:
    """Every finding, warnings first (services, then tenants), then quota notes."""
    return [
        *cost_per_call_rises(cost_rows, until),
        *tenants_costing_more_than_mrr(tenant_rows),
        *tenants_heading_over_quota(quota_rows),
    ]


# --- formatting ----------------------------------------------------------------------------


def money(value: float, *, per_call: bool = False) -> str:
    """$1,234 / $12.40 / $0.00042 (a call's cost keeps its significant digits)."""
    if per_call or abs(value) < 1:
        return f"${value:.2g}" if value < 0.01 else f"${value:.4f}".rstrip("0").rstrip(".")
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def count_text(n: float) -> str:
    """1,234 below ten thousand, then 12.3k, 4.56M."""
    n = float(n)
    if abs(n) < 10_000:
        return f"{n:,.0f}"
    if abs(n) < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def bytes_text(n: float) -> str:
    """Bytes in binary units (KiB, MiB, GiB)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


def pct_text(value: Any, digits: int = 2) -> str:
    """ "0.42 %", or a dash for no value."""
    if value is None or value != value:
        return "—"
    return f"{float(value):.{digits}f} %"


def is_numeric_type(kind: str) -> bool:
    """Is a ClickHouse type a number (drawn right-aligned)? Nullable(...) and LowCardinality(...)
    count by their inner type."""
    inner = kind
    while inner.startswith(("Nullable(", "LowCardinality(")):
        inner = inner[inner.index("(") + 1 : -1]
    return inner.startswith(("UInt", "Int", "Float", "Decimal"))


def query_cost_text(rows: int, elapsed_s: float, rows_read: int | None, bytes_read: int | None) -> str:
    """What a query returned and cost: "10 rows in 0.033 s, read 2.73M rows (25.0 MiB)"."""
    text = f"{rows:,} row{'s' if rows != 1 else ''} in {elapsed_s:.3f} s"
    if rows_read is not None:
        text += f", read {count_text(rows_read)} rows"
        if bytes_read is not None:
            text += f" ({bytes_text(bytes_read)})"
    return text


# --- sorting and filtering the Tenants table ----------------------------------------------------

#: Sort keys of the Tenants table: (label, column, descending).
TENANT_SORTS = (
    ("requests", "requests", True),
    ("error rate", "error_rate_pct", True),
    ("p95", "p95_ms", True),
    ("bytes", "bytes", True),
    ("quota used", "quota_used_pct", True),
    ("tenant", "tenant_id", False),
)


def sort_tenants(rows: Sequence[Record], sort_index: int) -> list[Record]:
    """``rows`` ordered by TENANT_SORTS[sort_index]; ties by tenant id, so the order is stable."""
    _, column, descending = TENANT_SORTS[sort_index % len(TENANT_SORTS)]

    def key(r: Record) -> tuple[str | float, str]:
        v = r.get(column)
        if isinstance(v, str):
            return (v, str(r["tenant_id"]))
        v = float(v) if v is not None and v == v else float("-inf")
        return (-v if descending else v, str(r["tenant_id"]))

    return sorted(rows, key=key)


def filter_tenants(rows: Sequence[Record], text: str) -> list[Record]:
    """Rows whose tenant id, name or plan contains ``text`` (case-insensitive; every word must match)."""
    words = text.lower().split()
    if not words:
        return list(rows)
    return [
        r for r in rows if all(w in f"{r['tenant_id']} {r.get('name', '')} {r.get('plan', '')}".lower() for w in words)
    ]
