"""The world's usage and cost as ClickHouse rows: api_usage, tenants and cost_data (pure, no I/O).

What a row is here, for the demo's embedded store (usage_store.py writes them) and for the tests:

- ``usage_rows(requests)``: one ``api_usage`` row per request of a public service
  (``PUBLIC_SERVICES``: backend-api and auth; ml-engine's ``/internal/*`` calls come from
  backend-api, not from tenants). The row is the request its log line and trace record: same
  tenant, API key, endpoint, method, status and latency, its timestamp cut to the whole second,
  in the seed's columns (``api_key_id``, ``latency_ms``).
  Request and response sizes are not in the log line; they are drawn from the request's
  trace_id, in ranges that fit each endpoint and status (a GET has no body, a recommendation
  list is kilobytes, an error is a short JSON message), so every generation gives the same.
- ``tenant_rows(topology, today)``: the tenants with a made-up company name, plan, MRR, monthly
  quota, start and end: the newest four started 42-88 days before ``today``, three former
  tenants (ids after the topology's) ended 40-86 days before it, so the Business screen's
  90-day revenue trend has arrivals and departures while the 35 days of usage stay consistent.
- ``unit_cost_usd(service, day)`` and ``cost_rows(counts)``: cost_data per (date, service,
  tenant) = the tenant's calls served by the service that day x the service's unit cost that
  day. A tenant's ml-engine calls are its POST /api/v1/recommendations calls.

Sampling. The demo records 1 request in 100 as usage (usage_store.DEMO_USAGE_SAMPLE_EVERY),
so quotas and unit costs below are per *recorded* call: a quota of 140,000 recorded calls is
14 M real calls, a unit cost of $0.0008 per recorded call is $8 per million real calls. With
the default seed the world's public services serve 177,000 to 205,000 recorded calls a day
(about 191,000; ~5.7 M in 30 days); the biggest enterprise tenant makes about 20,000 a day,
the biggest starter 4,000, the smallest starter 1,000.

The choices, and what they make the demo show (seed 42, the 30 days to 2026-03-10, measured):

- Quotas (recorded calls a month): starter 140,000, pro 260,000, enterprise 700,000. The
  biggest tenants of each plan end a month above 80 % of their quota: tenant_007 (pro, 90 %),
  tenant_009 (enterprise, 86 %), tenant_006 (starter, 85 %), tenant_010 (pro, 84 %),
  tenant_001 (enterprise, 81 %); the next ones stay near 75-79 %. ``quota_utilization``'s
  projection shows them from the first days of a month.
- MRR: starter $299, pro $1,490, enterprise $9,800 list price, times a per-tenant factor of
  0.8 to 1.3 (discounts and add-ons), whole dollars.
- Unit costs per recorded call at the start of their drift cycle: backend-api $0.0008, auth
  $0.0003, ml-engine $0.0045 (GPU inference; one per recommendation request). The busiest
  starter tenants cost more than they pay over 30 days: tenant_006 (133 % of its MRR),
  tenant_002 (119 %), tenant_014 (108 %), tenant_015 about even (100 %), tenant_008 just
  under (97 %); no pro or enterprise tenant comes close (at most 46 %). The whole platform
  costs about 24 % of its MRR.
- Drift: ml-engine and backend-api unit costs rise 4 % a day for 28 days, then fall back to
  their base (a price rise, then the optimisation that undoes it), the two cycles 14 days
  apart. A window of 14 days [d-13, d] then holds the fall of at most one of them, so on any
  day one service's cost per call is up 1.04^7 - 1 = 31.6 % on the week before
  (``drifting_service(day)`` names it; the other one shows a fall in the days after its
  reset): the Cost screen always has a recommendation to make. auth's unit cost is flat.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime

from zeta_tui.demo.requests import WorldRequest
from zeta_tui.demo.topology import Topology

#: The services tenants call directly: their requests are api_usage rows.
PUBLIC_SERVICES = ("backend-api", "auth")
#: The service whose calls are attributed to tenants through their recommendation requests.
ML_SERVICE = "ml-engine"
#: The endpoint whose calls each cost one ml-engine call.
ML_ENDPOINT = ("POST", "/api/v1/recommendations")
#: Services in cost_data.
COST_SERVICES = ("backend-api", "auth", "ml-engine")

QUOTA_CALLS = {"starter": 140_000, "pro": 260_000, "enterprise": 700_000}
BASE_MRR_USD = {"starter": 299.0, "pro": 1490.0, "enterprise": 9800.0}
BASE_UNIT_COST_USD = {"backend-api": 0.0008, "auth": 0.0003, "ml-engine": 0.0045}
#: Daily growth of a drifting unit cost, the length of its cycle and where in it each service starts.
DRIFT_PER_DAY = 0.04
DRIFT_CYCLE_DAYS = 28
DRIFT_OFFSET_DAYS = {"ml-engine": 0, "backend-api": 14}

# (request body range, success response range) in bytes per endpoint; errors are short JSON.
_SIZES: dict[tuple[str, str], tuple[tuple[int, int], tuple[int, int]]] = {
    ("POST", "/api/v1/recommendations"): ((420, 1_600), (2_000, 14_000)),
    ("GET", "/api/v1/items"): ((0, 0), (800, 6_000)),
    ("POST", "/api/v1/feedback"): ((150, 700), (40, 80)),
    ("GET", "/api/v1/users/profile"): ((0, 0), (300, 1_500)),
    ("POST", "/api/v1/auth/login"): ((80, 160), (700, 1_100)),
    ("POST", "/api/v1/auth/refresh"): ((600, 900), (700, 1_100)),
}
_ERROR_SIZES = (60, 260)
_GATEWAY_ERROR_SIZES = (150, 600)  # 502/503 come from the gateway: a small HTML page

_COMPANIES = (
    "Acme Retail",
    "Brightline Media",
    "Cobalt Books",
    "Driftwood Travel",
    "Ember Foods",
    "Fjord Outdoor",
    "Granite Finance",
    "Harbor Health",
    "Iris Fashion",
    "Juniper Games",
    "Kestrel Music",
    "Lumen Learning",
    "Meridian Auto",
    "Nimbus Cloud Kitchens",
    "Orchard Grocers",
    "Pinecrest Homes",
    "Quarry Sports",
    "Riverbend Pets",
    "Saffron Recipes",
    "Tidewater News",
    "Umber Furniture",
    "Vantage Electronics",
    "Willow Beauty",
    "Xenon Labs",
    "Yarrow Garden",
    "Zephyr Tickets",
    "Aurora Streaming",
    "Basalt Tools",
    "Cedar Crafts",
    "Dune Apparel",
    "Evergreen Pharmacy",
    "Foxglove Florists",
    "Glacier Coffee",
    "Heron Hotels",
    "Indigo Jobs",
    "Jasper Jewelry",
    "Kelp Seafood",
    "Lark Podcasts",
    "Mosaic Art",
    "Nova Fitness",
    "Onyx Watches",
    "Prism Optics",
    "Quill Stationery",
    "Rook Chess",
    "Solstice Solar",
    "Tundra Gear",
)


def service_of(endpoint: str) -> str:
    """The service that serves ``endpoint``: /api/v1/auth/* is auth, other /api/v1/* backend-api,
    /internal/* ml-engine."""
    if endpoint.startswith("/api/v1/auth/"):
        return "auth"
    if endpoint.startswith("/api/v1/"):
        return "backend-api"
    if endpoint.startswith("/internal/"):
        return ML_SERVICE
    raise ValueError(f"no service serves {endpoint!r}")


def _draw(digest: int, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    return lo + digest % (hi - lo + 1)


def sizes_of(r: WorldRequest) -> tuple[int, int]:
    """(request bytes, response bytes) of a request: drawn from its trace_id inside its endpoint's ranges."""
    body, ok = _SIZES.get((r.method, r.endpoint), ((100, 1_000), (200, 2_000)))
    a, b = int(r.trace_id[:8], 16), int(r.trace_id[8:16], 16)
    request = _draw(a, body)
    if r.status_code < 400:
        return request, _draw(b, ok)
    return request, _draw(b, _GATEWAY_ERROR_SIZES if r.status_code in (502, 503) else _ERROR_SIZES)


def usage_row(r: WorldRequest) -> dict[str, object]:
    """The api_usage row of one request, in the seed's columns (``date`` is left to the table's
    DEFAULT toDate(timestamp)).

    ``api_key_id`` is the key the request came with (its log line's ``context.api_key_id``).
    """
    request_bytes, response_bytes = sizes_of(r)
    return {
        "timestamp": r.timestamp_ns // 1_000_000_000,
        "tenant_id": r.tenant_id,
        "api_key_id": r.api_key_id,
        "endpoint": r.endpoint,
        "method": r.method,
        "status_code": r.status_code,
        "latency_ms": r.latency_ms,
        "request_size_bytes": request_bytes,
        "response_size_bytes": response_bytes,
    }


def usage_rows(requests: Iterable[WorldRequest]) -> Iterator[dict[str, object]]:
    """One api_usage row per request of a public service, in the order given."""
    for r in requests:
        if r.service in PUBLIC_SERVICES:
            yield usage_row(r)


# --- tenants --------------------------------------------------------------------------------


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


#: The newest topology tenants (the last ones) became customers recently: NEW_TENANTS of them.
NEW_TENANTS = 4
#: Former tenants (ids after the topology's): their plans; they ended before the usage history begins.
FORMER_PLANS = ("pro", "starter", "starter")
#: Where in the 90 days before today the new tenants started and the former ones ended (days ago).
NEW_DAYS_AGO = (42, 88)
ENDED_DAYS_AGO = (40, 86)


def _days_ago(today: date, days: int, key: str) -> int:
    """Unix seconds ``days`` days before midnight UTC of ``today``, at an hour fixed by ``key``."""
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp()
    return int(midnight) - days * 86400 + 3600 * (8 + int(_unit("hour", key) * 9))


def _spread(bounds: tuple[int, int], k: int, n: int, key: str) -> int:
    """The k-th of n days spread over ``bounds`` (days ago), moved by up to a third of a gap by ``key``."""
    lo, hi = bounds
    gap = (hi - lo) // n
    return lo + k * gap + int(_unit("spread", key) * max(1, gap // 3))


def tenant_rows(topology: Topology, today: date) -> list[dict[str, object]]:
    """The tenants table as of ``today``: id, a made-up company name, plan, MRR (plan price x
    0.8..1.3), quota by plan, created_at and ended_at (None: still a customer).

    Fixed for a topology (ids and plans) and a day, whatever the seed. ``created_at`` (unix
    seconds) spreads the tenants over 2022-2025, the biggest (lowest number) first, as a
    platform's early customers tend to be its biggest; the NEW_TENANTS newest (the last ids)
    started 42-88 days before ``today``: they already have usage for the whole 35-day history,
    and the 90-day revenue trend shows them arrive. ``FORMER_PLANS`` former tenants, with the
    ids after the topology's, ended 40-86 days before ``today``: before the usage history begins,
    so no usage row, log line or metric names them; the trend shows them leave.
    """
    names = list(_COMPANIES)
    random.Random("tenant-names").shuffle(names)  # the same names for every seed: they are not what a seed varies
    start = datetime(2022, 1, 10, tzinfo=UTC).timestamp()
    tenants = [(t.tenant_id, t.plan) for t in topology.tenants]
    first_former = len(tenants)
    tenants += [(f"tenant_{first_former + k + 1:03d}", plan) for k, plan in enumerate(FORMER_PLANS)]
    rows = []
    for i, (tenant_id, plan) in enumerate(tenants):
        name = names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
        factor = 0.8 + 0.5 * _unit("mrr", tenant_id)
        created = start + i * 30 * 86400 + int(_unit("created", tenant_id) * 25 * 86400)
        created = int(created) // 3600 * 3600 + int(_unit("minute", tenant_id) * 3600)
        ended = None
        newest = first_former - 1 - i  # 0 for the last topology tenant
        if 0 <= newest < NEW_TENANTS:
            created = _days_ago(today, _spread(NEW_DAYS_AGO, newest, NEW_TENANTS, tenant_id), tenant_id)
        elif i >= first_former:
            k = i - first_former
            ended = _days_ago(today, _spread(ENDED_DAYS_AGO, k, len(FORMER_PLANS), tenant_id), tenant_id)
            created = ended - (300 + int(_unit("tenure", tenant_id) * 400)) * 86400
        rows.append(
            {
                "tenant_id": tenant_id,
                "name": name,
                "plan": plan,
                "mrr_usd": float(round(BASE_MRR_USD[plan] * factor)),
                "monthly_quota_calls": QUOTA_CALLS[plan],
                "created_at": created,
                "ended_at": ended,
            }
        )
    return rows


# --- cost -----------------------------------------------------------------------------------


def drift_phase(service: str, day: date) -> int | None:
    """Days since ``service``'s unit cost last fell back to its base on ``day`` (None: it does not drift)."""
    offset = DRIFT_OFFSET_DAYS.get(service)
    return None if offset is None else (day.toordinal() + offset) % DRIFT_CYCLE_DAYS


def unit_cost_usd(service: str, day: date) -> float:
    """What one recorded call to ``service`` costs on ``day``: its base, grown 4 % a day since its cycle began."""
    phase = drift_phase(service, day)
    base = BASE_UNIT_COST_USD[service]
    return base if phase is None else base * (1 + DRIFT_PER_DAY) ** phase


def drifting_service(day: date) -> str:
    """The service whose unit cost rose every day of the 14 days up to ``day``: its cost per call
    is up 31.6 % on the week before."""
    for service in DRIFT_OFFSET_DAYS:
        phase = drift_phase(service, day)
        if phase is not None and phase >= 13:
            return service
    raise AssertionError("two cycles 14 days apart cover every day")  # pragma: no cover


def cost_rows(counts: Mapping[tuple[date, str, str], int]) -> list[dict[str, object]]:
    """cost_data rows from calls per (day, service, tenant_id): api_calls and api_calls x unit cost, sorted by key."""
    return [
        {
            "date": day,
            "service": service,
            "tenant_id": tenant,
            "cost_usd": calls * unit_cost_usd(service, day),
            "api_calls": calls,
        }
        for (day, service, tenant), calls in sorted(counts.items())
        if calls > 0
    ]


def call_counts(rows: Iterable[Mapping[str, object]]) -> dict[tuple[date, str, str], int]:
    """Calls per (UTC day, cost service, tenant_id) of api_usage rows: each row counts for its endpoint's
    service, and a recommendation request once more for ml-engine."""
    counts: dict[tuple[date, str, str], int] = {}
    for row in rows:
        day = datetime.fromtimestamp(int(row["timestamp"]), tz=UTC).date()  # type: ignore[call-overload]
        tenant = str(row["tenant_id"])
        services = [service_of(str(row["endpoint"]))]
        if (row["method"], row["endpoint"]) == ML_ENDPOINT:
            services.append(ML_SERVICE)
        for service in services:
            key = (day, service, tenant)
            counts[key] = counts.get(key, 0) + 1
    return counts
