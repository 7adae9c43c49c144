"""The world generator on its own: determinism, counter laws, histograms, incidents, formats."""

from __future__ import annotations

import io
import itertools
import math
import re
from collections import defaultdict

import httpx
import pytest

from tests.support.world import SEED, T0, backfilled_at
from zeta_tui.demo.exporter import WorldExporter
from zeta_tui.demo.openmetrics import exposition_text, write_openmetrics
from zeta_tui.demo.world import TeamZetaWorld

HOUR = 3600


@pytest.fixture(scope="module")
def world() -> TeamZetaWorld:
    return TeamZetaWorld(SEED)


def test_same_seed_same_values_other_seed_other_tenants(world):
    again = TeamZetaWorld(SEED)
    for t in (T0, T0 + 12.5, T0 + 86400 * 30):
        assert world.values_at(t) == again.values_at(t)
    other = TeamZetaWorld(SEED + 1)
    assert [t.plan for t in other.topology.tenants] == [t.plan for t in world.topology.tenants]
    assert [t.share for t in other.topology.tenants] != [t.share for t in world.topology.tenants]
    # The incident schedule is absolute time, not seed: T0 is inside the spike for every seed.
    assert [i.name for i in other.active_incidents(T0)] == [i.name for i in world.active_incidents(T0)]


def test_topology_matches_the_platform(world):
    jobs = {s.label("job") for s in world.find("up")}
    assert jobs == {"backend-api", "ml-engine", "auth", "redis", "postgres"}
    assert {s.label("instance") for s in world.find("up", job="backend-api")} == {
        "backend-api-0:8080",
        "backend-api-1:8080",
    }
    assert {s.label("pod") for s in world.find("container_memory_usage_bytes", container="backend-api")} == {
        "backend-api-7f9c-0",
        "backend-api-7f9c-1",
    }
    endpoints = {(s.label("job"), s.label("endpoint"), s.label("method")) for s in world.find("http_requests_total")}
    assert ("backend-api", "/api/v1/recommendations", "POST") in endpoints and (
        "auth",
        "/api/v1/auth/login",
        "POST",
    ) in endpoints
    assert not world.find("http_requests_total", job="redis") and not world.find("http_requests_total", job="postgres")
    assert len(world.topology.tenants) == 40 and {t.plan for t in world.topology.tenants} == {
        "starter",
        "pro",
        "enterprise",
    }
    assert all(s.label("namespace") == "production" for s in world.find("container_cpu_usage_seconds_total"))
    assert TeamZetaWorld(SEED, "staging").find("container_cpu_usage_seconds_total")[0].label("namespace") == "staging"


def test_peak_traffic_is_a_few_hundred_requests_per_second(world):
    requests = world.find("http_requests_total")
    hourly = []
    for hour in range(24):
        t = T0 - 86400 + hour * HOUR
        a, b = (sum(world.value(s, x) for s in requests) for x in (t, t + 60))
        hourly.append((b - a) / 60)
    assert 150 < max(hourly) < 800
    assert min(hourly) < 0.6 * max(hourly)  # a real day/night curve


def _counter_series(world):
    return [s for f in world.families if f.kind in ("counter", "histogram") for s in f.series]


def test_counters_never_decrease_across_incidents(world):
    times = [T0 - 6 * HOUR + 15 * i for i in range(8 * 240)]  # 8 h: every kind of incident, start and end
    kinds = {i.name for i in world.incidents(times[0], times[-1])}
    assert kinds == {"ml_error_spike", "latency_regression", "auth_login_burst", "pod_restart"}
    counters = {s for s in _counter_series(world)}
    for _, series, values in world.columns(times):
        if series in counters:
            assert all(b >= a for a, b in itertools.pairwise(values)), series.selector()
            if series.name.endswith("_total") and series.name != "container_cpu_usage_seconds_total":
                assert all(float(v).is_integer() for v in values), series.selector()


def test_histograms_are_cumulative_and_count_matches_requests(world):
    for t in (T0, T0 - 5 * HOUR, T0 + 3 * 86400 + 7):
        values = dict(zip(world.series, world.values_at(t)))
        buckets: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
        counts, requests = {}, defaultdict(float)
        for s, v in values.items():
            key = (s.label("job"), s.label("instance"), s.label("endpoint"))
            if s.name == "http_request_duration_seconds_bucket":
                buckets[key].append((float(s.label("le")), v))
            elif s.name == "http_request_duration_seconds_count":
                counts[key] = v
            elif s.name == "http_requests_total":
                requests[key] += v
        assert len(counts) == 16
        for key, pairs in buckets.items():
            pairs.sort()
            assert [v for _, v in pairs] == sorted(v for _, v in pairs), key
            assert math.isinf(pairs[-1][0]) and pairs[-1][1] == counts[key] == requests[key], key


def _error_ratio(world, t, job):
    series = world.find("http_requests_total", job=job)
    rates = [(s.label("status"), world.value(s, t + 60) - world.value(s, t)) for s in series]
    return sum(r for status, r in rates if status.startswith("5")) / sum(r for _, r in rates)


def test_incidents_show_in_the_metrics(world):
    day = world.incidents(T0 - 12 * HOUR, T0 + 12 * HOUR)
    assert {i.name for i in day} == {"ml_error_spike", "latency_regression", "auth_login_burst", "pod_restart"}
    spike = next(i for i in day if i.name == "ml_error_spike" and i.contains(T0))
    assert spike.service == "ml-engine"
    quiet = spike.start - 2 * HOUR
    assert not [i for i in world.active_incidents(quiet) if i.name == "ml_error_spike"]
    assert _error_ratio(world, spike.start + 60, "ml-engine") > 20 * _error_ratio(world, quiet, "ml-engine")
    down = world.one("up", instance=spike.instance)
    assert world.value(down, spike.start + 60) == 0 and world.value(down, quiet) == 1

    regression = next(i for i in day if i.name == "latency_regression")
    mean = world.one(
        "http_request_duration_seconds_sum", instance="backend-api-0:8080", endpoint="/api/v1/recommendations"
    )
    count = world.one(
        "http_request_duration_seconds_count", instance="backend-api-0:8080", endpoint="/api/v1/recommendations"
    )

    def mean_latency(t):
        return (world.value(mean, t + 300) - world.value(mean, t)) / (
            world.value(count, t + 300) - world.value(count, t)
        )

    assert mean_latency(regression.start + 300) > 2.5 * mean_latency(regression.start - 3 * HOUR)

    burst = next(i for i in day if i.name == "auth_login_burst")
    login_401 = world.find("http_requests_total", endpoint="/api/v1/auth/login", status="401")

    def failed_logins(t):
        return sum(world.value(s, t + 60) - world.value(s, t) for s in login_401) / 60

    assert failed_logins(burst.start + 60) > 5 * failed_logins(burst.start - 30 * 60)

    restart = next(i for i in day if i.name == "pod_restart")
    pod = next(p for _, inst, p in world.schedule.pods if inst == restart.instance)
    counter = world.one("kube_pod_container_status_restarts_total", pod=pod)
    assert world.value(counter, restart.start) == world.value(counter, restart.start - 1) + 1
    assert world.value(world.one("up", instance=restart.instance), restart.start + 30) == 0


def test_now_is_sometimes_inside_an_incident(world):
    minutes = [T0 + 60 * m for m in range(7 * 24 * 60)]
    inside = sum(1 for t in minutes if world.active_incidents(t)) / len(minutes)
    assert 0.05 < inside < 0.5


def test_openmetrics_is_grouped_by_family_and_ends_with_eof(world):
    out = io.StringIO()
    times = [int(T0) - 30, int(T0) - 15, int(T0)]
    written = write_openmetrics(world, out, times)
    text = out.getvalue()
    # Every series but the quality of the model version not serving now (absent: no sample).
    absent = {s for t in times for s, v in zip(world.series, world.values_at(t)) if v != v}
    assert absent and {(s.name, s.label("model_version")) for s in absent} == {
        ("ml_recommendation_quality", "ranker-v41")
    }
    assert written == 3 * (len(world.series) - len(absent))
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    families_seen, current = [], None
    for line in text.splitlines()[:-1]:
        if line.startswith("# TYPE "):
            current = line.split()[2]
            families_seen.append(current)
            continue
        if line.startswith("#"):
            continue
        assert line.split("{")[0].startswith(current), line  # every sample sits under its own family
    assert len(families_seen) == len(set(families_seen)) == len(world.families)
    assert "# TYPE http_requests counter" in text and "# TYPE http_request_duration_seconds histogram" in text


def _parse_samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            m = re.match(r"^(\S+?\{.*\}|\S+) (\S+)(?: (\S+))?$", line)
            assert m, line
            values[m.group(1)] = float(m.group(2))
    return values


def test_live_exporter_continues_the_backfill(world):
    end = int(T0) - 7  # on the 15 s grid
    backfilled_last = backfilled_at(world, end)
    clock = [float(end)]
    with WorldExporter(world, clock=lambda: clock[0]) as exporter:
        at_end = _parse_samples(httpx.get(exporter.url, timeout=5).text)
        clock[0] = end + 15.0
        later = _parse_samples(httpx.get(exporter.url, timeout=5).text)
        assert httpx.get(exporter.url.replace("/metrics", "/nope"), timeout=5).status_code == 404
    assert at_end == backfilled_last
    for s in _counter_series(world):
        assert later[s.selector()] >= at_end[s.selector()]
    assert "# TYPE http_requests_total counter" in exposition_text(world, end)  # text format names counters with _total
