"""The world's usage and cost rows (zeta_tui/demo/usage.py), checked against independent counts.

Expected values come from the requests' log lines, from the world's own counters and from the
cost model as the module's docstring states it (restated here, not imported).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.world import SEED, T0
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.usage import (
    cost_rows,
    drifting_service,
    service_of,
    sizes_of,
    tenant_rows,
    unit_cost_usd,
    usage_rows,
)
from zeta_tui.demo.world import TeamZetaWorld

END = int(T0) // STEP_SECONDS * STEP_SECONDS
PUBLIC_ENDPOINTS = {
    ("POST", "/api/v1/recommendations"),
    ("GET", "/api/v1/items"),
    ("POST", "/api/v1/feedback"),
    ("GET", "/api/v1/users/profile"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
}
# The cost model as documented: base per recorded call, +4 %/day for 28 days from the cycle's start.
BASE = {"backend-api": 0.0008, "auth": 0.0003, "ml-engine": 0.0045}
CYCLE_START = {"ml-engine": 0, "backend-api": 14}  # (ordinal + offset) % 28 == 0: back at the base


def expected_unit(service: str, day: date) -> float:
    if service not in CYCLE_START:
        return BASE[service]
    return BASE[service] * 1.04 ** ((day.toordinal() + CYCLE_START[service]) % 28)


@pytest.fixture(scope="module")
def world() -> TeamZetaWorld:
    return TeamZetaWorld(SEED)


@pytest.fixture(scope="module")
def logged(world):
    """20 minutes of the world's log lines (1 in 10 requests), as the logs record them."""
    return list(WorldRequests(world, sample_every=10).generate(END - 1200, END))


@pytest.fixture(scope="module")
def usage(world):
    """The usage rows of the same 20 minutes at the demo's 1 in 100."""
    return list(usage_rows(WorldRequests(world, sample_every=100).generate(END - 1200, END)))


def _log_key(line: dict) -> tuple:
    second = int(datetime.strptime(line["timestamp"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    return (
        second,
        line["tenant_id"],
        line["context"]["api_key_id"],
        line["endpoint"],
        line["method"],
        line["status_code"],
        line["latency_ms"],
    )


def _usage_key(row: dict) -> tuple:
    return (
        row["timestamp"],
        row["tenant_id"],
        row["api_key_id"],
        row["endpoint"],
        row["method"],
        row["status_code"],
        row["latency_ms"],
    )


def test_usage_rows_are_the_log_lines_of_every_hundredth_public_request(logged, usage):
    # Every 100th request is also every 10th: its log line is in the 1-in-10 logs, same facts.
    expected = Counter(
        _log_key(r.log_fields()) for r in logged if r.seq % 100 == 0 and r.service in ("backend-api", "auth")
    )
    assert Counter(_usage_key(row) for row in usage) == expected
    assert len(usage) > 500
    assert {(row["method"], row["endpoint"]) for row in usage} == PUBLIC_ENDPOINTS  # ml-engine's /internal/* never


def test_usage_count_equals_the_public_counters(world, usage):
    # Independent of the request generator: the kept count of a series over (a, b] is c(b)//100 - c(a)//100.
    expected = 0
    for service in ("backend-api", "auth"):
        for s in world.find("http_requests_total", job=service):
            expected += int(world.value(s, END)) // 100 - int(world.value(s, END - 1200)) // 100
    assert len(usage) == expected


def test_counts_per_tenant_equal_the_requests(world, usage):
    requests = WorldRequests(world, sample_every=100).generate(END - 1200, END)
    expected = Counter(r.tenant_id for r in requests if not r.endpoint.startswith("/internal/"))
    assert Counter(row["tenant_id"] for row in usage) == expected
    assert len(expected) >= 30  # nearly every tenant calls in 20 minutes


def test_sizes_fit_the_endpoint_and_status_and_never_change(world, usage):
    for row in usage:
        req, resp = row["request_size_bytes"], row["response_size_bytes"]
        if row["method"] == "GET":
            assert req == 0
        else:
            assert 80 <= req <= 1600
        if row["status_code"] >= 400:
            assert 60 <= resp <= 600
        elif row["endpoint"] == "/api/v1/recommendations":
            assert 2000 <= resp <= 14000
        else:
            assert 40 <= resp <= 6000
    again = list(usage_rows(WorldRequests(world, sample_every=100).generate(END - 1200, END)))
    assert again == usage
    assert len({row["response_size_bytes"] for row in usage}) > len(usage) // 4  # drawn, not constant


def test_sizes_come_from_the_trace_id(world):
    r = next(iter(WorldRequests(world, sample_every=100).generate(END - 60, END)))
    assert sizes_of(r) == sizes_of(r._replace(seq=r.seq + 1, latency_ms=1))
    assert sizes_of(r) != sizes_of(r._replace(trace_id="f" * 32)) or r.method == "GET"


def test_service_of():
    assert service_of("/api/v1/auth/login") == service_of("/api/v1/auth/refresh") == "auth"
    assert service_of("/api/v1/recommendations") == service_of("/api/v1/items") == "backend-api"
    assert service_of("/internal/embed") == "ml-engine"
    with pytest.raises(ValueError):
        service_of("/metrics")


def test_tenant_rows(world):
    today = date(2026, 3, 11)
    rows = tenant_rows(world.topology, today)
    plans = {t.tenant_id: t.plan for t in world.topology.tenants}
    current = [r for r in rows if r["ended_at"] is None]
    former = [r for r in rows if r["ended_at"] is not None]
    assert [r["tenant_id"] for r in current] == list(plans) and len(rows) == 43
    assert [r["tenant_id"] for r in former] == ["tenant_041", "tenant_042", "tenant_043"]  # ids after the topology's
    assert all(r["plan"] == plans[r["tenant_id"]] for r in current)
    assert len({r["name"] for r in rows}) == 43
    bands = {"starter": (299 * 0.8, 299 * 1.3), "pro": (1490 * 0.8, 1490 * 1.3), "enterprise": (9800 * 0.8, 9800 * 1.3)}
    quotas = {"starter": 140_000, "pro": 260_000, "enterprise": 700_000}
    midnight = datetime(2026, 3, 11, tzinfo=UTC).timestamp()

    def days_ago(t: int) -> float:
        return (midnight - t) / 86400

    for r in rows:
        lo, hi = bands[r["plan"]]
        assert lo - 1 <= r["mrr_usd"] <= hi + 1 and r["mrr_usd"] == int(r["mrr_usd"])
        assert r["monthly_quota_calls"] == quotas[r["plan"]]
        assert datetime(2022, 1, 1, tzinfo=UTC).timestamp() <= r["created_at"] < midnight
    # The newest four started 40-90 days ago: before the 35 days of usage history, inside the 90-day trend.
    newest = sorted(current, key=lambda r: r["created_at"])[-4:]
    assert [r["tenant_id"] for r in newest] == ["tenant_037", "tenant_038", "tenant_039", "tenant_040"]
    assert all(40 < days_ago(r["created_at"]) < 90 for r in newest)
    assert all(days_ago(r["created_at"]) > 365 for r in current[:-4])
    # The former ones ended 36-90 days ago (before the usage history, so they have none), after they began.
    assert all(36 < days_ago(r["ended_at"]) < 90 and r["created_at"] < r["ended_at"] for r in former)
    assert not {r["tenant_id"] for r in former} & {t.tenant_id for t in world.topology.tenants}
    assert len({r["mrr_usd"] for r in rows}) > 30  # per-tenant variation
    assert tenant_rows(world.topology, today) == rows
    assert tenant_rows(world.topology, date(2026, 3, 12)) != rows  # the dates count back from the day
    assert (
        tenant_rows(TeamZetaWorld(7).topology, today)[0]["name"] == rows[0]["name"]
    )  # names do not move with the seed


def test_cost_rows_are_calls_times_the_day_unit_cost(world):
    # Two hours across midnight: two days, every service, most tenants.
    midnight = int(datetime(2026, 3, 11, tzinfo=UTC).timestamp())
    requests = list(WorldRequests(world, sample_every=100).generate(midnight - 3600, midnight + 3600))
    calls: Counter = Counter()
    for r in requests:
        if r.service not in ("backend-api", "auth"):
            continue
        day = datetime.fromtimestamp(r.timestamp_ns / 1e9, tz=UTC).date()
        calls[(day, r.service, r.tenant_id)] += 1
        if r.endpoint == "/api/v1/recommendations" and r.method == "POST":
            calls[(day, "ml-engine", r.tenant_id)] += 1
    rows = cost_rows(calls)
    assert len(rows) == len(calls) and {r["date"] for r in rows} == {date(2026, 3, 10), date(2026, 3, 11)}
    assert {r["service"] for r in rows} == {"backend-api", "auth", "ml-engine"}
    for r in rows:
        n = calls[(r["date"], r["service"], r["tenant_id"])]
        assert r["api_calls"] == n
        assert r["cost_usd"] == pytest.approx(n * expected_unit(r["service"], r["date"]), rel=1e-9)


def test_unit_costs_follow_the_documented_model():
    day = date(2026, 1, 1)
    for i in range(120):
        d = day + timedelta(days=i)
        for service in ("backend-api", "auth", "ml-engine"):
            assert unit_cost_usd(service, d) == pytest.approx(expected_unit(service, d), rel=1e-9)


def _weekly_cost_per_call(service: str, until: date) -> tuple[float, float]:
    """(last week, week before) cost per call with weekday-shaped traffic, as the Cost screen sums them."""

    def week(first: date) -> float:
        days = [first + timedelta(days=i) for i in range(7)]
        calls = {d: 1000 * (0.8 if d.weekday() >= 5 else 1.0) * (1 + 0.05 * (d.toordinal() % 3)) for d in days}
        return sum(calls[d] * unit_cost_usd(service, d) for d in days) / sum(calls.values())

    return week(until - timedelta(days=6)), week(until - timedelta(days=13))


@pytest.mark.parametrize("start", [date(2026, 1, 1), date(2026, 11, 27), date(2027, 6, 1)])
def test_some_service_costs_more_than_20_percent_more_per_call_than_the_week_before_on_any_day(start):
    for i in range(60):
        until = start + timedelta(days=i)
        rises = {
            s: now / before
            for s in ("ml-engine", "backend-api", "auth")
            for now, before in [_weekly_cost_per_call(s, until)]
        }
        assert max(rises.values()) > 1.2, (until, rises)
        assert rises[drifting_service(until)] > 1.2, (until, rises)
        assert rises["auth"] == pytest.approx(1.0)


def test_ml_engine_rises_for_at_least_the_second_half_of_each_cycle_and_not_always():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(56)]  # two 28-day cycles
    rising = [d for d in days if (lambda now, before: now / before > 1.2)(*_weekly_cost_per_call("ml-engine", d))]
    assert 2 * 15 <= len(rising) <= 42  # days 13..27 of each cycle at least
