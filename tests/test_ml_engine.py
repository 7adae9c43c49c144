"""The ML Engine's figures (`zeta ml`): the model on hand-built answers, and every figure on the
backfilled world against the world's raw samples and its documented schedule (never zeta's output).

The world's references (tests/test_world_ml.py says the dates): at T0 tenant_007's training has
failed data validation since 08:00; 15 minutes before T0 (before the 17:10 ml-engine spike dips
every tenant) the 2026-03-11 rollout has put 8 tenants (number = 108 mod 5) 25 % below their median.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.world import T0, close, extrapolated_rate, grid, histogram_quantile, in_range
from zeta_tui.cli import main
from zeta_tui.models.ml_engine import (
    QUALITY_DROP_THRESHOLD,
    MlEngine,
    TenantQuality,
    TrainingJob,
    served_per_tenant,
    tenant_quality,
    training_jobs,
)

ROLLOUT_AT = datetime(2026, 3, 11, 16, 0, tzinfo=UTC).timestamp()
FIRST_ROLLOUT = datetime(2025, 1, 3, 16, 0, tzinfo=UTC).timestamp()
FAILURES_FROM = datetime(2026, 3, 11, 8, 0, tzinfo=UTC).timestamp()
TENANTS = [f"tenant_{n:03d}" for n in range(1, 41)]
BEFORE_SPIKE = T0 - 15 * 60


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


# --- the model on hand-built answers ----------------------------------------------------------


def test_training_rows_failed_first_with_failing_for():
    rows = training_jobs(
        [("acme", "succeeded", ""), ("zulu", "failed", "oom"), ("beta", "running", ""), ("old", "failed", "x")],
        {"acme": 100.0, "zulu": 900.0, "beta": 950.0, "old": 500.0, "ghost": 10.0},
        {"acme": 60.0, "zulu": 30.0},
        {"acme": 160.0, "zulu": 400.0, "old": 0.0},
        now=1000.0,
    )
    assert [r.tenant_id for r in rows] == ["zulu", "old", "beta", "acme", "ghost"]
    zulu = rows[0]
    assert (zulu.status, zulu.reason, zulu.started, zulu.duration_s) == ("failed", "oom", 900.0, 30.0)
    assert zulu.failing_for_s == 600.0  # now - last success
    assert rows[1].last_success is None and rows[1].failing_for_s is None  # 0 is "never": unknown, not 1000 s
    assert rows[3].failing_for_s is None  # only failures fail
    beta = rows[2]
    assert (beta.duration_s, beta.running_for_s) == (None, 50.0)  # not a previous run's duration
    assert rows[4].status == "unknown"


def test_the_longest_failing_comes_first():
    rows = training_jobs([("a", "failed", "r"), ("b", "failed", "r")], {}, {}, {"a": 900.0, "b": 100.0}, now=1000.0)
    assert [r.tenant_id for r in rows] == ["b", "a"]


def test_quality_takes_the_serving_version_and_marks_drops_worst_first():
    rows = tenant_quality(
        [
            ("a", "v1", 0.40),  # 20 % down
            ("b", "v1", 0.50),
            ("b", "v2", 0.455),  # the older version lingers: the higher one counts, as max without
            ("c", "v2", 0.451),  # exactly 9.8 % down: under the threshold
            ("d", "v2", float("nan")),
        ],
        {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.4, "e": 0.3},
    )
    assert [r.tenant_id for r in rows] == ["a", "c", "b", "d", "e"]
    assert rows[0].drop == pytest.approx(0.2) and rows[0].dropped
    assert rows[1].drop == pytest.approx(0.098) and not rows[1].dropped
    assert (rows[2].ndcg, rows[2].model_version, rows[2].drop) == (0.5, "v1", 0.0)
    assert rows[3].ndcg is None and rows[3].drop is None and not rows[3].dropped
    assert QUALITY_DROP_THRESHOLD == 0.10


def test_the_threshold_is_strictly_over_ten_percent():
    assert not TenantQuality("t", 0.9, median_7d=1.0).dropped
    assert TenantQuality("t", 0.8999, median_7d=1.0).dropped
    assert TenantQuality("t", 0.5, median_7d=0.0).drop is None


def test_served_top_first_and_health():
    assert [r.tenant_id for r in served_per_tenant({"a": 1.0, "b": 3.0, "c": 3.0, "d": math.nan})] == ["b", "c", "a"]
    assert MlEngine(0, "1h").healthy
    assert not MlEngine(0, "1h", training=(TrainingJob("a", "failed"),)).healthy
    assert not MlEngine(0, "1h", quality=(TenantQuality("a", 0.1, median_7d=0.5),)).healthy
    assert MlEngine(0, "1h", training=(TrainingJob("a", "running"),)).healthy


# --- against the world -------------------------------------------------------------------------


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{url}"\ntimeout_seconds = 20\n')
    return path


def _ml(capsys, config: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "ml", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _raw(pw, series, end: float) -> list[tuple[float, float]]:
    times = grid(pw.start, end, pw.step)
    return list(zip(times, pw.world.values(series, times)))


def _at_grid(pw, series, at: float) -> float:
    """The newest raw sample an instant query at ``at`` sees (the backfill has one every step)."""
    return _raw(pw, series, at)[-1][1]


@pytest.fixture(scope="module")
def at_t0(prometheus_world, tmp_path_factory) -> dict:
    config = _config(tmp_path_factory.mktemp("ml"), prometheus_world.url)
    code = main(["--config", str(config), "ml", "--at", str(T0), "--json"])
    return {"config": config, "code": code}


def _json(capsys, config: Path, at: float, range_: str = "1h") -> tuple[int, dict]:
    code, out, err = _ml(capsys, config, "--at", str(at), "--range", range_, "--json")
    assert "Traceback" not in err
    return code, json.loads(out)


@pytest.mark.prometheus
def test_training_jobs_against_the_raw_gauges_and_the_schedule(prometheus_world, at_t0, capsys):
    pw = prometheus_world
    code, doc = _json(capsys, at_t0["config"], T0)
    assert code == 1  # tenant_007 is failing
    rows = {r["tenant_id"]: r for r in doc["training"]}
    assert sorted(rows) == TENANTS
    for tenant in TENANTS:
        statuses = [
            (s.label_dict["status"], s.label_dict.get("reason", ""))
            for s in pw.world.find("training_job_status", tenant_id=tenant)
            if _at_grid(pw, s, T0) == 1
        ]
        assert len(statuses) == 1, (tenant, statuses)
        status, reason = statuses[0]
        row = rows[tenant]
        assert (row["status"], row["reason"] or "") == (status, reason)
        started = _at_grid(pw, pw.world.one("training_job_last_start_timestamp_seconds", tenant_id=tenant), T0)
        assert row["started"] == datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        duration = _at_grid(pw, pw.world.one("training_job_last_duration_seconds", tenant_id=tenant), T0)
        if status == "running":  # the gauge still holds the previous run's: the row says how long this one ran
            assert row["duration_seconds"] is None and close(row["running_for_seconds"], T0 - started)
        else:
            assert row["duration_seconds"] == duration and row["running_for_seconds"] is None
        success = _at_grid(pw, pw.world.one("training_job_last_success_timestamp_seconds", tenant_id=tenant), T0)
        if status == "failed":
            assert close(row["failing_for_seconds"], T0 - success)
        else:
            assert row["failing_for_seconds"] is None
    order = [r["status"] for r in doc["training"]]
    assert order == sorted(order, key=lambda s: {"failed": 0, "running": 1, "succeeded": 2}[s])
    failing = [r for r in doc["training"] if r["status"] == "failed"]
    assert [r["failing_for_seconds"] for r in failing] == sorted(
        (r["failing_for_seconds"] for r in failing), reverse=True
    )
    # The schedule: every run of tenant_007 since 08:00 failed data validation after 4 minutes, so its
    # last success is the run under way at 08:00 or before (runs take at most 55 minutes, every 6 h).
    t7 = rows["tenant_007"]
    assert (t7["status"], t7["reason"], t7["duration_seconds"]) == ("failed", "data_validation", 240)
    assert T0 - (FAILURES_FROM + 55 * 60) < t7["failing_for_seconds"] < T0 - (FAILURES_FROM - 6 * 3600)


def _level(per_version: list[list[tuple[float, float]]], at: float) -> float | None:
    """max without (model_version) at ``at``: each version's newest sample in the 5-minute lookback."""
    found = []
    for samples in per_version:
        recent = [v for t, v in in_range(samples, at, 300) if not math.isnan(v)]
        if recent:
            found.append(recent[-1])
    return max(found) if found else None


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    rank = 0.5 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _hit_by_rollout() -> set[str]:
    n = round((ROLLOUT_AT - FIRST_ROLLOUT) / (4 * 86400))
    return {t for t in TENANTS if int(t[-3:]) % 5 == n % 5}


@pytest.mark.prometheus
@pytest.mark.parametrize("at", [BEFORE_SPIKE, T0])
def test_quality_against_the_raw_samples(prometheus_world, at_t0, capsys, at):
    pw = prometheus_world
    code, doc = _json(capsys, at_t0["config"], at)
    rows = {r["tenant_id"]: r for r in doc["quality"]}
    assert sorted(rows) == TENANTS
    for tenant in TENANTS:
        per_version = [
            _raw(pw, s, at) for s in pw.world.find("ml_recommendation_quality", metric="ndcg_10", tenant_id=tenant)
        ]
        steps = range(math.ceil((at - 7 * 86400) / 300) * 300, int(at) + 1, 300)
        median = _median([v for v in (_level(per_version, s) for s in steps) if v is not None])
        now = _level(per_version, at)
        row = rows[tenant]
        assert close(row["value"], now) and close(row["median_7d"], median, 1e-9), tenant
        assert close(row["drop"], (median - now) / median, 1e-6)
        assert row["dropped"] is ((median - now) / median > 0.10)
        assert row["model_version"] == "ranker-v42"  # 80 minutes into the rollout: the candidate serves
    drops = [r["drop"] for r in doc["quality"]]
    assert drops == sorted(drops, reverse=True)  # worst first
    assert code == 1
    if at == BEFORE_SPIKE:  # the rollout's 8 hurt tenants, and only they, as ModelQualityDrop marks them
        assert {r["tenant_id"] for r in doc["quality"] if r["dropped"]} == _hit_by_rollout()
        assert {r["tenant_id"] for r in doc["quality"][:8]} == _hit_by_rollout()  # worst first
    else:  # inside the ml-engine spike every tenant dips 0.06 (12-19 %)
        assert all(r["dropped"] for r in doc["quality"])


def _increase(pw, series, at: float, range_s: float) -> float | None:
    return extrapolated_rate(_raw(pw, series, at), at, range_s, as_rate=False)


@pytest.mark.prometheus
@pytest.mark.parametrize("range_", ["1h", "30m"])
def test_cache_ann_and_served_over_the_range(prometheus_world, at_t0, capsys, range_):
    pw = prometheus_world
    range_s = {"1h": 3600, "30m": 1800}[range_]
    _, doc = _json(capsys, at_t0["config"], T0, range_)
    hits = sum(_increase(pw, s, T0, range_s) for s in pw.world.find("cache_hits_total"))
    misses = sum(_increase(pw, s, T0, range_s) for s in pw.world.find("cache_misses_total"))
    assert close(doc["cache_hit_ratio"], hits / (hits + misses), 1e-9)
    assert abs(doc["cache_hit_ratio"] - 0.88) < 0.01  # the world's redis answers 88 % of lookups
    buckets: dict[float, float] = defaultdict(float)
    for s in pw.world.find("ann_search_duration_seconds_bucket"):
        buckets[float(s.label_dict["le"])] += extrapolated_rate(_raw(pw, s, T0), T0, range_s)
    for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        assert close(doc["ann_latency_seconds"][key], histogram_quantile(q, buckets.items()), 1e-9), key
    assert doc["ann_latency_seconds"]["p50"] < doc["ann_latency_seconds"]["p95"] < doc["ann_latency_seconds"]["p99"]
    expected = {
        s.label_dict["tenant_id"]: extrapolated_rate(_raw(pw, s, T0), T0, range_s)
        for s in pw.world.find("recommendations_served_total")
    }
    served = doc["recommendations_served"]
    assert [r["tenant_id"] for r in served] == sorted(expected, key=lambda t: (-expected[t], t))
    assert all(close(r["per_second"], expected[r["tenant_id"]], 1e-9) for r in served)
    assert len(served) == 40


@pytest.mark.prometheus
def test_json_shape_and_text(prometheus_world, at_t0, capsys):
    assert at_t0["code"] == 1
    code, doc = _json(capsys, at_t0["config"], T0)
    assert set(doc) == {
        "at",
        "range",
        "healthy",
        "training",
        "quality",
        "cache_hit_ratio",
        "ann_latency_seconds",
        "recommendations_served",
    }
    assert (doc["at"], doc["range"], doc["healthy"]) == ("2026-03-11T17:20:07Z", "1h", False)
    assert set(doc["training"][0]) == {
        "tenant_id",
        "status",
        "reason",
        "started",
        "duration_seconds",
        "running_for_seconds",
        "last_success",
        "failing_for_seconds",
    }
    assert set(doc["quality"][0]) == {"tenant_id", "metric", "value", "model_version", "median_7d", "drop", "dropped"}
    code, out, err = _ml(capsys, at_t0["config"], "--at", str(T0))
    assert (code, err) == (1, "")
    t7 = next(line.split() for line in out.splitlines() if line.startswith("tenant_007") and "failed" in line)
    assert t7[:3] == ["tenant_007", "failed", "data_validation"]
    assert out.index("training jobs") < out.index("model quality") < out.index("recommendations served")


@pytest.mark.prometheus
def test_an_empty_prometheus_is_healthy(prometheus, tmp_path, capsys):
    code, out, err = _ml(capsys, _config(tmp_path, prometheus.url), "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["training"] == doc["quality"] == doc["recommendations_served"] == []
    assert doc["cache_hit_ratio"] is None and doc["ann_latency_seconds"] == {"p50": None, "p95": None, "p99": None}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prometheus_down_is_exit_3_with_its_url(tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}"
    code, out, err = _ml(capsys, _config(tmp_path, url), "--json")
    assert (code, out) == (3, "")
    assert url in err and "Traceback" not in err


def test_config_errors_are_exit_2(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[contexts.t.alertmanager]\nurl = "http://127.0.0.1:9"\n')
    code, _, err = _ml(capsys, config)
    assert code == 2 and "prometheus" in err.lower()
    code, _, err = _ml(capsys, _config(tmp_path, "http://127.0.0.1:9"), "--range", "soon")
    assert code == 2 and "--range" in err


def test_the_command_runs_the_fetch_concurrently():
    """One gather: every question is in flight before the first answer (the screen's 1 s budget)."""
    from zeta_tui.backends.ml_engine import fetch_ml_engine
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.models.series import QueryResult
    from zeta_tui.models.timerange import TimeRange
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    class Slow:
        def __init__(self) -> None:
            self.in_flight = self.most = 0

        async def query(self, expr: str, at: float | None = None) -> QueryResult:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            await asyncio.sleep(0.01)
            self.in_flight -= 1
            return QueryResult([])

    prom = Slow()
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    result = asyncio.run(fetch_ml_engine(prom, catalog, time_range=TimeRange(0, 3600, "1h")))  # type: ignore[arg-type]
    assert prom.most == 11 and result.data.healthy
