"""Hand-built product events and an independent Python reference for the product queries.

The reference is written from the definitions in docs/product-analytics.md and the queries'
headers, with loops over the event rows: no SQL, no windowFunnel. Events are dicts with
``ts`` (unix milliseconds, UTC), ``tenant_id``, ``user_id``, ``session_id``, ``event``,
``item_id`` and ``model_version``; ``row`` turns one into what the events table takes.

The names are not the demo's: tenants ``northwind``, ``globex-eu`` and ``initech`` (which has
no purchases), model versions ``rec-2025.11``, ``rec-2026.01`` and ``ranker-x``.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

PRODUCT_QUERIES = ("funnel", "retention", "ctr", "product_tenants", "ab_test", "top_items")

SERVED, CLICKED, CART, PURCHASED, SESSION = (
    "recommendation_served",
    "recommendation_clicked",
    "item_added_to_cart",
    "purchase_completed",
    "session_started",
)
STEPS = (SERVED, CLICKED, CART, PURCHASED)
TENANTS = ("northwind", "globex-eu", "initech")
VERSIONS = ("rec-2025.11", "rec-2026.01", "ranker-x")
#: The last day of the data: windows of 14 and 30 days cross the January/February boundary.
LAST_DAY = date(2026, 2, 10)
Z_ALPHA = 1.959963984540054  # the 0.975 quantile of the standard normal
Z_BETA = 0.8416212335729143  # its 0.8 quantile


def ms(text: str) -> int:
    """'2026-01-31 23:50:00.250' (UTC) as unix milliseconds."""
    return round(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def day_of(ts: int) -> date:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).date()


def row(e: dict) -> dict:
    """An event as the events table takes it (JSONEachRow): the time as 'seconds.millis', time-zone free."""
    return {
        "event_time": f"{e['ts'] // 1000}.{e['ts'] % 1000:03d}",
        "tenant_id": e["tenant_id"],
        "user_id": e["user_id"],
        "session_id": e.get("session_id", ""),
        "event": e["event"],
        "item_id": e.get("item_id", ""),
        "model_version": e.get("model_version", ""),
        "properties": e.get("properties", {}),
    }


def _ev(tenant: str, user: str, event: str, when: str, version: str = "rec-2026.01", item: str = "") -> dict:
    return {
        "ts": ms(when),
        "tenant_id": tenant,
        "user_id": user,
        "event": event,
        "model_version": version,
        "item_id": item,
    }


def edge_events() -> list[dict]:
    """The issue's edge cases, by hand (each commented), then plausible random traffic around them."""
    t = "northwind"
    out = [
        # steps spanning midnight and the January/February boundary
        _ev(t, "u-midnight", SERVED, "2026-01-31 23:50:00.000", item="sku-1"),
        _ev(t, "u-midnight", CLICKED, "2026-02-01 00:05:00.250", item="sku-1"),
        _ev(t, "u-midnight", CART, "2026-02-01 00:20:00.000", item="sku-1"),
        _ev(t, "u-midnight", PURCHASED, "2026-02-01 00:40:00.000", item="sku-1"),
        # a step repeated: two clicks, two carts (the first of each counts for the time)
        _ev(t, "u-repeat", SERVED, "2026-02-08 10:00:00.000", item="sku-2"),
        _ev(t, "u-repeat", CLICKED, "2026-02-08 10:01:00.000", item="sku-2"),
        _ev(t, "u-repeat", CLICKED, "2026-02-08 10:02:00.000", item="sku-2"),
        _ev(t, "u-repeat", CART, "2026-02-08 10:03:00.000", item="sku-2"),
        _ev(t, "u-repeat", CART, "2026-02-08 10:04:00.000", item="sku-2"),
        _ev(t, "u-repeat", PURCHASED, "2026-02-08 10:09:00.000", item="sku-2"),
        # a click at the very millisecond of its served
        _ev(t, "u-tie", SERVED, "2026-02-09 12:00:00.000", item="sku-3"),
        _ev(t, "u-tie", CLICKED, "2026-02-09 12:00:00.000", item="sku-3"),
        # the first served's window misses the cart; a later served's catches it
        _ev(t, "u-restart", SERVED, "2026-02-05 00:00:00.000", item="sku-4"),
        _ev(t, "u-restart", SERVED, "2026-02-05 05:00:00.000", item="sku-4"),
        _ev(t, "u-restart", CLICKED, "2026-02-05 10:00:00.000", item="sku-4"),
        _ev(t, "u-restart", CART, "2026-02-06 04:00:00.000", item="sku-4"),
        # a purchase 25 hours after the served: outside a 24 h window, inside a 48 h one
        _ev(t, "u-late", SERVED, "2026-02-07 08:00:00.000", item="sku-5"),
        _ev(t, "u-late", CLICKED, "2026-02-07 09:00:00.000", item="sku-5"),
        _ev(t, "u-late", CART, "2026-02-07 10:00:00.000", item="sku-5"),
        _ev(t, "u-late", PURCHASED, "2026-02-08 09:00:00.000", item="sku-5"),
        # steps in the wrong order (a purchase before the served): level 1 only
        _ev(t, "u-backwards", PURCHASED, "2026-02-09 08:00:00.000", item="sku-6"),
        _ev(t, "u-backwards", CART, "2026-02-09 08:30:00.000", item="sku-6"),
        _ev(t, "u-backwards", SERVED, "2026-02-09 09:00:00.000", item="sku-6"),
        # a click without any served: not in the funnel at all
        _ev(t, "u-noserve", CLICKED, "2026-02-09 09:00:00.000", item="sku-7"),
    ]
    rng = random.Random(17)
    start = ms("2026-01-01 00:00:00.000")
    span = ms("2026-02-11 00:00:00.000") - start
    # click and purchase propensities by tenant and version: initech never buys
    ctr = {"rec-2025.11": 0.30, "rec-2026.01": 0.40, "ranker-x": 0.20}
    buy = {"northwind": 0.5, "globex-eu": 0.3, "initech": 0.0}
    for tenant in TENANTS:
        for u in range(25):
            user = f"{tenant[:2]}-{u:02d}"
            for _ in range(rng.randint(1, 6)):
                at = start + rng.randrange(span)
                session = f"s-{rng.getrandbits(32):08x}"
                out.append({**_ev(tenant, user, SESSION, "2026-01-01 00:00:00", ""), "ts": at, "session_id": session})
                version = rng.choice(VERSIONS[:2] if tenant != "initech" else VERSIONS)
                for _ in range(rng.randint(1, 4)):
                    at += rng.randint(1, 600_000)
                    item = f"sku-{rng.randint(1, 12)}"
                    out.append({**_ev(tenant, user, SERVED, "2026-01-01", version, item), "ts": at})
                    if rng.random() < ctr[version]:
                        at += rng.randint(0, 3_600_000)
                        out.append({**_ev(tenant, user, CLICKED, "2026-01-01", version, item), "ts": at})
                        if rng.random() < 0.6:
                            at += rng.randint(0, 7_200_000)
                            out.append({**_ev(tenant, user, CART, "2026-01-01", version, item), "ts": at})
                            if rng.random() < buy[tenant]:
                                at += rng.randint(0, 30 * 3_600_000)  # some beyond 24 h
                                out.append({**_ev(tenant, user, PURCHASED, "2026-01-01", version, item), "ts": at})
    # an A/B difference large enough to be significant: globex-eu's ranker-x at 10 % CTR in February
    for i in range(300):
        at = ms("2026-02-02 00:00:00.000") + i * 600_000
        user, item = f"gl-ab-{i % 30:02d}", f"sku-{i % 5 + 1}"
        out.append({**_ev("globex-eu", user, SERVED, "2026-01-01", "ranker-x", item), "ts": at})
        if i % 10 == 0:
            out.append({**_ev("globex-eu", user, CLICKED, "2026-01-01", "ranker-x", item), "ts": at + 30_000})
    # unequal arms, where a pooled SE and the unpooled one disagree (pooled |z| 1.86, unpooled 2.29):
    # initech's two-tower-a, 4,000 served at 10 % CTR, against two-tower-b, 200 served at 6 %, Feb 4-10
    for arm, served, clicks in (("two-tower-a", 4000, 400), ("two-tower-b", 200, 12)):
        for i in range(served):
            at = ms("2026-02-04 00:00:00.000") + i * (6 * 86_400_000 // served)
            user, item = f"in-{arm[-1]}-{i % 97:02d}", f"sku-{i % 7 + 1}"
            out.append({**_ev("initech", user, SERVED, "2026-01-01", arm, item), "ts": at})
            if i * clicks // served != (i + 1) * clicks // served:
                out.append({**_ev("initech", user, CLICKED, "2026-01-01", arm, item), "ts": at + 45_000})
    for e in out:
        e.setdefault("session_id", "")
    rng.shuffle(out)  # inserted out of order
    return out


# --- the reference ----------------------------------------------------------------------


def _in_days(ts: int, days: int, until: date) -> bool:
    return until - timedelta(days=days - 1) <= day_of(ts) <= until


def _lower_median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def funnel(events: Iterable[dict], tenant: str, days: int, until: date, window_hours: int = 24) -> list[dict]:
    """Per step: users reaching it, conversions, and the median seconds from the step before (the doc's definition)."""
    window = window_hours * 3_600_000
    per_user: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for e in events:
        if e["tenant_id"] == tenant and e["event"] in STEPS and _in_days(e["ts"], days, until):
            per_user[e["user_id"]][e["event"]].append(e["ts"])
    levels: list[int] = []
    deltas: dict[int, list[float]] = {2: [], 3: [], 4: []}
    for times in per_user.values():
        best: list[int] = []
        for start in sorted(times[SERVED]):
            chain = [start]
            for step in STEPS[1:]:
                nxt = [t for t in sorted(times[step]) if chain[-1] <= t <= start + window]
                if not nxt:
                    break
                chain.append(nxt[0])
            if len(chain) > len(best):  # the earliest start reaching the furthest step
                best = chain
        levels.append(len(best))
        for k in range(2, len(best) + 1):
            deltas[k].append((best[k - 1] - best[k - 2]) / 1000)
    users = [sum(1 for lv in levels if lv >= k) for k in (1, 2, 3, 4)]
    out = []
    for k in (1, 2, 3, 4):
        prev = users[k - 2] if k > 1 else 0
        out.append(
            {
                "step": k,
                "event": STEPS[k - 1],
                "users": users[k - 1],
                "conv_prev_pct": None if k == 1 or prev == 0 else users[k - 1] * 100 / prev,
                "conv_first_pct": None if users[0] == 0 else users[k - 1] * 100 / users[0],
                "median_s_from_prev": None if k == 1 or users[k - 1] == 0 else _lower_median(deltas[k]),
            }
        )
    return out


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def retention(events: Iterable[dict], tenant: str, weeks: int, until: date) -> list[dict]:
    sessions: dict[str, list[date]] = defaultdict(list)
    for e in events:
        if e["tenant_id"] == tenant and e["event"] == SESSION and day_of(e["ts"]) <= until:
            sessions[e["user_id"]].append(day_of(e["ts"]))
    last = _monday(until)
    oldest = last - timedelta(weeks=weeks)
    cohorts: dict[date, list[set[date]]] = defaultdict(list)
    for days in sessions.values():
        cohort = _monday(min(days))
        if cohort > oldest:
            cohorts[cohort].append({_monday(d) for d in days})
    out = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        for week in range((last - cohort).days // 7 + 1):
            back = sum(1 for active in members if cohort + timedelta(weeks=week) in active)
            out.append(
                {
                    "cohort_week": cohort,
                    "users": len(members),
                    "week": week,
                    "returned": back,
                    "returned_pct": back * 100 / len(members),
                }
            )
    return out


def ctr(events: Iterable[dict], tenant: str, days: int, until: date) -> list[dict]:
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for e in events:
        if (tenant in ("", e["tenant_id"])) and _in_days(e["ts"], days, until) and e["event"] in (SERVED, CLICKED):
            counts[(day_of(e["ts"]), e["tenant_id"], e["model_version"])][e["event"] == CLICKED] += 1
    return [
        {
            "date": d,
            "tenant_id": t,
            "model_version": v,
            "served": s,
            "clicks": c,
            "ctr_pct": None if s == 0 else c * 100 / s,
        }
        for (d, t, v), (s, c) in sorted(counts.items())
    ]


def product_tenants(events: Iterable[dict], days: int, until: date, limit: int) -> list[dict]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in events:
        if _in_days(e["ts"], days, until) and e["event"] in (SERVED, CLICKED):
            counts[e["tenant_id"]][e["event"] == CLICKED] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [
        {"tenant_id": t, "served": s, "clicks": c, "tenants_in_window": len(counts)} for t, (s, c) in ranked[:limit]
    ]


def ab_test(events: Iterable[dict], tenant: str, version_a: str, version_b: str, days: int, until: date) -> list[dict]:
    n = {version_a: [0, 0, 0], version_b: [0, 0, 0]}
    for e in events:
        wanted = e["event"] in (SERVED, CLICKED, PURCHASED) and e["model_version"] in n
        if wanted and e["tenant_id"] == tenant and _in_days(e["ts"], days, until):
            n[e["model_version"]][(SERVED, CLICKED, PURCHASED).index(e["event"])] += 1
    (na, xa, _), (nb, xb, _) = n[version_a], n[version_b]
    arms = []
    for arm, version, (s, c, b) in (("A", version_a, n[version_a]), ("B", version_b, n[version_b])):
        arms.append(
            {
                "arm": arm,
                "model_version": version,
                "served": s,
                "clicks": c,
                "ctr_pct": None if s == 0 else c * 100 / s,
                "purchases": b,
                "purchase_rate_pct": None if s == 0 else b * 100 / s,
                "diff_pt": None,
                "ci_low_pt": None,
                "ci_high_pt": None,
                "z": None,
                "p_value": None,
                "verdict": "no data" if s == 0 else "",
                "needed_per_arm": None,
            }
        )
    cmp = {k: None for k in arms[0]}
    cmp.update(arm="B - A", model_version=f"{version_b} - {version_a}", verdict="")
    if na == 0 and nb == 0:
        cmp["verdict"] = f"no data: neither {version_a} nor {version_b} served anything"
    elif na == 0 or nb == 0:
        cmp["verdict"] = f"no data: {version_a if na == 0 else version_b} served nothing"
    else:
        pa, pb = xa / na, xb / nb
        diff = pb - pa
        se_sq = pa * (1 - pa) / na + pb * (1 - pb) / nb
        se = math.sqrt(se_sq) if se_sq >= 0 else math.nan
        cmp["diff_pt"] = diff * 100
        if not math.isnan(se):
            cmp["ci_low_pt"], cmp["ci_high_pt"] = (diff - Z_ALPHA * se) * 100, (diff + Z_ALPHA * se) * 100
        if se > 0:
            cmp["z"] = diff / se
            cmp["p_value"] = math.erfc(abs(cmp["z"]) / math.sqrt(2))
        if xa > na or xb > nb:
            cmp["verdict"] = "not testable: an arm counts more clicks than served"
        elif not se > 0:
            cmp["verdict"] = "not testable: each arm's CTR is 0 % or 100 %"
        else:
            if abs(cmp["z"]) >= Z_ALPHA:
                cmp["verdict"] = f"{version_b} beats {version_a}" if diff > 0 else f"{version_a} beats {version_b}"
            else:
                cmp["verdict"] = "no significant difference"
            if diff != 0:
                variance = pa * (1 - pa) + pb * (1 - pb)
                cmp["needed_per_arm"] = math.ceil((Z_ALPHA + Z_BETA) ** 2 * variance / diff**2)
    return [*arms, cmp]


def top_items(events: Iterable[dict], tenant: str, days: int, until: date, limit: int) -> list[dict]:
    counts: dict[tuple, list] = defaultdict(lambda: [0, set()])
    for e in events:
        if (
            tenant in ("", e["tenant_id"])
            and e["event"] in (CLICKED, PURCHASED)
            and _in_days(e["ts"], days, until)
            and e["item_id"]
        ):
            key = (e["tenant_id"], "clicked" if e["event"] == CLICKED else "purchased", e["item_id"])
            counts[key][0] += 1
            counts[key][1].add(e["user_id"])
    groups: dict[tuple, list] = defaultdict(list)
    for (t, kind, item), (n, users) in counts.items():
        groups[(t, kind)].append((-n, item, len(users)))
    out = []
    for (t, kind), items in sorted(groups.items()):
        for rank, (neg, item, users) in enumerate(sorted(items)[:limit], 1):
            out.append({"tenant_id": t, "kind": kind, "rank": rank, "item_id": item, "events": -neg, "users": users})
    return out


def daily_counts(events: Iterable[dict]) -> dict[tuple, int]:
    """Events per (UTC day, tenant, version, event): what zeta_events_daily holds."""
    out: dict[tuple, int] = defaultdict(int)
    for e in events:
        out[(day_of(e["ts"]), e["tenant_id"], e["model_version"], e["event"])] += 1
    return dict(out)
