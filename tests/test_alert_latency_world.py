"""The shipped HighLatency rules on the world's data, in a real Prometheus: the latency regression
on POST /api/v1/recommendations (17:00-17:40 UTC, T0 = 17:20:07, tests/support/world.py) pages
for that endpoint, and only that one, while backend-api's p95 summed by job stays under 1 s.

Expected values come from the generator's raw samples through the reference maths of
tests/support/world.py (extrapolated rate, bucket quantile), never from Zeta; the rules' text
is read from queries/prometheus/alerts.yaml.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.support.world import T0, close, extrapolated_rate, grid, histogram_quantile
from zeta_tui.models.timerange import parse_duration
from zeta_tui.querying.alert_expression import split_threshold

pytestmark = pytest.mark.prometheus

RULES = Path(__file__).resolve().parent.parent / "queries" / "prometheus" / "alerts.yaml"
SLOW = ("backend-api", "/api/v1/recommendations")


def _latency_rules() -> dict[str, dict]:
    rules = [
        r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if r.get("alert") == "HighLatency"
    ]
    return {r["labels"]["severity"]: r for r in rules}


def _reference_p95(pw, at: float, by: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    """p95 over [at - 5m, at] from the raw samples, buckets summed by ``by`` (plus le)."""
    times = grid(max(pw.start, at - 300 - pw.step), at, pw.step)
    buckets: dict[tuple[str, ...], dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for s in pw.world.find("http_request_duration_seconds_bucket"):
        rate = extrapolated_rate(list(zip(times, pw.world.values(s, times))), at, 300)
        if rate is not None:
            labels = s.label_dict
            buckets[tuple(labels[k] for k in by)][float(labels["le"])] += rate
    return {key: histogram_quantile(0.95, b.items()) for key, b in buckets.items()}


async def _instant(pw, expr: str, at: float) -> dict[tuple[str, str], float]:
    client = pw.client()
    try:
        result = await client.query(expr, at=at)
    finally:
        await client.aclose()
    return {(s.labels.get("job", ""), s.labels.get("endpoint", "")): s.v for s in result.data}


async def test_the_regression_pages_for_recommendations_only(prometheus_world) -> None:
    pw = prometheus_world
    page = _latency_rules()["critical"]
    graphed, op, threshold = split_threshold(" ".join(page["expr"].split()))
    assert (op, threshold) == (">", 1.0)
    expected = _reference_p95(pw, T0, ("job", "endpoint"))
    actual = await _instant(pw, graphed, T0)
    assert set(actual) == set(expected) and all(close(actual[k], expected[k]) for k in expected), (actual, expected)
    assert [k for k, v in expected.items() if v > threshold] == [SLOW]
    # The page's own expression, at every evaluation of the rule's `for` before T0 (the demo
    # evaluates every 15 s): the condition held throughout, so at T0 the page is firing.
    for_seconds = parse_duration(page["for"])
    for at in range(int(T0 - for_seconds), int(T0) + 1, 15):
        assert set(await _instant(pw, page["expr"], at)) == {SLOW}, at


async def test_summed_by_job_the_regression_would_not_page(prometheus_world) -> None:
    """The issue's point, on the world's own numbers: recommendations are about a third of
    backend-api's requests, the rest answer in tens of milliseconds, so by job the p95 is under
    the page's 1 s while one endpoint is far over it."""
    pw = prometheus_world
    by_job = _reference_p95(pw, T0, ("job",))
    per_endpoint = _reference_p95(pw, T0, ("job", "endpoint"))
    assert by_job[("backend-api",)] < 1.0 < per_endpoint[SLOW]


async def test_the_warning_fires_for_the_same_endpoint(prometheus_world) -> None:
    pw = prometheus_world
    warning = _latency_rules()["warning"]
    _, _, threshold = split_threshold(" ".join(warning["expr"].split()))
    expected = _reference_p95(pw, T0, ("job", "endpoint"))
    assert set(await _instant(pw, warning["expr"], T0)) == {k for k, v in expected.items() if v > threshold} == {SLOW}
