"""The seed's three analytics queries and its cost query, verbatim through `zeta sql`, against the named queries.

On a database made by the seed's DDL verbatim (read from ../shared at test time), with rows
loaded through the seed's table, dated around ClickHouse's own today() (the seed's queries use
it). Each seed query runs as the document has it (its comment line and ';' included) through
`zeta sql`; the named query it overlaps runs through `zeta sql --name` with the same window.
Both are checked before zeta's rollup exists (the seed's view and api_usage) and after
`zeta clickhouse init` (zeta's rollup):

- "Top 10 tenants by API usage" (``date >= today() - 30``: 31 days) = top_tenants' requests over
  31 days ending today;
- "Error rate by endpoint" (5xx share over 8 days, above 1 %) = error_rate_by_endpoint's
  server_error_rate_pct (every endpoint here has one method, as in the seed's platform);
- "Latency trend over time": the same days in the same order; the seed's ``quantile`` (reservoir
  sampling, interpolated between neighbouring values; exact up to 8,192 values) and zeta's
  ``quantileTiming`` (the value at floor(n * level)) are different estimators, each checked
  against its own definition in Python, and on a day of up to 5,671 requests they differ by at
  most the gap between the two neighbouring latencies they sit between;
- the cost query = daily_cost's cost and cost_per_call's cost per call over 31 days (the seed
  reads cost_data without FINAL: equal once its parts are merged, as the demo's are).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

pytest.importorskip("chdb", reason="the seed's queries run on an embedded ClickHouse (pip install chdb)")

from tests.support import usage_rows as edge
from tests.support.analytics_reference import batches, timing_quantiles
from tests.support.seed_sql import SeedDatabase, analytics_queries, cost_query
from zeta_tui.cli import main

LEVELS = (0.5, 0.95, 0.99)


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed-queries")
    db = SeedDatabase(root)
    now = int(db.scalar("SELECT toUnixTimestamp(now())"))
    today = date.fromisoformat(db.scalar("SELECT today()"))
    rows = [r for r in edge.usage_rows(seed=3, last_day=today) if r["timestamp"] < now - 60]
    for batch in batches(rows, 3):
        db.insert("api_usage", batch)
    db.insert("cost_data", edge.cost_rows(last_day=today))
    db.insert("cost_data", edge.cost_rows(rewrite=True, last_day=today))
    db.session.query("OPTIMIZE TABLE {database:Identifier}.cost_data FINAL", "CSV", params={"database": db.database})
    config = root / "zeta.toml"
    config.write_text(f'[contexts.s.clickhouse]\npath = "{db.path}"\ndatabase = "{db.database}"\n')
    yield db, str(config), today, rows
    db.close()


def sql(capsys, config: str, *argv: str) -> tuple[list[dict], str]:
    code = main(["--config", config, "sql", *argv, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return [json.loads(line) for line in out.out.splitlines()], out.err


def named(capsys, config: str, name: str, **params: object) -> tuple[list[dict], str]:
    return sql(capsys, config, "--name", name, *(f"--param={k}={v}" for k, v in params.items()))


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _interpolated(values: list[int], level: float) -> float:
    """ClickHouse's quantile on a reservoir that holds every value: linear between the values around level * (n - 1)."""
    ordered = sorted(values)
    pos = level * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (pos - low) * (ordered[high] - ordered[low])


def _check_top_tenants(capsys, config: str, today: date, rows: list[dict]) -> str:
    seed, _ = sql(capsys, config, analytics_queries()["Top 10 tenants by API usage"])
    zeta, err = named(capsys, config, "top_tenants", days=31, until=today, limit=10)
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        if _day(r["timestamp"]) >= today - timedelta(days=30):
            counts[r["tenant_id"]] += 1
    want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert sorted(((r["tenant_id"], r["total_requests"]) for r in seed), key=lambda kv: (-kv[1], kv[0])) == want
    assert [(r["tenant_id"], r["requests"]) for r in zeta] == want
    assert [r["total_requests"] for r in seed] == sorted((r["total_requests"] for r in seed), reverse=True)
    return err


def _check_error_rate(capsys, config: str, today: date, rows: list[dict]) -> str:
    seed, _ = sql(capsys, config, analytics_queries()["Error rate by endpoint"])
    zeta, err = named(capsys, config, "error_rate_by_endpoint", days=8, until=today)
    assert len({r["endpoint"] for r in zeta}) == len(zeta)  # one method per endpoint: the seed's grouping is the same
    ours = sorted(
        ((r["endpoint"], r["server_error_rate_pct"]) for r in zeta if r["server_error_rate_pct"] > 1),
        key=lambda kv: -kv[1],
    )
    theirs = [(r["endpoint"], r["error_rate_percent"]) for r in seed]
    assert [e for e, _ in theirs] == [e for e, _ in ours] and len(theirs) >= 2
    assert [v for _, v in theirs] == pytest.approx([v for _, v in ours], rel=1e-12)
    window = [r for r in rows if _day(r["timestamp"]) >= today - timedelta(days=7)]
    for endpoint, rate in theirs:  # and both are the 5xx share, counted here
        mine = [r for r in window if r["endpoint"] == endpoint]
        assert rate == pytest.approx(sum(r["status_code"] >= 500 for r in mine) * 100 / len(mine), rel=1e-12)
    return err


def _check_latency_trend(capsys, config: str, today: date, rows: list[dict]) -> str:
    seed, _ = sql(capsys, config, analytics_queries()["Latency trend over time"])
    zeta, err = named(capsys, config, "latency_trend", days=31, until=today)
    per_day: dict[date, list[int]] = defaultdict(list)
    for r in rows:
        if _day(r["timestamp"]) >= today - timedelta(days=30):
            per_day[_day(r["timestamp"])].append(r["latency_ms"])
    assert [r["date"] for r in seed] == [r["date"] for r in zeta] == [d.isoformat() for d in sorted(per_day)]
    compared = 0
    for s, z in zip(seed, zeta):
        values = per_day[date.fromisoformat(s["date"])]
        assert z["requests"] == len(values)
        timing = timing_quantiles(values)
        for level, column, key in zip(LEVELS, ("p50", "p95", "p99"), ("p50_ms", "p95_ms", "p99_ms")):
            assert s[column] == pytest.approx(_interpolated(values, level), rel=1e-9)
            assert z[key] in timing[LEVELS.index(level)]
            ordered = sorted(values)
            low = math.floor(level * (len(ordered) - 1))
            neighbours = ordered[low], ordered[min(low + 1, len(ordered) - 1)]
            if len(values) <= 5671 and neighbours[1] <= 30_000:
                assert neighbours[0] <= s[column] <= neighbours[1] and z[key] in neighbours
                assert abs(s[column] - z[key]) <= neighbours[1] - neighbours[0]
                compared += 1
    assert compared >= 60
    return err


def _check_cost(capsys, config: str, today: date) -> None:
    seed, _ = sql(capsys, config, cost_query())
    daily, _ = named(capsys, config, "daily_cost", days=31, until=today)
    per_call, _ = named(capsys, config, "cost_per_call", days=31, until=today)
    assert [r["date"] for r in seed] == sorted((r["date"] for r in seed), reverse=True)
    theirs = {(r["date"], r["service"]): (r["daily_cost"], r["cost_per_call"]) for r in seed}
    ours = {(r["date"], r["service"]): r["cost_usd"] for r in daily}
    ratio = {(r["date"], r["service"]): r["cost_per_call_usd"] for r in per_call}
    assert theirs.keys() == ours.keys() == ratio.keys() and len(theirs) == 31 * 3
    for key, (cost, per) in theirs.items():
        assert cost == pytest.approx(ours[key], rel=1e-9)
        assert per == pytest.approx(ratio[key], rel=1e-9)


def test_the_seed_queries_equal_the_named_queries_before_and_after_init(seed, capsys) -> None:
    _, config, today, rows = seed
    notes = [
        _check_top_tenants(capsys, config, today, rows),
        _check_error_rate(capsys, config, today, rows),
        _check_latency_trend(capsys, config, today, rows),
    ]
    _check_cost(capsys, config, today)
    assert all("note: aggregated from api_usage" in n for n in notes)  # no rollup yet: zeta says what it read
    code = main(["--config", config, "clickhouse", "init", "--yes", "--settle", "0"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    notes = [
        _check_top_tenants(capsys, config, today, rows),
        _check_error_rate(capsys, config, today, rows),
        _check_latency_trend(capsys, config, today, rows),
    ]
    _check_cost(capsys, config, today)
    assert not any("note:" in n for n in notes)  # zeta's rollup


def test_the_seed_text_is_what_these_tests_think_it_is() -> None:
    # The queries are found by their comment lines; a changed seed must fail here, not pass on nothing.
    assert list(analytics_queries()) == [
        "Top 10 tenants by API usage",
        "Error rate by endpoint",
        "Latency trend over time",
    ]
    assert "FROM cost_data" in cost_query() and cost_query().rstrip().endswith(";")
