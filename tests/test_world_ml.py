"""The world's model and data series in a real Prometheus, against an independent computation.

T0 (tests/support/world.py, 2026-03-11 17:20:07 UTC) is, by the schedule docs/demo.md states:
80 minutes into a model rollout (from 16:00, every 4 days since 2025-01-03 16:00; rollout n
hurts the tenants whose number is n mod 5), inside tenant_007's training-failure window (from
08:00, 20 h) and 110 minutes into tenant_013's stale feed (from 15:30, 3 h). The expectations
below come from those dates, the documented batch times (every 5 minutes at tenant number x 37 s
mod 300) and the raw status samples, never from the series' own functions.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from tests.support.world import T0, close, extrapolated_rate, grid, histogram_quantile, in_range

pytestmark = pytest.mark.prometheus

ROLLOUT_AT = datetime(2026, 3, 11, 16, 0, tzinfo=UTC).timestamp()
FIRST_ROLLOUT = datetime(2025, 1, 3, 16, 0, tzinfo=UTC).timestamp()
FAILURES_FROM = datetime(2026, 3, 11, 8, 0, tzinfo=UTC).timestamp()
STALE_FROM = datetime(2026, 3, 11, 15, 30, tzinfo=UTC).timestamp()
TENANTS = [f"tenant_{n:03d}" for n in range(1, 41)]


async def _query(pw, expr: str, at: float = T0) -> dict[tuple[tuple[str, str], ...], float]:
    client = pw.client()
    try:
        result = await client.query(expr, at=at)
    finally:
        await client.aclose()
    assert not result.warnings, result.warnings
    return {tuple(sorted(sample.labels.items())): sample.v for sample in result.data}


def _by_tenant(answer: dict) -> dict[str, float]:
    return {dict(k)["tenant_id"]: v for k, v in answer.items()}


def _last_grid(at: float, step: int = 15) -> int:
    return int(at) // step * step


# --- data freshness ------------------------------------------------------------------------


def _newest_batch(tenant: str, t: float) -> float:
    phase = int(tenant[-3:]) * 37 % 300
    batches = [b for b in range(int(t) - 600, int(t) + 1) if b % 300 == phase]
    newest = batches[-1]
    if tenant == "tenant_013" and newest >= STALE_FROM:
        newest = max(b for b in range(int(STALE_FROM) - 600, int(STALE_FROM)) if b % 300 == phase)
    return float(newest)


async def test_ingest_timestamps_and_the_stale_feed(prometheus_world):
    pw = prometheus_world
    got = _by_tenant(await _query(pw, "tenant_data_last_ingest_timestamp_seconds"))
    at = _last_grid(T0)  # the newest sample an instant query at T0 sees
    assert got == {t: _newest_batch(t, at) for t in TENANTS}
    stale = _by_tenant(await _query(pw, "time() - tenant_data_last_ingest_timestamp_seconds > 3600"))
    assert list(stale) == ["tenant_013"]
    assert 110 * 60 <= stale["tenant_013"] <= 115 * 60  # its last batch came before 15:30
    last = _newest_batch("tenant_013", STALE_FROM + 600)  # its last batch before the window
    assert STALE_FROM - 300 <= last < STALE_FROM
    stale_expr = "time() - tenant_data_last_ingest_timestamp_seconds > 3600"
    assert await _query(pw, stale_expr, at=last + 3600) == {}  # an hour old is not yet stale
    assert list(_by_tenant(await _query(pw, stale_expr, at=last + 3615))) == ["tenant_013"]


# --- training runs -------------------------------------------------------------------------


def _raw(pw, series) -> list[tuple[float, float]]:
    times = grid(pw.start, pw.t0, pw.step)
    return list(zip(times, pw.world.values(series, times)))


async def test_training_gauges_agree_with_the_status_transitions(prometheus_world):
    """Each run started inside the 3 h window: its start is the first sample with running = 1,
    its duration the running stretch, and a success's end the first with succeeded = 1, as the
    status gauge shows them."""
    pw = prometheus_world
    starts = _by_tenant(await _query(pw, "training_job_last_start_timestamp_seconds"))
    durations = _by_tenant(await _query(pw, "training_job_last_duration_seconds"))
    successes = _by_tenant(await _query(pw, "training_job_last_success_timestamp_seconds"))
    checked = succeeded_in_window = 0
    for tenant in TENANTS:
        running = _raw(pw, pw.world.one("training_job_status", tenant_id=tenant, status="running"))
        began = [t for (_, a), (t, b) in itertools.pairwise(running) if a == 0 and b == 1]
        ended = [t for (_, a), (t, b) in itertools.pairwise(running) if a == 1 and b == 0]
        if began:
            assert starts[tenant] == began[-1]
            if ended and ended[-1] > began[-1]:
                assert durations[tenant] == ended[-1] - began[-1]
                checked += 1
        else:  # no run started in the window: the latest one started before it, at most 6 h ago
            assert T0 - 6 * 3600 < starts[tenant] < pw.start + pw.step
        succeeded = _raw(pw, pw.world.one("training_job_status", tenant_id=tenant, status="succeeded"))
        ok = [t for (_, a), (t, b) in itertools.pairwise(succeeded) if a == 0 and b == 1]
        if ok:  # a run succeeded inside the window: the newest such is the last success
            assert successes[tenant] == ok[-1]
            succeeded_in_window += 1
    assert checked >= 15 and succeeded_in_window >= 10  # 40 tenants, one run in 6 h each, 3 h of window


async def test_the_scripted_tenant_fails_data_validation(prometheus_world):
    pw = prometheus_world
    failed = await _query(pw, 'training_job_status{status="failed"} == 1')
    reasons = {dict(k)["tenant_id"]: dict(k)["reason"] for k in failed}
    assert reasons.get("tenant_007") == "data_validation"
    assert set(reasons.values()) <= {"data_validation", "preempted"}
    assert [t for t, r in reasons.items() if r == "data_validation"] == ["tenant_007"]
    one = await _query(pw, "sum by (tenant_id) (training_job_status)")
    assert set(one.values()) == {1.0}  # each tenant's latest job has exactly one status
    starts = _by_tenant(await _query(pw, "training_job_last_start_timestamp_seconds"))
    durations = _by_tenant(await _query(pw, "training_job_last_duration_seconds"))
    success = _by_tenant(await _query(pw, "training_job_last_success_timestamp_seconds"))
    assert starts["tenant_007"] >= FAILURES_FROM and durations["tenant_007"] == 240
    # Failing since the window began: its last success is the run that was under way at 08:00 or before.
    assert FAILURES_FROM - 6 * 3600 < success["tenant_007"] < FAILURES_FROM + 55 * 60
    assert all(T0 - success[t] < 13 * 3600 for t in TENANTS if t != "tenant_007")


# --- model quality -------------------------------------------------------------------------

_QUALITY = 'ml_recommendation_quality{metric="ndcg_10"}'


def _hit_by_rollout() -> set[str]:
    n = round((ROLLOUT_AT - FIRST_ROLLOUT) / (4 * 86400))
    return {t for t in TENANTS if int(t[-3:]) % 5 == n % 5}


def _latest(samples: list[tuple[float, float]], at: float) -> float | None:
    recent = [v for t, v in in_range(samples, at, 300) if not math.isnan(v)]
    return recent[-1] if recent else None


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    rank = 0.5 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def test_the_rollout_serves_the_candidate_everywhere(prometheus_world):
    pw = prometheus_world
    assert await _query(pw, f"count by (model_version) ({_QUALITY})") == {(("model_version", "ranker-v42"),): 40.0}
    before = await _query(pw, f"count by (model_version) ({_QUALITY})", at=ROLLOUT_AT - 60)
    assert before == {(("model_version", "ranker-v41"),): 40.0}


async def test_model_quality_drop_marks_the_tenants_the_rollout_hurt(prometheus_world):
    """ModelQualityDrop's expression 15 minutes before T0 (before the 17:10 ml-engine spike dips
    every tenant): the hurt tenants are 25 % below their median, the others within the noise."""
    pw = prometheus_world
    at = T0 - 15 * 60
    times = grid(pw.start, at, pw.step)
    expected = {}
    for tenant in TENANTS:
        per_version = [
            list(zip(times, pw.world.values(s, times)))
            for s in pw.world.find("ml_recommendation_quality", metric="ndcg_10", tenant_id=tenant)
        ]

        def level(s: float, per_version: list = per_version) -> float | None:
            found = [v for v in (_latest(samples, s) for samples in per_version) if v is not None]
            return max(found) if found else None

        steps = [s for s in range(math.ceil((at - 7 * 86400) / 300) * 300, int(at) + 1, 300)]
        history = [v for v in map(level, steps) if v is not None]
        median, now = _median(history), level(at)
        assert now is not None
        expected[tenant] = (median - now) / median
    rule = (
        f"(quantile_over_time(0.5, (max without (model_version) ({_QUALITY}))[7d:5m])"
        f" - max without (model_version) ({_QUALITY}))"
        f" / quantile_over_time(0.5, (max without (model_version) ({_QUALITY}))[7d:5m])"
    )
    got = _by_tenant(await _query(pw, rule, at=at))
    wrong = {t: (got.get(t), v) for t, v in expected.items() if not close(got.get(t, math.nan), v, 1e-6)}
    assert not wrong, wrong
    assert {t for t, v in got.items() if v > 0.10} == _hit_by_rollout()
    assert len(_hit_by_rollout()) == 8


# --- ANN search latency --------------------------------------------------------------------


def _rates(pw, name: str, **match: str) -> list[tuple[dict[str, str], float]]:
    out = []
    times = grid(pw.t0 - 300 - pw.step, pw.t0, pw.step)
    for s in pw.world.find(name, **match):
        r = extrapolated_rate(list(zip(times, pw.world.values(s, times))), pw.t0, 300)
        if r is not None:
            out.append((s.label_dict, r))
    return out


async def test_one_ann_search_per_successful_ann_search_call(prometheus_world):
    pw = prometheus_world
    diff = await _query(
        pw,
        "ann_search_duration_seconds_count - on (job, instance) "
        'sum by (job, instance) (http_requests_total{endpoint="/internal/ann_search", status="200"})',
    )
    assert len(diff) == 2 and set(diff.values()) == {0.0}


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
async def test_ann_quantiles_and_the_calls_that_contain_them(prometheus_world, q):
    pw = prometheus_world
    buckets: dict[float, float] = defaultdict(float)
    for labels, rate in _rates(pw, "ann_search_duration_seconds_bucket"):
        buckets[float(labels["le"])] += rate
    ann = await _query(pw, f"histogram_quantile({q}, sum by (le) (rate(ann_search_duration_seconds_bucket[5m])))")
    assert close(ann[()], histogram_quantile(q, buckets.items()))
    calls = await _query(
        pw,
        f"histogram_quantile({q}, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{endpoint="/internal/ann_search"}[5m])))',
    )
    assert ann[()] <= calls[()]  # the search is a part of the call
    quiet = await _query(
        pw, f"histogram_quantile({q}, sum by (le) (rate(ann_search_duration_seconds_bucket[5m])))", at=T0 - 2 * 3600
    )
    assert ann[()] > quiet[()]  # T0 is inside the ml-engine spike: searches are slower
