"""The catalog's reference: every named query computed in plain Python over the rows a test inserted.

Shared by the catalog tests on zeta's own schema (tests/test_analytics_catalog.py) and on
databases made by the seed's DDL (tests/test_analytics_seed.py). The reference shares no code
with zeta_tui: sums with fractions, averages as sum/count, and quantileTiming re-implemented
from its source (src/AggregateFunctions/QuantileTiming.h): up to 5,671 values it is exact (the
value at index floor(n * level) of the sorted values, each capped at 30,000 ms); above 5,672 a
histogram answers, exact below 1,024 ms, in 16 ms buckets above (a bucket reports its start +
8 ms, moved by intHash32 of its index), the first value whose running count reaches
ceil(n * level). At exactly 5,672 values the state depends on how parts merged; either answer
is accepted there.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from zeta_tui.backends.analytics import AnalyticsSource

if TYPE_CHECKING:
    from tests.support.analytics_store import AnalyticsDatabase

LEVELS = (0.5, 0.95, 0.99)
_M64 = 2**64 - 1


# --- quantileTiming, from its source ----------------------------------------------------


def _int_hash32(key: int, salt: int = 0) -> int:
    """ClickHouse's intHash32<salt> (src/Common/HashTable/Hash.h); QuantileTiming uses salt 0."""
    key = (key ^ salt) & _M64
    key = (~key + (key << 18)) & _M64
    key ^= (key >> 31) | ((key << 33) & _M64)
    key = (key * 21) & _M64
    key ^= (key >> 11) | ((key << 53) & _M64)
    key = (key + (key << 6)) & _M64
    key ^= (key >> 22) | ((key << 42) & _M64)
    return key & 0xFFFFFFFF


def _exact(values: list[int], level: float) -> float:
    ordered = sorted(min(v, 30_000) for v in values)
    return float(ordered[int(len(ordered) * level)] if level < 1 else ordered[-1])


def _histogram(values: list[int], level: float) -> float:
    pos = math.ceil(len(values) * level)
    counts: dict[int, int] = defaultdict(int)  # histogram slot -> count (slots 0..1023 exact, then 16 ms buckets)
    for v in values:
        if v < 1024:
            counts[v] += 1
        elif v < 30_000:
            counts[1024 + (v - 1024) // 16] += 1
    running = 0
    for slot in sorted(counts):
        running += counts[slot]
        if running >= pos:
            if slot < 1024:
                return float(slot)
            i = slot - 1024
            return float(i * 16 + 1024 + _int_hash32(i) % 16 - 8)
    return 30_000.0


def timing_quantiles(values: list[int]) -> list[set[float]]:
    """The p50, p95, p99 quantileTiming gives for ``values`` (a set: two candidates at exactly 5,672 values)."""
    n = len(values)
    out = []
    for level in LEVELS:
        candidates = set()
        if n <= 5672:
            candidates.add(_exact(values, level))
        if n >= 5672:
            candidates.add(_histogram(values, level))
        out.append(candidates)
    return out


# --- the reference data set ---------------------------------------------------------------


class Reference:
    """The rows as inserted, with what FINAL and the rollup should make of them."""

    def __init__(self, usage: list[dict], tenant_batches: list[list[dict]], cost_batches: list[list[dict]]) -> None:
        self.usage = [(datetime.fromtimestamp(int(r["timestamp"]), tz=UTC).date(), r) for r in usage]
        self.tenants: dict[str, dict] = {}
        for batch in tenant_batches:
            for r in batch:
                self.tenants[r["tenant_id"]] = r  # ReplacingMergeTree: the last insert wins
        self.cost: dict[tuple, dict] = {}
        for batch in cost_batches:
            for r in batch:
                self.cost[(_day(r["date"]), r["service"], r["tenant_id"])] = r

    def tenant(self, tenant_id: str) -> tuple[str, str, int, float]:
        """(name, plan, quota, mrr) as a LEFT JOIN without a match gives them: '' and 0."""
        t = self.tenants.get(tenant_id)
        return (t["name"], t["plan"], t["monthly_quota_calls"], float(t["mrr_usd"])) if t else ("", "", 0, 0.0)

    def window(self, days: int, until: date, tenant: str = "") -> list[dict]:
        start = until - timedelta(days=days)
        return [r for d, r in self.usage if start < d <= until and (not tenant or r["tenant_id"] == tenant)]

    def month(self, until: date) -> list[dict]:
        return [r for d, r in self.usage if until.replace(day=1) <= d <= until]

    def cost_window(self, days: int, until: date) -> list[tuple[date, str, str, dict]]:
        start = until - timedelta(days=days)
        return [(d, s, t, r) for (d, s, t), r in self.cost.items() if start < d <= until]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _by(rows: Iterable[dict], *keys: str) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[tuple(r[k] for k in keys)].append(r)
    return groups


def _errors(rows: list[dict], floor: int = 400) -> int:
    return sum(1 for r in rows if r["status_code"] >= floor)


def _bytes(rows: list[dict]) -> int:
    return sum(r["request_size_bytes"] + r["response_size_bytes"] for r in rows)


def _latencies(rows: list[dict]) -> list[int]:
    return [r["latency_ms"] for r in rows]


def _fsum(values: Iterable[float]) -> float:
    return float(sum((Fraction(v) for v in values), Fraction(0)))


# --- one reference per query ----------------------------------------------------------------


def ref_top_tenants(ref: Reference, days: int, until: date, limit: int, tenant: str) -> list[tuple]:
    month = _by(ref.month(until), "tenant_id")
    out = []
    for (tid,), rows in _by(ref.window(days, until, tenant), "tenant_id").items():
        name, plan, quota, _ = ref.tenant(tid)
        n, e = len(rows), _errors(rows)
        calls = len(month.get((tid,), []))
        out.append(
            (
                tid,
                name,
                plan,
                n,
                e,
                e * 100 / n,
                timing_quantiles(_latencies(rows))[1],
                _bytes(rows),
                quota,
                calls * 100 / quota if quota > 0 else None,
            )
        )
    out.sort(key=lambda r: (-r[3], r[0]))
    return out[:limit]


def ref_error_rate_by_endpoint(ref: Reference, days: int, until: date, min_error_rate_pct: float) -> list[tuple]:
    out = []
    for (endpoint, method), rows in _by(ref.window(days, until), "endpoint", "method").items():
        n, e = len(rows), _errors(rows)
        if e * 100 / n > min_error_rate_pct:
            out.append((endpoint, method, n, e, e * 100 / n, _errors(rows, 500), _errors(rows, 500) * 100 / n))
    out.sort(key=lambda r: (-r[4], -r[2], r[0], r[1]))
    return out


def ref_latency_trend(ref: Reference, days: int, until: date, tenant: str) -> list[tuple]:
    start = until - timedelta(days=days)
    per_day: dict[date, list[int]] = defaultdict(list)
    for d, r in ref.usage:
        if start < d <= until and (not tenant or r["tenant_id"] == tenant):
            per_day[d].append(r["latency_ms"])
    return [(d, len(lat), *timing_quantiles(lat)) for d, lat in sorted(per_day.items())]


def ref_tenant_usage(ref: Reference, tenant: str, days: int, until: date) -> list[tuple]:
    out = []
    for (endpoint, method), rows in _by(ref.window(days, until, tenant), "endpoint", "method").items():
        n, e = len(rows), _errors(rows)
        lat = _latencies(rows)
        out.append((endpoint, method, n, e, e * 100 / n, sum(lat) / n, timing_quantiles(lat)[1], _bytes(rows)))
    out.sort(key=lambda r: (-r[2], r[0], r[1]))
    return out


def ref_requests_over_time(ref: Reference, days: int, until: date, tenant: str) -> list[tuple]:
    start = until - timedelta(days=days)
    counts: dict[tuple, int] = defaultdict(int)
    for d, r in ref.usage:
        if start < d <= until and (not tenant or r["tenant_id"] == tenant):
            counts[(d, r["tenant_id"])] += 1
    return [(d, t, n) for (d, t), n in sorted(counts.items())]


def ref_quota_utilization(ref: Reference, until: date) -> list[tuple]:
    calls = defaultdict(int)
    for r in ref.month(until):
        calls[r["tenant_id"]] += 1
    next_month = (until.replace(day=28) + timedelta(days=4)).replace(day=1)
    days_in_month = (next_month - timedelta(days=1)).day
    out = []
    for tid in ref.tenants:
        name, plan, quota, _ = ref.tenant(tid)
        c = calls.get(tid, 0)
        used = c * 100 / quota if quota > 0 else None
        projected = c / until.day * days_in_month / quota * 100 if quota > 0 else None
        out.append((tid, name, plan, c, quota, used, projected))
    out.sort(key=lambda r: (r[5] is None, -(r[5] or 0), r[0]))
    return out


def ref_daily_cost(ref: Reference, days: int, until: date) -> list[tuple]:
    groups = _by(({"d": d, "s": s, **r} for d, s, _, r in ref.cost_window(days, until)), "d", "s")
    return [
        (d, s, _fsum(r["cost_usd"] for r in rows), sum(r["api_calls"] for r in rows))
        for (d, s), rows in sorted(groups.items())
    ]


def ref_cost_per_call(ref: Reference, days: int, until: date) -> list[tuple]:
    return [
        (d, s, calls, cost, cost / calls if calls else None) for d, s, cost, calls in ref_daily_cost(ref, days, until)
    ]


def ref_cost_per_tenant(ref: Reference, days: int, until: date) -> list[tuple]:
    out = []
    for (tid,), rows in _by((r for *_, r in ref.cost_window(days, until)), "tenant_id").items():
        name, plan, _, mrr = ref.tenant(tid)
        cost, calls = _fsum(r["cost_usd"] for r in rows), sum(r["api_calls"] for r in rows)
        monthly = cost * 30 / days
        out.append(
            (
                tid,
                name,
                plan,
                mrr,
                cost,
                calls,
                cost / calls if calls else None,
                monthly,
                monthly / mrr * 100 if mrr > 0 else None,
            )
        )
    out.sort(key=lambda r: (-r[4], r[0]))
    return out


def ref_mrr_by_plan(ref: Reference) -> list[tuple]:
    now = datetime.now(tz=UTC).timestamp()
    current = [t for t in ref.tenants.values() if t.get("ended_at") is None or t["ended_at"] > now]
    plans = _by(current, "plan")
    out = [
        (plan, len(rows), _fsum(r["mrr_usd"] for r in rows), _fsum(r["mrr_usd"] for r in rows) * 12)
        for (plan,), rows in plans.items()
    ]
    out.sort(key=lambda r: (-r[2], r[0]))
    return out


def ref_sla_compliance(ref: Reference, days: int, until: date) -> list[tuple]:
    targets = {"enterprise": 99.95, "pro": 99.9}
    out = []
    for (tid,), rows in _by(ref.window(days, until), "tenant_id").items():
        name, plan, _, _ = ref.tenant(tid)
        n, e5 = len(rows), _errors(rows, 500)
        availability = (n - e5) * 100 / n
        target = targets.get(plan, 99.0)
        out.append((tid, name, plan, n, e5, availability, target, int(availability >= target)))
    out.sort(key=lambda r: (r[7], r[5], r[0]))
    return out


# --- the Business screen's (tenants' lifecycle: a customer on day d from its start day, until its end day) ---


def _customer(t: dict, d: date) -> bool:
    start = datetime.fromtimestamp(int(t["created_at"]), tz=UTC).date()
    end = None if t.get("ended_at") is None else datetime.fromtimestamp(int(t["ended_at"]), tz=UTC).date()
    return start <= d and (end is None or end > d)


def ref_business_active_tenants(ref: Reference, until: date) -> list[tuple]:
    seen = [(d, r["tenant_id"]) for d, r in ref.usage if until - timedelta(days=60) < d <= until]
    if not seen:
        return []
    first = min(d for d, _ in seen)
    out = []
    for days in (1, 7, 30):
        now = {t for d, t in seen if d > until - timedelta(days=days)}
        before = {t for d, t in seen if until - timedelta(days=2 * days) < d <= until - timedelta(days=days)}
        out.append((days, len(now), len(before), until - timedelta(days=2 * days - 1), first))
    return out


def ref_business_revenue_by_plan(ref: Reference, until: date) -> list[tuple]:
    out = []
    for (plan,), rows in _by(ref.tenants.values(), "plan").items():
        current = [r for r in rows if _customer(r, until)]
        mrr = _fsum(r["mrr_usd"] for r in current)
        out.append((plan, len(current), mrr, mrr * 12))
    out.sort(key=lambda r: (-r[2], r[0]))
    return out


def ref_business_mrr_trend(ref: Reference, days: int, until: date) -> list[tuple]:
    out = []
    for i in range(days - 1, -1, -1):
        d = until - timedelta(days=i)
        for (plan,), rows in sorted(_by(ref.tenants.values(), "plan").items()):
            current = [r for r in rows if _customer(r, d)]
            if current:
                out.append((d, plan, len(current), _fsum(r["mrr_usd"] for r in current)))
    return out


def ref_business_tenant_changes(ref: Reference, days: int, until: date) -> list[tuple]:
    out = []
    for t in ref.tenants.values():
        for change, stamp in (("new", t["created_at"]), ("churned", t.get("ended_at"))):
            if stamp is None:
                continue
            d = datetime.fromtimestamp(int(stamp), tz=UTC).date()
            if until - timedelta(days=days) < d <= until:
                out.append((change, d, t["tenant_id"], t["name"], t["plan"], float(t["mrr_usd"])))
    out.sort(key=lambda r: (-r[1].toordinal(), r[0], r[2]))
    return out


def ref_business_top_tenants(ref: Reference, days: int, until: date, limit: int) -> list[tuple]:
    window = _by((r for d, r in ref.usage if until - timedelta(days=days) <= d <= until), "tenant_id")
    month = _by(ref.month(until), "tenant_id")
    out = []
    for (tid,), rows in window.items():
        t = ref.tenants.get(tid)
        name, plan, quota, mrr = ref.tenant(tid)
        calls = len(month.get((tid,), []))
        ended = int(t is not None and t.get("ended_at") is not None)
        out.append((tid, name, plan, mrr, ended, len(rows), calls, quota, calls * 100 / quota if quota > 0 else None))
    out.sort(key=lambda r: (-r[5], r[0]))
    return out[:limit]


REFERENCES = {
    "top_tenants": ref_top_tenants,
    "error_rate_by_endpoint": ref_error_rate_by_endpoint,
    "latency_trend": ref_latency_trend,
    "tenant_usage": ref_tenant_usage,
    "requests_over_time": ref_requests_over_time,
    "quota_utilization": ref_quota_utilization,
    "daily_cost": ref_daily_cost,
    "cost_per_call": ref_cost_per_call,
    "cost_per_tenant": ref_cost_per_tenant,
    "mrr_by_plan": ref_mrr_by_plan,
    "sla_compliance": ref_sla_compliance,
    "business_active_tenants": ref_business_active_tenants,
    "business_revenue_by_plan": ref_business_revenue_by_plan,
    "business_mrr_trend": ref_business_mrr_trend,
    "business_tenant_changes": ref_business_tenant_changes,
    "business_top_tenants": ref_business_top_tenants,
}


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, set):
        return got in want
    if isinstance(want, float) and got is not None:
        return math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-9)
    return got == want


def assert_rows(name: str, got: list[tuple], want: list[tuple]) -> None:
    assert len(got) == len(want), f"{name}: {len(got)} rows, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w), f"{name} row {i}: {g} vs {w}"
        bad = [(j, a, b) for j, (a, b) in enumerate(zip(g, w)) if not _same(a, b)]
        assert not bad, f"{name} row {i}: got {g}\nexpected {w}\n(column, got, expected): {bad}"


def batches(rows: list, n: int) -> list[list]:
    size = -(-len(rows) // n)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def cases(today: date, busy_tenant: str) -> list[tuple[str, dict]]:
    mid = today - timedelta(days=today.day + 3)  # in the month before: windows cross the boundary
    return [
        ("top_tenants", {}),
        ("top_tenants", {"days": 30, "limit": 3}),
        ("top_tenants", {"days": 1, "until": mid, "limit": 100}),
        ("top_tenants", {"tenant": busy_tenant}),
        ("error_rate_by_endpoint", {}),
        ("error_rate_by_endpoint", {"days": 14, "min_error_rate_pct": 0.0}),
        ("error_rate_by_endpoint", {"days": 30, "min_error_rate_pct": 20.0}),
        ("latency_trend", {}),
        ("latency_trend", {"days": 7, "tenant": busy_tenant}),
        ("latency_trend", {"days": 10, "until": mid}),
        ("tenant_usage", {"tenant": busy_tenant}),
        ("tenant_usage", {"tenant": busy_tenant, "days": 1}),
        ("tenant_usage", {"tenant": "nobody"}),
        ("requests_over_time", {}),
        ("requests_over_time", {"days": 30, "tenant": busy_tenant}),
        ("quota_utilization", {}),
        ("quota_utilization", {"until": mid}),
        ("quota_utilization", {"until": today.replace(day=1)}),
        ("daily_cost", {}),
        ("daily_cost", {"days": 7, "until": mid}),
        ("cost_per_call", {}),
        ("cost_per_call", {"days": 3}),
        ("cost_per_tenant", {}),
        ("cost_per_tenant", {"days": 7}),
        ("cost_per_tenant", {"days": 9, "until": mid}),
        ("mrr_by_plan", {}),
        ("sla_compliance", {}),
        ("sla_compliance", {"days": 2}),
        ("business_active_tenants", {}),
        ("business_active_tenants", {"until": mid}),
        ("business_revenue_by_plan", {}),
        ("business_revenue_by_plan", {"until": mid}),
        ("business_mrr_trend", {}),
        ("business_mrr_trend", {"days": 10, "until": mid}),
        ("business_tenant_changes", {}),
        ("business_tenant_changes", {"days": 60}),
        ("business_top_tenants", {}),
        ("business_top_tenants", {"days": 3, "limit": 2}),
        ("business_top_tenants", {"until": mid, "limit": 100}),
    ]


def run_named(db: AnalyticsDatabase, name: str, params: dict, today: date):
    async def go():
        source = AnalyticsSource(db.config())
        try:
            return await source.named(name, params, today=today)
        finally:
            await source.close()

    return asyncio.run(go())


def expected(ref: Reference, name: str, params: dict, today: date) -> list[tuple]:
    from zeta_tui.querying.sql_catalog import bind, find_query

    bound = bind(find_query(name), params, today=today)
    return REFERENCES[name](ref, **bound)


def check_all(db: AnalyticsDatabase, ref: Reference, today: date, busy_tenant: str) -> dict:
    answers = {}
    for name, params in cases(today, busy_tenant):
        result = run_named(db, name, params, today)
        want = expected(ref, name, params, today)
        assert_rows(f"{name}{params}", result.rows, want)
        answers[(name, repr(params))] = result.rows
    return answers


def nonempty(answers: dict, *, history_from: date) -> None:
    # A reference that is empty everywhere would prove nothing: every case whose window holds
    # data has rows (the world's two days make the cases in the month before empty, as they should be).
    empty = [
        k
        for k, rows in answers.items()
        if not rows and "nobody" not in k[1] and not ("'until': datetime.date" in k[1] and _until(k[1]) < history_from)
    ]
    assert not empty, f"empty answers: {empty}"


def _until(params: str) -> date:
    import re

    y, m, d = re.search(r"'until': datetime.date\((\d+), (\d+), (\d+)\)", params).groups()
    return date(int(y), int(m), int(d))


def same_answers(after: dict, before: dict) -> None:
    # Counts, averages and quantiles are identical; float sums of cost may differ in the last
    # bit, the merge having changed the order of the additions.
    assert after.keys() == before.keys()
    for key in before:
        assert_rows(f"{key} after OPTIMIZE", after[key], before[key])
