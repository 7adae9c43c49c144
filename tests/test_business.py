"""The Business figures' model on hand-built answers, and the tenants table's lifecycle on a real
embedded ClickHouse: `zeta clickhouse init` adds ``ended_at`` to a tenants table made before it,
and until then the revenue queries name the table, the column and the command (never a traceback).

The business_* catalog queries themselves are checked against the Python reference with every other
catalog query (tests/support/analytics_reference.py: the world, the edge rows, the seed's DDL);
the figures against the world's raw samples and usage in tests/test_business_screen.py.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime

import pytest

from zeta_tui.models.business import (
    ActiveTenants,
    active_tenants,
    calls_by_plan,
    mrr_trend,
    plan_revenue,
    top_tenants,
)

# --- the model on hand-built answers ----------------------------------------------------------


def test_calls_by_plan_shares_are_of_the_total_now_busiest_first():
    c = calls_by_plan(
        {"gold": 30.0, "free": 10.0, "trial": math.nan},
        {"gold": [(1.0, 29.0), (2.0, 30.0)], "free": [(1.0, 9.0)], "legacy": [(1.0, 2.0)]},
    )
    assert [p.plan for p in c.plans] == ["gold", "free", "legacy"]  # the NaN plan has no line and no value
    assert c.total_per_second == 40.0
    assert [p.share for p in c.plans] == [0.75, 0.25, 0.0]  # a line that stopped: 0 now, a 0 share
    assert c.plans[0].points == ((1.0, 29.0), (2.0, 30.0))
    assert calls_by_plan({"a": 0.0}, {}).plans[0].share is None  # no calls at all: no share to give


def test_active_tenants_fill_missing_windows_and_say_when_the_previous_period_is_partial():
    until = date(2026, 3, 11)
    rows = [
        {"days": 1, "active": 5, "previous": 7, "previous_from": "2026-03-10", "first_day": "2026-02-05"},
        {"days": 30, "active": 9, "previous": 4, "previous_from": "2026-01-11", "first_day": "2026-02-05"},
    ]
    one, seven, thirty = active_tenants(rows, until)
    assert (one.label, one.change, one.partial) == ("24 h", -2, False)
    assert (seven.days, seven.active, seven.previous, seven.partial_note) == (7, 0, 0, "no data")
    assert seven.previous_from == date(2026, 2, 26)  # 14 days back, inclusive
    assert thirty.partial and thirty.partial_note == "partial, data from 2026-02-05"
    # the boundary: data from the previous period's first day is whole
    assert not ActiveTenants(7, 1, 1, date(2026, 2, 26), date(2026, 2, 26)).partial


def test_trend_fills_days_without_customers_and_revenue_orders_plans():
    until = date(2026, 3, 3)
    t = mrr_trend(
        [
            {"day": "2026-03-01", "plan": "gold", "tenants": 1, "mrr_usd": 100.0},
            {"day": "2026-03-03", "plan": "gold", "tenants": 1, "mrr_usd": 100.0},
            {"day": "2026-03-03", "plan": "free", "tenants": 2, "mrr_usd": 5.0},
            {"day": "2026-02-01", "plan": "gold", "tenants": 1, "mrr_usd": 1.0},  # outside: ignored
        ],
        until,
        days=3,
    )
    assert t.days == (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3))
    assert dict(t.by_plan) == {"free": (0.0, 0.0, 5.0), "gold": (100.0, 0.0, 100.0)}
    assert t.total == (100.0, 0.0, 105.0)
    plans = plan_revenue(
        [
            {"plan": "free", "tenants": 0, "mrr_usd": 0.0},
            {"plan": "gold", "tenants": 2, "mrr_usd": 300.0},
            {"plan": "aaa", "tenants": 1, "mrr_usd": 300.0},
        ]
    )
    assert [(p.plan, p.arr_usd) for p in plans] == [("aaa", 3600.0), ("gold", 3600.0), ("free", 0.0)]


def test_top_tenants_read_an_unknown_tenant_and_a_missing_quota():
    [ghost] = top_tenants(
        [
            {
                "tenant_id": "ghost",
                "name": "",
                "plan": "",
                "mrr_usd": 0,
                "ended": 0,
                "total_requests": "12",  # 64-bit integers come as text in JSON
                "month_calls": "3",
                "quota_calls": 0,
                "quota_used_pct": None,
            }
        ]
    )
    assert (ghost.requests, ghost.month_calls, ghost.quota_used_pct, ghost.ended) == (12, 3, None, False)


# --- the tenants table's lifecycle on a real ClickHouse ----------------------------------------

OLD_TENANTS = """CREATE TABLE {database:Identifier}.tenants (
    tenant_id String, name String, plan LowCardinality(String), mrr_usd Float64,
    monthly_quota_calls UInt64, created_at DateTime
) ENGINE = ReplacingMergeTree ORDER BY tenant_id"""


def _revenue(db, until: date):
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.business import fetch_revenue

    async def go():
        source = AnalyticsSource(db.config())
        try:
            return await fetch_revenue(source, until)
        finally:
            await source.close()

    return asyncio.run(go())


def test_an_older_tenants_table_is_named_with_its_fix_then_init_adds_ended_at(tmp_path, capsys):
    pytest.importorskip("chdb", reason="the tenants table is checked on an embedded ClickHouse (pip install chdb)")
    from tests.support.analytics_store import AnalyticsDatabase
    from zeta_tui.cli import main
    from zeta_tui.errors import SchemaMismatch

    db = AnalyticsDatabase(tmp_path, fresh=False)
    try:
        db.session.query(OLD_TENANTS, "CSV", params={"database": db.database})
        created = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())
        db.insert(
            "tenants",
            [
                {
                    "tenant_id": "orca",
                    "name": "Orca",
                    "plan": "gold",
                    "mrr_usd": 700.0,
                    "monthly_quota_calls": 9,
                    "created_at": created,
                },
                {
                    "tenant_id": "wren",
                    "name": "Wren",
                    "plan": "tin",
                    "mrr_usd": 50.0,
                    "monthly_quota_calls": 9,
                    "created_at": created,
                },
            ],
        )
        db.init(settle_s=0, lead_s=0)  # makes api_usage and the rollup; the older tenants gets ended_at
        columns = db.scalar(
            "SELECT groupArray(name) FROM system.columns WHERE database = {database:String} AND table = 'tenants'"
        )
        assert "ended_at" in columns
        assert db.scalar("SELECT count() FROM {database:Identifier}.tenants WHERE ended_at IS NULL") == "2"
        r = _revenue(db, date(2026, 3, 4))
        assert [(p.plan, p.tenants, p.mrr_usd) for p in r.plans] == [("gold", 1, 700.0), ("tin", 1, 50.0)]

        # Drop the column again: what a user's table made before ended_at looks like to the queries.
        db.session.query(
            "ALTER TABLE {database:Identifier}.tenants DROP COLUMN ended_at", "CSV", params={"database": db.database}
        )
        with pytest.raises(SchemaMismatch) as err:
            _revenue(db, date(2026, 3, 4))
        text = err.value.render()
        assert "tenants" in text and "ended_at" in text and "zeta clickhouse init" in text
        config = tmp_path / "config.toml"
        config.write_text(f'[contexts.t.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}"\n')
        code = main(["--config", str(config), "business", "--at", str(datetime(2026, 3, 4, tzinfo=UTC).timestamp())])
        _, err_text = capsys.readouterr()
        assert code == 3 and "Traceback" not in err_text
        assert "ended_at" in err_text and "zeta clickhouse init" in err_text
    finally:
        db.close()


def test_a_tenants_view_that_cannot_take_the_column_is_left_as_it_is_and_reported(tmp_path):
    pytest.importorskip("chdb", reason="the tenants table is checked on an embedded ClickHouse (pip install chdb)")
    from tests.support.analytics_store import AnalyticsDatabase

    db = AnalyticsDatabase(tmp_path, fresh=False)
    try:
        db.session.query(
            "CREATE VIEW {database:Identifier}.tenants AS SELECT 'orca' AS tenant_id, 'Orca' AS name, "
            "'gold' AS plan, 700.0 AS mrr_usd, toUInt64(9) AS monthly_quota_calls, now() AS created_at",
            "CSV",
            params={"database": db.database},
        )
        report = db.init(settle_s=0, lead_s=0)
        assert any("could not add a column" in w and "tenants" in w for w in report.warnings), report.warnings
        assert "View" in db.scalar(
            "SELECT engine FROM system.tables WHERE database = {database:String} AND name = 'tenants'"
        )
    finally:
        db.close()
