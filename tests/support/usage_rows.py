"""Deterministic api_usage / tenants / cost_data rows with the cases the world's data lacks.

The world's rows (zeta_tui.demo.usage) are realistic but regular; these add what a careless
query gets wrong: a month boundary inside the windows, latencies at 1,023 / 1,024 ms, above
1,024 ms and above 30 s (quantileTiming's edges), a tenant with usage but no tenants row, a
tenant with no usage, a zero quota and a zero MRR, an unknown plan, tenants and cost rows
re-written later (ReplacingMergeTree keeps the last), and tenant ids an injection would love.
Everything comes from a seeded random generator: the same rows on every run.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

#: the last day of the generated history; windows in the tests end here
LAST_DAY = date(2026, 3, 4)
DAYS = 40  # 2026-01-24 .. 2026-03-04: February and part of January and March
ENDPOINTS = (
    ("GET", "/api/v1/items"),
    ("POST", "/api/v1/recommendations"),
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/users/profile"),
)
STATUSES = (200, 200, 200, 200, 200, 200, 201, 204, 400, 401, 404, 429, 500, 502, 503)

TENANTS_V1 = [
    # tenant_id, name, plan, mrr_usd, monthly_quota_calls
    ("acme", "Acme", "enterprise", 9800.0, 20_000),
    ("bolt", "Bolt", "pro", 1490.0, 6_000),
    ("cask", "Cask", "starter", 299.0, 1_500),
    ("dune", "Dune", "starter", 0.0, 0),  # free: no MRR, no quota
    ("edge", "Edge", "legacy", 120.0, 3_000),  # a plan with no SLA target of its own
    ("idle", "Idle", "pro", 1490.0, 6_000),  # a tenant that made no calls
    ("x' OR 1=1 --", "Quote", "starter", 299.0, 1_500),  # an id an injection would use
]
#: written later: bolt moved to enterprise, cask's quota raised (FINAL must show these)
TENANTS_V2 = [("bolt", "Bolt Inc", "enterprise", 9000.0, 20_000), ("cask", "Cask", "starter", 299.0, 2_500)]
#: calls from a tenant the tenants table does not know
GHOST = "ghost"
_WEIGHTS = {"acme": 8, "bolt": 5, "cask": 3, "dune": 2, "edge": 2, "x' OR 1=1 --": 1, GHOST: 1}


def _latency(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.02:
        return rng.choice((1023, 1024, 1039, 1040))
    if r < 0.05:
        return rng.randint(1025, 8000)
    if r < 0.055:
        return rng.randint(30_000, 45_000)  # beyond quantileTiming's 30 s ceiling
    return rng.randint(3, 900)


def usage_rows(seed: int = 7, last_day: date = LAST_DAY) -> list[dict[str, object]]:
    """api_usage rows in the seed's columns over DAYS days ending on ``last_day`` (timestamps in UTC,
    ``date`` left to its DEFAULT)."""
    rng = random.Random(seed)
    tenants = list(_WEIGHTS)
    weights = [_WEIGHTS[t] for t in tenants]
    rows = []
    first = last_day - timedelta(days=DAYS - 1)
    for d in range(DAYS):
        day = first + timedelta(days=d)
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        for _ in range(rng.randint(60, 140)):
            method, endpoint = rng.choice(ENDPOINTS)
            status = rng.choice(STATUSES)
            rows.append(
                {
                    "timestamp": midnight + rng.randint(0, 86399),
                    "tenant_id": rng.choices(tenants, weights)[0],
                    "api_key_id": f"key_{rng.randint(1, 50):03d}",
                    "endpoint": endpoint,
                    "method": method,
                    "status_code": status,
                    "latency_ms": _latency(rng),
                    "request_size_bytes": rng.randint(0, 2000),
                    "response_size_bytes": rng.randint(40, 20_000),
                }
            )
    # One busy day for one tenant and endpoint: more than 5,672 values, so quantileTiming's
    # histogram (not its exact array) answers, with values above 1,024 ms among them.
    busy = last_day - timedelta(days=2)
    midnight = int(datetime(busy.year, busy.month, busy.day, tzinfo=UTC).timestamp())
    for _ in range(6_000):
        rows.append(
            {
                "timestamp": midnight + rng.randint(0, 86399),
                "tenant_id": "acme",
                "api_key_id": "key_900",
                "endpoint": "/api/v1/recommendations",
                "method": "POST",
                "status_code": rng.choice(STATUSES),
                "latency_ms": rng.choice((rng.randint(5, 1023), rng.randint(1024, 3000), rng.randint(1024, 40_000))),
                "request_size_bytes": rng.randint(400, 1600),
                "response_size_bytes": rng.randint(2000, 14_000),
            }
        )
    rng.shuffle(rows)
    return rows


#: Lifecycles the world lacks: (created_at, ended_at) by tenant, the others started in 2024 and never ended.
#: "edge" (the only "legacy" tenant: its plan has no customer after) ended inside the windows though it still
#: calls; "idle" ended late on a day; "fern" started on LAST_DAY itself; "gone" started and ended in the 90 days.
LIFECYCLES = {
    "edge": (datetime(2023, 2, 1, 9, tzinfo=UTC), datetime(2026, 2, 20, 16, 30, tzinfo=UTC)),
    "idle": (datetime(2024, 8, 1, tzinfo=UTC), datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)),
    "fern": (datetime(2026, 3, 4, 10, 15, tzinfo=UTC), None),
    "gone": (datetime(2025, 12, 20, 8, tzinfo=UTC), datetime(2026, 2, 2, 0, 0, 1, tzinfo=UTC)),
}
#: tenants without usage that only the lifecycle queries see
LIFECYCLE_ONLY = [("fern", "Fern", "pro", 1290.0, 6_000), ("gone", "Gone", "starter", 310.0, 1_500)]


def tenant_rows(version: int = 1) -> list[dict[str, object]]:
    source = [*TENANTS_V1, *LIFECYCLE_ONLY] if version == 1 else TENANTS_V2
    created = datetime(2024, 5, 1, tzinfo=UTC)
    rows = []
    for i, (t, n, p, m, q) in enumerate(source):
        start, end = LIFECYCLES.get(t, (created + timedelta(days=i * 17), None))
        rows.append(
            {
                "tenant_id": t,
                "name": n,
                "plan": p,
                "mrr_usd": m,
                "monthly_quota_calls": q,
                "created_at": int(start.timestamp()),
                "ended_at": None if end is None else int(end.timestamp()),
            }
        )
    return rows


def cost_rows(seed: int = 11, rewrite: bool = False, last_day: date = LAST_DAY) -> list[dict[str, object]]:
    """cost_data rows per (date, service, tenant); ``rewrite``: a later batch re-writing some of the same keys."""
    rng = random.Random(seed + (1 if rewrite else 0))
    rows = []
    first = last_day - timedelta(days=DAYS - 1)
    for d in range(DAYS):
        day = first + timedelta(days=d)
        for service in ("backend-api", "auth", "ml-engine"):
            for tenant in ("acme", "bolt", "cask", "dune", GHOST):
                if rewrite and rng.random() > 0.2:
                    continue
                calls = rng.randint(0, 400)
                rows.append(
                    {
                        "date": day.isoformat(),
                        "service": service,
                        "tenant_id": tenant,
                        "cost_usd": round(calls * rng.uniform(0.0002, 0.006), 6),
                        "api_calls": calls,
                    }
                )
    return rows
