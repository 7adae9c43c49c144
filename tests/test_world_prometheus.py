"""The world in a real Prometheus: PromQL answers at T0 equal an independent computation.

Each expected value is computed here from the generator's raw samples (the same values the
backfill wrote) with the reference maths in tests/support/world.py, never pasted.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.support.world import T0, close, extrapolated_rate, grid, histogram_quantile, in_range

pytestmark = pytest.mark.prometheus


def _raw(pw, series, range_s: float = 300) -> list[tuple[float, float]]:
    # Only the samples a range of range_s before T0 can see (the rest would cost time, not change answers).
    times = grid(max(pw.start, pw.t0 - range_s - pw.step), pw.t0, pw.step)
    return list(zip(times, pw.world.values(series, times)))


def _rates(pw, name: str, range_s: float = 300, as_rate: bool = True, **match: str):
    out = []
    for s in pw.world.find(name, **match):
        r = extrapolated_rate(_raw(pw, s, range_s), pw.t0, range_s, as_rate=as_rate)
        if r is not None:
            out.append((s.label_dict, r))
    return out


async def _query(pw, expr: str, at: float = T0) -> dict[tuple[str, ...], float]:
    client = pw.client()
    try:
        result = await client.query(expr, at=at)
    finally:
        await client.aclose()
    assert not result.warnings, result.warnings
    return {tuple(sorted(sample.labels.items())): sample.v for sample in result.data}


def _assert_same(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    wrong = {k: (actual[k], expected[k]) for k in expected if not close(actual[k], expected[k])}
    assert not wrong, wrong


async def test_raw_samples_are_what_the_generator_made(prometheus_world):
    pw = prometheus_world
    got = await _query(pw, 'http_requests_total{job="ml-engine", status="503"}')
    expected = {}
    for s in pw.world.find("http_requests_total", job="ml-engine", status="503"):
        last = in_range(_raw(pw, s), pw.t0, 300)[-1][1]
        expected[tuple(sorted({**s.label_dict, "__name__": s.name}.items()))] = last
    assert got == expected  # exact: integers travel through OpenMetrics and the TSDB unchanged


async def test_request_rate_by_job_and_endpoint(prometheus_world):
    pw = prometheus_world
    expected: dict[tuple, float] = defaultdict(float)
    for labels, rate in _rates(pw, "http_requests_total"):
        expected[(("endpoint", labels["endpoint"]), ("job", labels["job"]))] += rate
    actual = await _query(pw, "sum by (job, endpoint) (rate(http_requests_total[5m]))")
    assert len(expected) == 8
    _assert_same(actual, dict(expected))


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
async def test_backend_latency_quantiles(prometheus_world, q):
    pw = prometheus_world
    per_endpoint: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for labels, rate in _rates(pw, "http_request_duration_seconds_bucket", job="backend-api"):
        per_endpoint[labels["endpoint"]][float(labels["le"])] += rate
    expected = {(("endpoint", e),): histogram_quantile(q, buckets.items()) for e, buckets in per_endpoint.items()}
    actual = await _query(
        pw,
        (
            f"histogram_quantile({q}, sum by (le, endpoint) "
            '(rate(http_request_duration_seconds_bucket{job="backend-api"}[5m])))'
        ),
    )
    _assert_same(actual, expected)
    if q == 0.99:  # T0 is inside the latency regression: recommendations are the slow ones
        slowest = max(actual, key=actual.get)
        assert slowest == (("endpoint", "/api/v1/recommendations"),)


async def test_error_ratio_by_job(prometheus_world):
    pw = prometheus_world
    errors: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for labels, rate in _rates(pw, "http_requests_total"):
        total[labels["job"]] += rate
        if labels["status"].startswith("5"):
            errors[labels["job"]] += rate
    expected = {(("job", job),): errors[job] / total[job] for job in total if job in errors}
    actual = await _query(
        pw, 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))'
    )
    _assert_same(actual, expected)
    assert actual[(("job", "ml-engine"),)] > 0.2  # the spike: ml-engine-1 answers 503 to most calls


async def test_restarts_in_the_last_hour(prometheus_world):
    pw = prometheus_world
    expected = {
        tuple(sorted(labels.items())): value
        for labels, value in _rates(pw, "kube_pod_container_status_restarts_total", 3600, as_rate=False)
    }
    actual = await _query(pw, "increase(kube_pod_container_status_restarts_total[1h])")
    _assert_same(actual, expected)
    oomed = [v for k, v in actual.items() if dict(k)["container"] == "ml-engine" and dict(k)["pod"].endswith("-1")]
    assert oomed and oomed[0] > 0  # the spike began with an OOM kill at 17:10


async def test_up_by_job(prometheus_world):
    pw = prometheus_world
    per_job: dict[str, list[float]] = defaultdict(list)
    for s in pw.world.find("up"):
        recent = in_range(_raw(pw, s), pw.t0, 300)  # instant lookback: newest sample within 5m
        per_job[s.label("job")].append(recent[-1][1])
    expected = {(("job", job),): sum(v) / len(v) for job, v in per_job.items()}
    actual = await _query(pw, "avg by (job) (up)")
    _assert_same(actual, expected)
    assert actual[(("job", "ml-engine"),)] == 0.5


async def test_incident_shows_in_prometheus(prometheus_world):
    pw = prometheus_world
    expr = (
        'sum(rate(http_requests_total{job="ml-engine", status=~"5.."}[5m])) '
        '/ sum(rate(http_requests_total{job="ml-engine"}[5m]))'
    )
    inside = await _query(pw, expr, at=pw.t0)
    before = await _query(pw, expr, at=pw.t0 - 2 * 3600)  # 15:20, between spikes
    assert inside[()] > 50 * before[()]
