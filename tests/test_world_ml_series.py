"""The world's model and data series without a server: the live exposition and the backfill
write the same samples across a model version switch, ANN search buckets are a histogram of the
successful ann_search calls and no slower than them, and each tenant has one training status."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest

from tests.support.world import SEED, T0, backfilled_at
from zeta_tui.demo.openmetrics import exposition_text
from zeta_tui.demo.world import TeamZetaWorld

ROLLOUT_AT = int(datetime(2026, 3, 11, 16, 0, tzinfo=UTC).timestamp())  # docs/demo.md "Model and data"


@pytest.fixture(scope="module")
def world() -> TeamZetaWorld:
    return TeamZetaWorld(SEED)


def _exposed(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line[:1] != "#"}


@pytest.mark.parametrize("at", [ROLLOUT_AT - 15, ROLLOUT_AT, ROLLOUT_AT + 6 * 3600 - 15, ROLLOUT_AT + 6 * 3600])
def test_the_scrape_and_the_backfill_write_the_same_series_at_a_version_switch(world, at):
    exposed = _exposed(exposition_text(world, at))
    assert exposed == backfilled_at(world, at)
    versions = {
        k.split('model_version="')[1].split('"')[0] for k in exposed if k.startswith("ml_recommendation_quality")
    }
    serving = "ranker-v42" if ROLLOUT_AT <= at < ROLLOUT_AT + 6 * 3600 else "ranker-v41"
    assert versions == {serving}
    assert sum(1 for k in exposed if k.startswith("ml_recommendation_quality")) == 40 * 2


def _buckets(world, name: str, t: float, **match: str) -> dict[str, dict[float, float]]:
    out: dict[str, dict[float, float]] = defaultdict(dict)
    for s in world.find(name, **match):
        out[s.label("instance")][float(s.label("le"))] = world.value(s, t)
    return out


@pytest.mark.parametrize("at", [T0, T0 - 2 * 3600])  # inside the ml-engine spike, and quiet
def test_ann_searches_are_the_successful_calls_and_no_slower(world, at):
    before, after = at - 600, at
    ann = {t: _buckets(world, "ann_search_duration_seconds_bucket", t) for t in (before, after)}
    calls = {
        t: _buckets(world, "http_request_duration_seconds_bucket", t, endpoint="/internal/ann_search")
        for t in (before, after)
    }
    assert set(ann[after]) == {"ml-engine-0:8000", "ml-engine-1:8000"}
    for instance, buckets in ann[after].items():
        bounds = sorted(buckets)
        assert [buckets[b] for b in bounds] == sorted(buckets.values())  # cumulative
        ok = sum(
            world.value(s, after)
            for s in world.find("http_requests_total", instance=instance, endpoint="/internal/ann_search", status="200")
        )
        count = world.value(world.one("ann_search_duration_seconds_count", instance=instance), after)
        assert buckets[float("inf")] == count == ok
        # Over 10 minutes, the searches' share under each bound is at least the calls' share.
        searches = {b: buckets[b] - ann[before][instance][b] for b in bounds}
        made = {b: calls[after][instance][b] - calls[before][instance][b] for b in bounds}
        for b in bounds[:-1]:
            assert searches[b] / searches[float("inf")] >= made[b] / made[float("inf")] - 0.002, (instance, b)


def test_each_tenant_has_exactly_one_training_status(world):
    for t in range(int(T0) - 86400, int(T0), 600):
        per_tenant: dict[str, float] = defaultdict(float)
        for s in world.find("training_job_status"):
            per_tenant[s.label("tenant_id")] += world.value(s, t)
        assert set(per_tenant.values()) == {1.0}, t
