"""Every catalog query on a real embedded ClickHouse (chdb) against an independent Python computation.

Two databases in the test process's store, both created as `zeta clickhouse init` creates a
fresh one (schema.sql, rollup.sql):

- ``world``: two days of the Team Zeta world's usage (zeta_tui.demo.usage: api_usage rows from
  the generated requests, the world's tenants, cost_data from the call counts);
- ``edge``: tests/support/usage_rows.py's 40 days across a month boundary, with the cases the
  world lacks (latencies at quantileTiming's edges, a tenant without a tenants row, zero quota
  and MRR, an unknown plan, tenants and cost rows re-written later).

Rows go in over several INSERTs (several parts, several partial states per rollup key); each
query's answer must equal the reference (tests/support/analytics_reference.py) computed from the
same rows, before and after ``OPTIMIZE TABLE ... FINAL`` merges the parts. Databases made by the
seed's DDL are tests/test_analytics_seed.py's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

pytest.importorskip("chdb", reason="the catalog is checked on an embedded ClickHouse (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_reference import (
    REFERENCES,
    Reference,
    _by,
    _int_hash32,
    batches,
    cases,
    check_all,
    nonempty,
    run_named,
    same_answers,
    timing_quantiles,
)
from tests.support.analytics_store import AnalyticsDatabase
from tests.support.product_reference import PRODUCT_QUERIES
from tests.support.world import SEED, T0

WORLD_TODAY = datetime.fromtimestamp(T0, tz=UTC).date()


def test_the_reference_quantile_matches_hand_workedcases() -> None:
    # 20 values 0..19: index floor(20 * 0.5) = 10, floor(20 * 0.95) = 19 (0.95 * 20 is 19.0 in binary floating point)
    assert [q.pop() for q in timing_quantiles(list(range(20)))] == [10.0, 19.0, 19.0]
    assert timing_quantiles([40_000, 5])[0] == {30_000.0}  # capped at 30 s
    # 6,000 values: the histogram. Half are 10 ms: the 3,000th value (ceil(6000 * 0.5)) is exact.
    # The rest are 2,000 ms, in bucket (2000 - 1024) // 16 = 61, reported as 1024 + 61 * 16 = 2000
    # moved by intHash32(61) % 16 - 8.
    p50, p95, p99 = (q.pop() for q in timing_quantiles([10] * 3000 + [2000] * 3000))
    assert p50 == 10.0 and p95 == p99 == 2000 + _int_hash32(61) % 16 - 8


def test_the_reference_agrees_with_clickhouse_on_raw_values(tmp_path) -> None:
    # The reference is checked once against ClickHouse's own aggregate on plain arrays (and the
    # hash against the intHash32 SQL function, which is intHash32 salted with 0x75D9543DE018BF45,
    # src/Functions/FunctionsHashing.h), so that the catalog tests below test the rollup, not the reference.
    import random

    from zeta_tui.backends import chdb_store

    paths = list(chdb_store._sessions)
    session = chdb_store.embedded_session(paths[0] if paths else tmp_path / "store", create=True)
    try:
        got = session.query("SELECT groupArray(intHash32(number)) FROM numbers(2000)", "JSONCompact").bytes()
        import orjson

        assert orjson.loads(got)["data"][0][0] == [_int_hash32(i, 0x75D9543DE018BF45) for i in range(2000)]
        rng = random.Random(3)
        for n in (1, 2, 7, 31, 32, 100, 1000, 5671, 5673, 9000):
            values = [rng.choice((rng.randint(0, 1100), rng.randint(1000, 32_000))) for _ in range(n)]
            out = session.query(
                "SELECT quantilesTiming(0.5, 0.95, 0.99)(x) FROM (SELECT arrayJoin({v:Array(UInt32)}) AS x)",
                "JSONCompact",
                params={"v": "[" + ",".join(map(str, values)) + "]"},
            ).bytes()
            answer = orjson.loads(out)["data"][0][0]
            assert [a in q for a, q in zip(answer, timing_quantiles(values))] == [True] * 3, (n, answer)
    finally:
        if not paths:
            chdb_store.close_embedded_session(tmp_path / "store")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from zeta_tui.demo.requests import WorldRequests
    from zeta_tui.demo.usage import call_counts, cost_rows, tenant_rows, usage_rows
    from zeta_tui.demo.world import TeamZetaWorld

    w = TeamZetaWorld(SEED)
    usage = list(usage_rows(WorldRequests(w, sample_every=1000).generate(T0 - 2 * 86400, T0)))
    tenants = tenant_rows(w.topology, WORLD_TODAY)
    cost = cost_rows(call_counts(usage))
    db = AnalyticsDatabase(tmp_path_factory.mktemp("analytics-world"))
    for batch in batches(usage, 3):
        db.insert("api_usage", batch)
    db.insert("tenants", tenants)
    db.insert("cost_data", cost)
    yield db, Reference(usage, [tenants], [cost]), WORLD_TODAY
    db.close()


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    usage = edge.usage_rows()
    db = AnalyticsDatabase(tmp_path_factory.mktemp("analytics-edge"))
    for batch in batches(usage, 5):
        db.insert("api_usage", batch)
    tenant_batches = [edge.tenant_rows(1), edge.tenant_rows(2)]
    cost_batches = [edge.cost_rows(), edge.cost_rows(rewrite=True)]
    for batch in tenant_batches:
        db.insert("tenants", batch)
    for batch in cost_batches:
        db.insert("cost_data", batch)
    yield db, Reference(usage, tenant_batches, cost_batches), edge.LAST_DAY
    db.close()


def test_every_catalog_query_is_covered() -> None:
    from zeta_tui.querying.sql_catalog import load_catalog

    # the product queries (on events, not api_usage) are tests/test_product_queries.py's
    usage = set(load_catalog()) - set(PRODUCT_QUERIES)
    assert {name for name, _ in cases(date(2026, 3, 4), "x")} == usage == set(REFERENCES)


def test_world_answers_equal_the_reference_and_stay_exact_after_merges(world) -> None:
    db, ref, today = world
    busy = max(_by((r for _, r in ref.usage), "tenant_id").items(), key=lambda kv: len(kv[1]))[0][0]
    assert db.parts("zeta_api_usage_daily") >= 3  # several parts: several partial states per key to merge
    before = check_all(db, ref, today, busy)
    nonempty(before, history_from=min(d for d, _ in ref.usage))
    db.optimize()
    assert db.parts("zeta_api_usage_daily") <= 2  # one per monthly partition
    after = check_all(db, ref, today, busy)
    same_answers(after, before)


def test_edge_answers_equal_the_reference_and_stay_exact_after_merges(edges) -> None:
    db, ref, today = edges
    assert db.parts("zeta_api_usage_daily") >= 5 and db.parts("tenants") == 2 and db.parts("cost_data") == 2
    before = check_all(db, ref, today, "acme")
    nonempty(before, history_from=date.min)
    db.optimize()
    assert db.parts("zeta_api_usage_daily") <= 3 and db.parts("tenants") == 1
    after = check_all(db, ref, today, "acme")
    same_answers(after, before)


def test_the_edge_data_reaches_the_cases_it_is_for(edges) -> None:
    db, _, today = edges
    rows = run_named(db, "top_tenants", {"days": 30, "limit": 100}, today).records()
    by_id = {r["tenant_id"]: r for r in rows}
    assert by_id["ghost"]["name"] == "" and by_id["ghost"]["quota_used_pct"] is None  # usage without a tenants row
    assert by_id["dune"]["quota_used_pct"] is None  # zero quota
    assert by_id["bolt"]["plan"] == "enterprise" and by_id["cask"]["quota_calls"] == 2500  # the later tenants rows win
    acme = run_named(db, "tenant_usage", {"tenant": "acme", "days": 3}, today).records()
    rec = next(r for r in acme if r["endpoint"] == "/api/v1/recommendations")
    assert rec["requests"] > 5672 and rec["p95_ms"] > 1024  # the histogram answered, above 1,024 ms
    sla = run_named(db, "sla_compliance", {}, today).records()
    assert {r["plan"]: r["target_pct"] for r in sla}["legacy"] == 99.0
    assert "idle" in {r["tenant_id"] for r in run_named(db, "quota_utilization", {}, today).records()}
    cost = run_named(db, "cost_per_tenant", {}, today).records()
    assert next(r for r in cost if r["tenant_id"] == "dune")["cost_to_mrr_pct"] is None
