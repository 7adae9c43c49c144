"""The catalog on databases made by the seed's DDL, run verbatim (read from ../shared at test time).

Three databases, rows loaded through the seed's own table (tests/support/usage_rows.py's edge
cases, in the seed's columns: api_key_id, latency_ms), in several INSERTs:

- ``seed``: the seed's DDL as written: api_usage and its api_usage_daily SummingMergeTree view;
- ``bare``: only the DDL's CREATE TABLE (a database whose owner never made the view);
- ``late``: the view created after the first batch of rows, so it misses them.

Every catalog query must equal the independent reference (tests/support/analytics_reference.py)
on each, and say where its figures came from: the seed's view only for request counts and only
while it holds every row, else api_usage aggregated inside ClickHouse. Then `zeta clickhouse init`
adds zeta's rollup beside the seed's tables (tests/test_clickhouse_init.py tests init itself) and
the same answers come from the rollup.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

pytest.importorskip("chdb", reason="the catalog is checked on an embedded ClickHouse (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_reference import Reference, assert_rows, batches, cases, expected, run_named
from tests.support.seed_sql import SeedDatabase, statements, usage_ddl
from zeta_tui.backends.analytics import AnalyticsSource

TODAY = edge.LAST_DAY
USAGE_QUERIES = {
    "top_tenants",
    "error_rate_by_endpoint",
    "latency_trend",
    "tenant_usage",
    "requests_over_time",
    "quota_utilization",
    "sla_compliance",
    "business_active_tenants",
    "business_top_tenants",
}
#: What the seed's view holds exactly: requests per tenant, endpoint and day. These read nothing else.
COUNT_QUERIES = {"requests_over_time", "quota_utilization", "business_active_tenants", "business_top_tenants"}


def _load(db: SeedDatabase, usage: list[dict], *, view_after_first: bool = False) -> Reference:
    parts = batches(usage, 4)
    for i, batch in enumerate(parts):
        db.insert("api_usage", batch)
        if view_after_first and i == 0:
            db.run_verbatim(statements(usage_ddl())[1])  # the seed's CREATE MATERIALIZED VIEW, late
    tenants = [edge.tenant_rows(1), edge.tenant_rows(2)]
    cost = [edge.cost_rows(), edge.cost_rows(rewrite=True)]
    for batch in tenants:
        db.insert("tenants", batch)
    for batch in cost:
        db.insert("cost_data", batch)
    return Reference(usage, tenants, cost)


@pytest.fixture(scope="module")
def usage() -> list[dict]:
    return edge.usage_rows()


@pytest.fixture(scope="module")
def seed(tmp_path_factory, usage):
    db = SeedDatabase(tmp_path_factory.mktemp("seed"))
    ref = _load(db, usage)
    yield db, ref
    db.close()


@pytest.fixture(scope="module")
def bare(tmp_path_factory, usage):
    db = SeedDatabase(tmp_path_factory.mktemp("bare"), view=False)
    ref = _load(db, usage)
    yield db, ref
    db.close()


@pytest.fixture(scope="module")
def late(tmp_path_factory, usage):
    db = SeedDatabase(tmp_path_factory.mktemp("late"), view=False)
    ref = _load(db, usage, view_after_first=True)
    yield db, ref
    db.close()


def check_with_notes(db: SeedDatabase, ref: Reference) -> dict[str, set[str]]:
    """Every case against the reference; the notes each query's answers carried."""
    notes: dict[str, set[str]] = {}
    for name, params in cases(TODAY, "acme"):
        result = run_named(db, name, params, TODAY)
        assert_rows(f"{name}{params}", result.rows, expected(ref, name, params, TODAY))
        notes.setdefault(name, set()).add(result.note)
    return notes


def _sources(notes: dict[str, set[str]]) -> dict[str, str]:
    out = {}
    for name, found in notes.items():
        [note] = found  # one source per query, whatever its parameters
        out[name] = (
            "seed view"
            if note.startswith("counts from your api_usage_daily")
            else "api_usage"
            if note.startswith("aggregated from api_usage")
            else note or "rollup"
        )
    return out


def test_the_seed_ddl_made_what_the_seed_says(seed) -> None:
    db, _ = seed
    assert db.scalar(
        "SELECT name, engine FROM system.tables WHERE database = {database:String} AND name NOT LIKE '.inner%' "
        "ORDER BY name"
    ).splitlines() == [
        "api_usage\tMergeTree",
        "api_usage_daily\tMaterializedView",
        "cost_data\tReplacingMergeTree",
        "tenants\tReplacingMergeTree",
    ]
    assert "latency_ms" in db.scalar(
        "SELECT groupArray(name) FROM system.columns WHERE database = {database:String} AND table = 'api_usage'"
    )


def test_every_query_on_the_seed_database_equals_the_reference(seed) -> None:
    db, ref = seed
    sources = _sources(check_with_notes(db, ref))
    # The view's request_count sums exactly, its avg and p95 do not: only the counting queries use it.
    assert {n for n, s in sources.items() if s == "seed view"} == COUNT_QUERIES
    assert {n for n, s in sources.items() if s == "api_usage"} == USAGE_QUERIES - COUNT_QUERIES
    assert {n for n, s in sources.items() if s == "rollup"} == set(
        sources
    ) - USAGE_QUERIES  # cost and plans: no usage read
    assert all("zeta clickhouse init" in note for notes in check_with_notes(db, ref).values() for note in notes if note)


def test_without_the_view_every_usage_query_reads_api_usage(bare) -> None:
    db, ref = bare
    sources = _sources(check_with_notes(db, ref))
    assert {n for n, s in sources.items() if s == "api_usage"} == USAGE_QUERIES


def test_a_view_that_missed_rows_is_not_used(late) -> None:
    db, ref = late
    total = len(ref.usage)
    assert (
        int(db.scalar("SELECT sum(request_count) FROM {database:Identifier}.api_usage_daily")) < total
    )  # it did miss them
    sources = _sources(check_with_notes(db, ref))
    assert {n for n, s in sources.items() if s == "api_usage"} == USAGE_QUERIES


def test_reading_api_usage_pushes_the_window_and_the_aggregation_down(bare) -> None:
    db, ref = bare
    day = date(2026, 2, 15)

    async def go():
        source = AnalyticsSource(db.config())
        try:
            return await source.named("requests_over_time", {"days": 1, "until": day}, today=TODAY)
        finally:
            await source.close()

    answer = asyncio.run(go())
    # Only the window's partition (February) is read: its rows, not the table's. One row per
    # tenant comes back, not the rows.
    february = sum(1 for d, _ in ref.usage if (d.year, d.month) == (2026, 2))
    assert answer.rows_read == february < len(ref.usage) / 2
    assert len(answer.rows) == len({r["tenant_id"] for r in ref.window(1, day)}) > 1


def test_init_then_every_query_reads_zetas_rollup_with_the_same_answers(seed) -> None:
    db, ref = seed
    db.init(settle_s=0, lead_s=0)
    sources = _sources(check_with_notes(db, ref))
    assert set(sources.values()) == {"rollup"}
    # The seed's view is still the seed's (a SummingMergeTree), beside zeta's rollup.
    assert "SummingMergeTree" in db.scalar(
        "SELECT create_table_query FROM system.tables WHERE database = {database:String} AND name = 'api_usage_daily'"
    )


def _shape(db) -> list[str]:
    columns = db.scalar(
        "SELECT name, type, default_kind, default_expression FROM system.columns WHERE database = {database:String} "
        "AND table = 'api_usage' ORDER BY position"
    ).splitlines()
    table = db.scalar(
        "SELECT engine, partition_key, sorting_key, primary_key FROM system.tables WHERE database = {database:String} "
        "AND name = 'api_usage'"
    )
    return [*columns, table]


def test_zetas_api_usage_is_the_seeds_and_the_demo_writes_its_rows(tmp_path) -> None:
    from tests.support.analytics_store import AnalyticsDatabase
    from tests.support.world import SEED, T0
    from zeta_tui.demo.requests import WorldRequests
    from zeta_tui.demo.usage import usage_rows
    from zeta_tui.demo.world import TeamZetaWorld

    theirs = SeedDatabase(tmp_path / "seed", view=False, zeta_tables=False)
    ours = AnalyticsDatabase(tmp_path / "zeta")
    try:
        assert _shape(ours) == _shape(theirs)  # columns, types, defaults, engine and keys
        rows = list(usage_rows(WorldRequests(TeamZetaWorld(SEED), sample_every=1000).generate(T0 - 3600, T0)))
        seed_columns = [line.split("\t")[0] for line in _shape(theirs)[:-1]]
        assert rows and all(
            list(r) == [c for c in seed_columns if c != "date"] for r in rows
        )  # date: the table's DEFAULT
        theirs.session.query(
            "INSERT INTO {database:Identifier}.api_usage SETTINGS input_format_skip_unknown_fields = 0 "
            "FORMAT JSONEachRow\n" + "\n".join(json.dumps(r) for r in rows),
            "CSV",
            params={"database": theirs.database},
        )
        assert int(
            theirs.scalar("SELECT count() FROM {database:Identifier}.api_usage WHERE date = toDate(timestamp)")
        ) == len(rows)
    finally:
        ours.close()
        theirs.close()
