"""The ClickHouse query catalog: every shipped file parses, declares what it uses, and binds
typed values (defaults, clock words from the caller's date, missing / unknown / mistyped named)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from zeta_tui.errors import ConfigError, ParamError
from zeta_tui.querying.sql_catalog import bind, find_query, load_catalog, parse_query

TODAY = date(2024, 2, 29)

#: the catalog the contract names, with the output columns the screens read
CONTRACT = {
    "top_tenants": [
        "tenant_id",
        "name",
        "plan",
        "requests",
        "errors",
        "error_rate_pct",
        "p95_ms",
        "bytes",
        "quota_calls",
        "quota_used_pct",
    ],
    "error_rate_by_endpoint": ["endpoint", "method", "requests", "errors", "error_rate_pct", "server_errors"],
    "latency_trend": ["date", "requests", "p50_ms", "p95_ms", "p99_ms"],
    "tenant_usage": ["endpoint", "method", "requests", "errors", "error_rate_pct", "avg_ms", "p95_ms", "bytes"],
    "requests_over_time": ["date", "tenant_id", "requests"],
    "quota_utilization": ["tenant_id", "name", "plan", "calls", "monthly_quota_calls", "used_pct", "projected_pct"],
    "daily_cost": ["date", "service", "cost_usd", "api_calls"],
    "cost_per_call": ["date", "service", "api_calls", "cost_usd", "cost_per_call_usd"],
    "cost_per_tenant": [
        "tenant_id",
        "name",
        "plan",
        "mrr_usd",
        "cost_usd",
        "api_calls",
        "cost_per_call_usd",
        "monthly_cost_usd",
        "cost_to_mrr_pct",
    ],
    "mrr_by_plan": ["plan", "tenants", "mrr_usd", "arr_usd"],
    "sla_compliance": [
        "tenant_id",
        "name",
        "plan",
        "requests",
        "server_errors",
        "availability_pct",
        "target_pct",
        "met",
    ],
    "business_active_tenants": ["days", "active", "previous", "previous_from", "first_day"],
    "business_revenue_by_plan": ["plan", "tenants", "mrr_usd", "arr_usd"],
    "business_mrr_trend": ["day", "plan", "tenants", "mrr_usd"],
    "business_tenant_changes": ["change", "day", "tenant_id", "name", "plan", "mrr_usd"],
    "business_top_tenants": [
        "tenant_id",
        "name",
        "plan",
        "mrr_usd",
        "ended",
        "total_requests",
        "month_calls",
        "quota_calls",
        "quota_used_pct",
    ],
    "funnel": ["step", "event", "users", "conv_prev_pct", "conv_first_pct", "median_s_from_prev"],
    "retention": ["cohort_week", "users", "week", "returned", "returned_pct"],
    "ctr": ["date", "tenant_id", "model_version", "served", "clicks", "ctr_pct"],
    "product_tenants": ["tenant_id", "served", "clicks", "tenants_in_window"],
    "ab_test": [
        "arm",
        "model_version",
        "served",
        "clicks",
        "ctr_pct",
        "purchases",
        "purchase_rate_pct",
        "diff_pt",
        "ci_low_pt",
        "ci_high_pt",
        "z",
        "p_value",
        "verdict",
        "needed_per_arm",
    ],
    "top_items": ["tenant_id", "kind", "rank", "item_id", "events", "users"],
}

PARAMS = {
    "top_tenants": {
        "days": ("UInt16", "7"),
        "until": ("Date", "today"),
        "limit": ("UInt32", "10"),
        "tenant": ("String", ""),
    },
    "error_rate_by_endpoint": {
        "days": ("UInt16", "1"),
        "until": ("Date", "today"),
        "min_error_rate_pct": ("Float64", "1.0"),
    },
    "latency_trend": {"days": ("UInt16", "30"), "until": ("Date", "today"), "tenant": ("String", "")},
    "tenant_usage": {"tenant": ("String", None), "days": ("UInt16", "30"), "until": ("Date", "today")},
    "requests_over_time": {"days": ("UInt16", "7"), "until": ("Date", "today"), "tenant": ("String", "")},
    "quota_utilization": {"until": ("Date", "today")},
    "daily_cost": {"days": ("UInt16", "30"), "until": ("Date", "today")},
    "cost_per_call": {"days": ("UInt16", "30"), "until": ("Date", "today")},
    "cost_per_tenant": {"days": ("UInt16", "30"), "until": ("Date", "today")},
    "mrr_by_plan": {},
    "sla_compliance": {"days": ("UInt16", "30"), "until": ("Date", "today")},
    "business_active_tenants": {"until": ("Date", "today")},
    "business_revenue_by_plan": {"until": ("Date", "today")},
    "business_mrr_trend": {"days": ("UInt16", "90"), "until": ("Date", "today")},
    "business_tenant_changes": {"days": ("UInt16", "90"), "until": ("Date", "today")},
    "business_top_tenants": {"days": ("UInt16", "30"), "until": ("Date", "today"), "limit": ("UInt32", "10")},
    "funnel": {
        "tenant": ("String", None),
        "days": ("UInt16", "7"),
        "until": ("Date", "today"),
        "window_hours": ("UInt32", "24"),
    },
    "retention": {"tenant": ("String", None), "weeks": ("UInt16", "8"), "until": ("Date", "today")},
    "ctr": {"tenant": ("String", ""), "days": ("UInt16", "7"), "until": ("Date", "today")},
    "product_tenants": {"days": ("UInt16", "7"), "until": ("Date", "today"), "limit": ("UInt32", "1000")},
    "ab_test": {
        "tenant": ("String", None),
        "version_a": ("String", None),
        "version_b": ("String", None),
        "days": ("UInt16", "7"),
        "until": ("Date", "today"),
    },
    "top_items": {
        "tenant": ("String", ""),
        "days": ("UInt16", "7"),
        "until": ("Date", "today"),
        "limit": ("UInt16", "10"),
    },
}


def test_the_catalog_holds_the_contract_queries_with_their_parameters() -> None:
    catalog = load_catalog()
    assert set(catalog) == set(CONTRACT)
    for name, query in catalog.items():
        assert query.description and not query.description.startswith("param"), name
        assert {p.name: (p.type, p.default) for p in query.params} == PARAMS[name], name
        # every value is a server-side placeholder: no quoting of parameters into the SQL text
        assert "{" in query.sql or not query.params
        for p in query.params:
            assert re.search(r"\{" + p.name + ":" + p.type + r"\}", query.sql), (name, p.name)


def test_output_columns_are_named_as_the_screens_read_them() -> None:
    # The last SELECT list's aliases, in order (checked against the engine in test_analytics_catalog).
    for name, columns in CONTRACT.items():
        sql = load_catalog()[name].sql
        for column in columns:
            assert re.search(rf"\b{column}\b", sql), (name, column)


def test_defaults_and_clock_words_come_from_the_given_date() -> None:
    q = find_query("top_tenants")
    assert bind(q, {}, today=TODAY) == {"days": 7, "until": TODAY, "limit": 10, "tenant": ""}
    assert bind(q, {"until": "month_start"}, today=TODAY)["until"] == date(2024, 2, 1)
    assert bind(q, {"until": "today"}, today=date(2023, 12, 31))["until"] == date(2023, 12, 31)
    assert bind(q, {"until": "2024-01-15", "days": "3", "limit": 5, "tenant": "tenant_007"}, today=TODAY) == {
        "days": 3,
        "until": date(2024, 1, 15),
        "limit": 5,
        "tenant": "tenant_007",
    }
    # Python values pass as their type; a datetime is its date
    assert bind(q, {"until": datetime(2024, 1, 2, 13, 0)}, today=TODAY)["until"] == date(2024, 1, 2)
    e = find_query("error_rate_by_endpoint")
    assert bind(e, {"min_error_rate_pct": "2.5"}, today=TODAY)["min_error_rate_pct"] == 2.5
    assert bind(e, {"min_error_rate_pct": 3}, today=TODAY)["min_error_rate_pct"] == 3.0
    assert bind(e, {}, today=TODAY)["min_error_rate_pct"] == 1.0


def test_a_missing_required_parameter_is_named_with_its_type() -> None:
    with pytest.raises(ParamError) as err:
        bind(find_query("tenant_usage"), {"days": "7"}, today=TODAY)
    assert "'tenant'" in err.value.message and "String" in err.value.message
    assert err.value.exit_code == 2


def test_an_unknown_parameter_is_named_with_the_known_ones() -> None:
    with pytest.raises(ParamError) as err:
        bind(find_query("latency_trend"), {"tennant": "tenant_001"}, today=TODAY)
    assert "'tennant'" in err.value.message
    assert "tenant String = ''" in err.value.hint and "days UInt16 = 30" in err.value.hint


@pytest.mark.parametrize(
    ("name", "param", "value", "expected"),
    [
        ("top_tenants", "days", "7; DROP TABLE api_usage", "UInt16"),
        ("top_tenants", "days", "-1", "UInt16"),
        ("top_tenants", "days", "65536", "UInt16"),
        ("top_tenants", "days", "7.5", "UInt16"),
        ("top_tenants", "days", True, "UInt16"),
        ("top_tenants", "limit", "1 OR 1=1", "UInt32"),
        ("top_tenants", "until", "2024-02-30", "Date"),
        ("top_tenants", "until", "yesterday'); DROP TABLE tenants --", "Date"),
        ("top_tenants", "tenant", 5, "String"),
        ("error_rate_by_endpoint", "min_error_rate_pct", "nan", "Float64"),
        ("error_rate_by_endpoint", "min_error_rate_pct", "1 UNION ALL SELECT 1", "Float64"),
    ],
)
def test_a_mistyped_value_is_refused_naming_parameter_and_type(name, param, value, expected) -> None:
    with pytest.raises(ParamError) as err:
        bind(find_query(name), {param: value}, today=TODAY)
    assert repr(param) in err.value.message and expected in err.value.message


def test_an_unknown_query_name_suggests_the_close_one() -> None:
    with pytest.raises(ParamError) as err:
        find_query("top_tenant")
    assert "did you mean 'top_tenants'" in err.value.message


def test_malformed_files_name_the_line() -> None:
    cases = {
        "-- d\n-- param days UInt99 = 1 : x\nSELECT {days:UInt99}": "line 2",
        "-- d\n-- param days UInt16 = x : y\nSELECT {days:UInt16}": "line 2",
        "-- d\n-- param days\nSELECT 1": "line 2",
        "-- d\n-- param days UInt16 = 1 : x\nSELECT 1,\n {other:String}": "line 4",
        "-- d\n-- param days UInt16 = 1 : x\nSELECT {days:UInt32}": "line 3",
        "-- d\n-- param days UInt16 = 1 : x\nSELECT 1": "never used",
        "-- only comments": "no SQL",
    }
    for text, words in cases.items():
        with pytest.raises(ConfigError) as err:
            parse_query("q", text, "/x/q.sql")
        assert words in err.value.message and err.value.where == "/x/q.sql", text


def test_quoted_defaults_and_descriptions() -> None:
    q = parse_query(
        "q",
        (
            "-- A query\n-- param who String = 'o\\'k: yes' : the who\n-- param n Int32 = -3\nSELECT {who:String}, "
            "{n:Int32}"
        ),
        "q.sql",
    )
    assert [(p.name, p.default, p.description) for p in q.params] == [("who", "o'k: yes", "the who"), ("n", "-3", "")]
    assert bind(q, {}, today=TODAY) == {"who": "o'k: yes", "n": -3}
