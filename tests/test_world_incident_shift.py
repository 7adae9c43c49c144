"""A world built with an incident shift: the whole schedule moves, and every part of the world follows it.

`zeta demo` anchors its store's incidents so that an ml-engine spike begins a few minutes after
the first start (stack.py). Here: shift 0 is the fixed schedule; a shifted world's incidents
start where the shift puts them; its counters (closed forms of traffic.py) stay monotonic and
equal a numeric integral of the shifted incidents; the backfill's samples, the live exporter
and the request generator (in this process and as the demo's child processes run it, from
argv) all agree with it.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.world import NAMESPACE, SEED, T0, backfilled_at
from zeta_tui.demo.exporter import WorldExporter
from zeta_tui.demo.incidents import KINDS, LATENCY_REGRESSION, ML_ERROR_SPIKE, WORLD_EPOCH, shift_for_spike_at
from zeta_tui.demo.log_store import LiveLogWriter, otel_row
from zeta_tui.demo.requests import WorldRequests
from zeta_tui.demo.traffic import load
from zeta_tui.demo.world import TeamZetaWorld

REPO = Path(__file__).resolve().parent.parent
HOUR = 3600
# An arbitrary anchor on a whole minute (as the demo picks it, so on the 15 s scrape grid).
ANCHOR = 1_790_000_160
SHIFT = shift_for_spike_at(ANCHOR)


@pytest.fixture(scope="module")
def plain() -> TeamZetaWorld:
    return TeamZetaWorld(SEED)


@pytest.fixture(scope="module")
def shifted() -> TeamZetaWorld:
    return TeamZetaWorld(SEED, incident_shift=SHIFT)


def _spike_at(world: TeamZetaWorld, t: float):
    return next(i for i in world.active_incidents(t) if i.name == ML_ERROR_SPIKE)


def test_shift_zero_is_the_fixed_schedule(plain):
    assert plain.incident_shift == 0 and plain.schedule.kinds == KINDS
    # T0 (the tests' evaluation time) stays inside the spike and the regression.
    assert {ML_ERROR_SPIKE, LATENCY_REGRESSION} <= {i.name for i in plain.active_incidents(T0)}


def test_every_kind_moves_by_the_shift_modulo_its_period(plain, shifted):
    start, end = T0 - 3 * 86400, T0 + 3 * 86400
    for kind in KINDS:
        before = [i for i in plain.incidents(start, end) if i.name == kind.name]
        after = [i for i in shifted.incidents(start, end) if i.name == kind.name]
        assert abs(len(after) - len(before)) <= 1 and after, kind.name
        for i in after:
            assert i.end - i.start == kind.duration_s
            # Some unshifted occurrence starts exactly `shift` earlier, modulo the period.
            assert (i.start - before[0].start - SHIFT) % kind.period_s == 0, kind.name
        # Occurrence 0 is still the first after the epoch.
        assert 0 <= shifted.schedule.kind(kind.name).offset_s < kind.period_s


@pytest.mark.parametrize("t", [ANCHOR, 1_775_000_040, 1_800_123_420, WORLD_EPOCH + 3 * 86400 + 7 * 60])
def test_the_anchor_starts_a_spike_then_a_regression(t):
    world = TeamZetaWorld(SEED, incident_shift=shift_for_spike_at(t))
    spike = _spike_at(world, t)
    assert spike.start == t and spike.end == t + 25 * 60
    assert not [i for i in world.active_incidents(t - 1) if i.name == ML_ERROR_SPIKE]
    # The latency regression comes 45 to 105 minutes after the spike began: after it, in the same session.
    regression = next(i for i in world.incidents(t, t + 11 * HOUR) if i.name == LATENCY_REGRESSION)
    assert 45 * 60 <= regression.start - t <= 105 * 60


def _counter_series(world):
    return [s for f in world.families if f.kind in ("counter", "histogram") for s in f.series]


def test_shifted_counters_never_decrease_and_show_the_spike(shifted):
    times = [ANCHOR - 2 * HOUR + 15 * i for i in range(4 * 240)]
    counters = set(_counter_series(shifted))
    for _, series, values in shifted.columns(times):
        if series in counters:
            assert all(b >= a for a, b in itertools.pairwise(values)), series.selector()
    spike = _spike_at(shifted, ANCHOR)

    def error_ratio(t):
        series = shifted.find("http_requests_total", job="ml-engine")
        rates = [(s.label("status"), shifted.value(s, t + 60) - shifted.value(s, t)) for s in series]
        return sum(r for status, r in rates if status.startswith("5")) / sum(r for _, r in rates)

    assert error_ratio(spike.start + 120) > 0.3 and error_ratio(spike.start - 30 * 60) < 0.001
    down = shifted.one("up", instance=spike.instance)
    assert shifted.value(down, spike.start + 60) == 0 and shifted.value(down, spike.start - 60) == 1
    oom = shifted.find("kube_pod_container_status_restarts_total", container="ml-engine")
    assert sum(shifted.value(s, spike.start) - shifted.value(s, spike.start - 1) for s in oom) >= 1


def test_closed_forms_equal_a_numeric_integral_of_the_shifted_incidents(shifted):
    # load_in:<kind> grows by the load while the (shifted) incident is on: integrate it by hand.
    a, b = ANCHOR - 40 * 60, ANCHOR + 3 * HOUR
    for name in (ML_ERROR_SPIKE, LATENCY_REGRESSION):
        kind = shifted.schedule.kind(name)
        step = 1.0
        by_hand = sum(
            load(a + (k + 0.5) * step) * step
            for k in range(int((b - a) / step))
            if kind.active_index(a + (k + 0.5) * step) is not None
        )
        i = shifted.basis.index[f"load_in:{name}"]
        closed = shifted.basis.at(b)[i] - shifted.basis.at(a)[i]
        assert by_hand > 0 and math.isclose(closed, by_hand, rel_tol=1e-4), name


def test_backfill_samples_equal_the_live_exporter_in_a_shifted_spike(shifted):
    end = (ANCHOR + 300) // 15 * 15  # inside the spike, on the 15 s grid
    backfilled = backfilled_at(shifted, end)
    # A world built afresh with the same shift (as the demo's next start or a child builds it).
    with WorldExporter(TeamZetaWorld(SEED, incident_shift=SHIFT), clock=lambda: float(end)) as exporter:
        scraped = {}
        for line in httpx.get(exporter.url, timeout=5).text.splitlines():
            if line and not line.startswith("#"):
                selector, value = line.rsplit(" ", 1)
                scraped[selector] = float(value)
    assert scraped == backfilled
    assert scraped['up{job="ml-engine",instance="ml-engine-1:8000"}'] == 0.0


def test_requests_follow_the_shifted_spike(shifted):
    spike = _spike_at(shifted, ANCHOR)
    start, end = spike.start - 5 * 60, spike.start + 5 * 60
    requests = list(WorldRequests(shifted, 5).generate(start, end))
    oom = [r for r in requests if r.service == "ml-engine" and "OOMKilled" in r.message]
    assert oom and all(r.timestamp_ns >= spike.start * 10**9 for r in oom)
    # Kept counts per series are the counter increases (sampling 1 in 5): the generator reads the shifted counters.
    s = shifted.one("http_requests_total", instance="ml-engine-1:8000", endpoint="/internal/embed", status="503")
    kept = sum(
        1 for r in requests if (r.instance, r.endpoint, r.status_code) == ("ml-engine-1:8000", "/internal/embed", 503)
    )
    assert kept == int(shifted.value(s, end)) // 5 - int(shifted.value(s, start)) // 5 > 100


@pytest.mark.slow  # the demo's child processes
def test_the_log_child_builds_the_writers_world_from_its_argv(shifted, tmp_path):
    writer = LiveLogWriter(shifted, tmp_path / "store", sample_every=20)
    start, end = float(ANCHOR), float(ANCHOR + 60)
    argv = writer.child_argv(start, end)
    assert argv[argv.index("--incident-shift") + 1] == str(SHIFT)
    done = subprocess.run(argv, capture_output=True, timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in done.stdout.splitlines() if line and not line.startswith(b"#")]
    expected = [
        json.loads(json.dumps(otel_row(r, NAMESPACE, 20))) for r in WorldRequests(shifted, 20).generate(start, end)
    ]
    assert rows == expected and any("OOMKilled" in r["Body"] for r in rows)
