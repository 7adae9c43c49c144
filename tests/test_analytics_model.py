"""The Tenants and Cost screens' pure parts: recommendations, sorting, filtering, formatting, stacks."""

from __future__ import annotations

from datetime import date, timedelta

from zeta_tui.models.analytics import (
    TENANT_SORTS,
    bytes_text,
    cost_per_call_rises,
    count_text,
    filter_tenants,
    money,
    next_window,
    recommendations,
    sort_tenants,
    tenants_costing_more_than_mrr,
    tenants_heading_over_quota,
    window_text,
)
from zeta_tui.widgets.stacked_bars import FILLS, Stack, render_stack

UNTIL = date(2026, 11, 27)


def daily(service: str, first: date, days: int, cost: float, calls: int) -> list[dict]:
    return [
        {"date": (first + timedelta(days=i)).isoformat(), "service": service, "cost_usd": cost, "api_calls": calls}
        for i in range(days)
    ]


def test_a_rise_of_exactly_the_threshold_is_not_flagged_and_more_is():
    last_week_first, this_week_first = UNTIL - timedelta(days=13), UNTIL - timedelta(days=6)
    rows = (
        daily("steady", last_week_first, 7, 10.0, 100)
        + daily("steady", this_week_first, 7, 12.0, 100)  # 0.10 -> 0.12: +20 %
        + daily("ml-engine", last_week_first, 7, 10.0, 100)
        + daily("ml-engine", this_week_first, 7, 12.5, 100)
    )  # +25 %
    found = cost_per_call_rises(rows, UNTIL)
    assert [r.subject for r in found] == ["ml-engine"]
    assert "rose 25 %" in found[0].text and found[0].severity == "warning"


def test_cost_per_call_is_a_ratio_of_sums_not_a_mean_of_daily_ratios():
    # Last week: one busy day at 0.10 a call (1000 calls) and six quiet days at 0.50 (10 calls):
    # sum 130 / 1060 calls = 0.1226. This week: 0.14 every day (+14.2 %): no rise over 20 %.
    # A mean of the daily ratios (0.443) would call it a fall.
    first = UNTIL - timedelta(days=13)
    rows = [{"date": first.isoformat(), "service": "s", "cost_usd": 100.0, "api_calls": 1000}]
    rows += daily("s", first + timedelta(days=1), 6, 5.0, 10)
    rows += daily("s", UNTIL - timedelta(days=6), 7, 14.0, 100)
    assert cost_per_call_rises(rows, UNTIL) == []
    rows += daily("s", UNTIL - timedelta(days=6), 7, 2.0, 0)  # more cost, no calls: 112 / 700 = 0.16 a call, +30.5 %
    assert [r.subject for r in cost_per_call_rises(rows, UNTIL)] == ["s"]


def test_a_service_without_a_whole_previous_week_is_not_judged():
    rows = daily("new", UNTIL - timedelta(days=6), 7, 50.0, 10)
    assert cost_per_call_rises(rows, UNTIL) == []


def test_tenants_costing_more_than_they_pay_worst_first():
    rows = [
        {
            "tenant_id": "t1",
            "name": "A",
            "plan": "starter",
            "mrr_usd": 49.0,
            "monthly_cost_usd": 60.0,
            "cost_to_mrr_pct": 122.4,
        },
        {
            "tenant_id": "t2",
            "name": "B",
            "plan": "pro",
            "mrr_usd": 499.0,
            "monthly_cost_usd": 100.0,
            "cost_to_mrr_pct": 20.0,
        },
        {
            "tenant_id": "t3",
            "name": "C",
            "plan": "starter",
            "mrr_usd": 49.0,
            "monthly_cost_usd": 98.0,
            "cost_to_mrr_pct": 200.0,
        },
        {
            "tenant_id": "t4",
            "name": "D",
            "plan": "starter",
            "mrr_usd": 49.0,
            "monthly_cost_usd": 49.0,
            "cost_to_mrr_pct": 100.0,
        },
    ]
    assert [r.subject for r in tenants_costing_more_than_mrr(rows)] == ["t3", "t1"]


def test_quota_notes_say_over_or_heading_over():
    rows = [
        {"tenant_id": "a", "plan": "pro", "monthly_quota_calls": 1_000_000, "used_pct": 104.0, "projected_pct": 150.0},
        {"tenant_id": "b", "plan": "pro", "monthly_quota_calls": 1_000_000, "used_pct": 60.0, "projected_pct": 101.0},
        {"tenant_id": "c", "plan": "pro", "monthly_quota_calls": 1_000_000, "used_pct": 60.0, "projected_pct": 100.0},
    ]
    found = tenants_heading_over_quota(rows)
    assert [r.subject for r in found] == ["a", "b"]
    assert "is over" in found[0].text and "will pass" in found[1].text


def test_recommendations_put_services_before_tenants_before_quota():
    cost = daily("x", UNTIL - timedelta(days=13), 7, 1.0, 10) + daily("x", UNTIL - timedelta(days=6), 7, 2.0, 10)
    tenants = [
        {
            "tenant_id": "t",
            "name": "T",
            "plan": "starter",
            "mrr_usd": 1.0,
            "monthly_cost_usd": 2.0,
            "cost_to_mrr_pct": 200.0,
        }
    ]
    quota = [{"tenant_id": "q", "plan": "pro", "monthly_quota_calls": 10, "used_pct": 50.0, "projected_pct": 120.0}]
    assert [r.subject for r in recommendations(cost, tenants, quota, UNTIL)] == ["x", "t", "q"]


def test_sorting_and_filtering_tenants():
    rows = [
        {
            "tenant_id": "tenant_002",
            "name": "Birch",
            "plan": "pro",
            "requests": 10,
            "error_rate_pct": 5.0,
            "p95_ms": 90,
            "bytes": 1,
            "quota_used_pct": None,
        },
        {
            "tenant_id": "tenant_001",
            "name": "Acme",
            "plan": "enterprise",
            "requests": 30,
            "error_rate_pct": 1.0,
            "p95_ms": 120,
            "bytes": 3,
            "quota_used_pct": 50.0,
        },
        {
            "tenant_id": "tenant_003",
            "name": "Cedar",
            "plan": "pro",
            "requests": 10,
            "error_rate_pct": 0.0,
            "p95_ms": 60,
            "bytes": 2,
            "quota_used_pct": 90.0,
        },
    ]
    labels = [label for label, _, _ in TENANT_SORTS]
    order = lambda label: [r["tenant_id"][-1] for r in sort_tenants(rows, labels.index(label))]  # noqa: E731
    assert order("requests") == ["1", "2", "3"]  # ties by tenant id
    assert order("error rate") == ["2", "1", "3"]
    assert order("p95") == ["1", "2", "3"]
    assert order("quota used") == ["3", "1", "2"]  # no quota last
    assert order("tenant") == ["1", "2", "3"]
    assert [r["tenant_id"] for r in filter_tenants(rows, "PRO ced")] == ["tenant_003"]
    assert len(filter_tenants(rows, "  ")) == 3


def test_formatting():
    assert money(1234.5) == "$1,234" or money(1234.5) == "$1,235"
    assert money(12.4) == "$12.40"
    assert money(0.00042, per_call=True) == "$0.00042"
    assert money(0.0123, per_call=True) == "$0.0123"
    assert count_text(1234) == "1,234" and count_text(12_345) == "12.3k" and count_text(4_560_000) == "4.56M"
    assert bytes_text(512) == "512 B" and bytes_text(1536) == "1.5 KiB" and bytes_text(3 * 1024**3) == "3.0 GiB"
    assert window_text(7, UNTIL) == "last 7 days (Nov 21 – Nov 27)"
    assert window_text(1, UNTIL) == "today (Nov 27)"
    assert [next_window(7), next_window(30), next_window(1), next_window(5)] == [30, 1, 7, 7]


def test_stacked_columns_add_up_and_read_without_colour():
    days = tuple(UNTIL - timedelta(days=i) for i in (2, 1, 0))
    stack = Stack(days, (("api", (10.0, 20.0, 30.0)), ("ml", (10.0, 0.0, 30.0))))
    text = render_stack(stack, width=40, height=9, colours=["red", "blue"], y_format=lambda v: f"{v:.0f}").plain
    rows = text.splitlines()
    assert len(rows) == 9 and rows[0] == ""
    rows = rows[1:]
    plot = rows[:6]  # height 9: a blank row, 6 plot rows, the dates, the legend

    # The tallest column (60) fills all 6 rows: 3 of api at the bottom, 3 of ml on top.
    # Column 1 (20) is 2 rows (1 + 1); column 2 (20) is 2 rows of api.
    def column(i: int) -> str:
        start = rows[0].index("┤") + 1 + i * 5  # 4-wide columns and a gap (area 34 // 3 - 1 = 10 -> capped at 4)
        return "".join(r[start] for r in reversed(plot))

    assert column(2) == FILLS[0] * 3 + FILLS[1] * 3
    assert column(0) == FILLS[0] + FILLS[1] + "    "
    assert column(1) == FILLS[0] * 2 + "    "
    assert "Nov 25" in rows[6] and "Nov 27" in rows[6]
    assert rows[7].startswith(FILLS[0] * 2 + " api") and FILLS[1] * 2 + " ml" in rows[7]
