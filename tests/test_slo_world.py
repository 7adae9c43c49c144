"""SLO figures from the real Prometheus world at T0 equal an independent reference.

The world's 3 h of history are backfilled into a real Prometheus and queried at T0 (inside the
ml-engine error spike and the recommendations latency regression). Expected SLIs, error ratios
and burn rates are computed here from the generator's raw samples with tests/support/world.py's
re-implementation of increase()/histogram_quantile(), sharing no code with zeta_tui's fetch.
The 30-day budget window on 3 h of data is the ratio over the data available.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.world import close, extrapolated_rate, grid, histogram_quantile
from zeta_tui.backends.discovery import discover
from zeta_tui.backends.slo import fetch_slo
from zeta_tui.cli import main
from zeta_tui.config.models import ContextConfig
from zeta_tui.models.slo import SEED_OBJECTIVES, SloStatus
from zeta_tui.querying.promql_catalog import PromCatalog
from zeta_tui.resources import shipped_dir

pytestmark = pytest.mark.prometheus

SERVICES = ["backend-api", "ml-engine", "auth", "redis", "postgres"]
QUIET = {"redis", "postgres"}  # no HTTP traffic in the world
WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 21600}
PERIOD = 30 * 86400
BUDGET = {"availability": 0.001, "latency": 0.01, "error rate": 0.001}


# --- the reference ---------------------------------------------------------------------------


def _samples(pw, series, range_s: float) -> list[tuple[float, float]]:
    times = grid(max(pw.start, pw.t0 - range_s - pw.step), pw.t0, pw.step)
    return list(zip(times, pw.world.values(series, times)))


def _increase(pw, series, range_s: float) -> float | None:
    return extrapolated_rate(_samples(pw, series, range_s), pw.t0, range_s, as_rate=False)


def _sum_by_job(pw, name: str, range_s: float, keep=lambda s: True) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for s in pw.world.find(name):
        if keep(s):
            out[s.label("job")] += _increase(pw, s, range_s) or 0.0
    return out


def _share(part: float, whole: float | None) -> float | None:
    if not whole:
        return None
    return min(1.0, max(0.0, part / whole))


def reference_bad_shares(pw, range_s: float) -> dict[tuple[str, str], float | None]:
    """(service, objective name) -> bad share over [T0 - range_s, T0]."""
    requests = _sum_by_job(pw, "http_requests_total", range_s)
    failed = _sum_by_job(pw, "http_requests_total", range_s, lambda s: s.label("status").startswith("5"))
    timed = _sum_by_job(pw, "http_request_duration_seconds_bucket", range_s, lambda s: s.label("le") == "+Inf")
    fast = _sum_by_job(pw, "http_request_duration_seconds_bucket", range_s, lambda s: s.label("le") == "0.1")
    out: dict[tuple[str, str], float | None] = {}
    for service in SERVICES:
        errors = _share(failed.get(service, 0.0), requests.get(service))
        good_fast = _share(fast.get(service, 0.0), timed.get(service))
        out[service, "availability"] = out[service, "error rate"] = errors
        out[service, "latency"] = None if good_fast is None else 1.0 - good_fast
    return out


def reference_p95(pw, range_s: float) -> dict[str, float]:
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for s in pw.world.find("http_request_duration_seconds_bucket"):
        rate = extrapolated_rate(_samples(pw, s, range_s), pw.t0, range_s)
        buckets[s.label("job")][float(s.label("le"))] += rate or 0.0
    return {job: histogram_quantile(0.95, b.items()) for job, b in buckets.items()}


@pytest.fixture(scope="module")
def reference(prometheus_world):
    pw = prometheus_world
    return {
        "period": reference_bad_shares(pw, PERIOD),
        **{w: reference_bad_shares(pw, seconds) for w, seconds in WINDOWS.items()},
        "p95": reference_p95(pw, PERIOD),
        "first_sample": grid(pw.start, pw.t0, pw.step)[0],
    }


@pytest.fixture
def catalog() -> PromCatalog:
    return PromCatalog.load(shipped_dir("queries") / "promql")


def _same(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and close(actual, expected, rel=1e-9)


def check_against_reference(pw, reference, got: dict[tuple[str, str], dict]) -> None:
    """``got``: (service, objective) -> {sli, burn_rates, budget_remaining, p95_seconds, history_seconds}."""
    assert set(got) == {(s, o.name) for s in SERVICES for o in SEED_OBJECTIVES}
    for (service, objective), row in got.items():
        key = (service, objective)
        budget = BUDGET[objective]
        bad = reference["period"][key]
        if service in QUIET:
            assert bad is None and row["sli"] is None and row["budget_remaining"] is None, key
            assert all(v is None for v in row["burn_rates"].values()), key
            continue
        assert bad is not None, key
        assert close(1.0 - row["sli"], bad, rel=1e-9), key
        assert close(row["budget_remaining"], 1.0 - bad / budget, rel=1e-9), key
        for window in WINDOWS:
            expected = reference[window][key]
            assert _same(row["burn_rates"][window], None if expected is None else expected / budget), (key, window)
        if objective == "latency":
            assert close(row["p95_seconds"], reference["p95"][service], rel=1e-9), key
        else:
            assert row["p95_seconds"] is None
        # The oldest sample the 5m-step subquery sees is within one step of the first backfilled one.
        span = pw.t0 - reference["first_sample"]
        assert 0 <= span - row["history_seconds"] <= 300 + pw.step, key


# --- the fetch -------------------------------------------------------------------------------


async def test_fetch_matches_reference(prometheus_world, catalog, reference) -> None:
    pw = prometheus_world
    client = pw.client()
    try:
        # Named in the config: every one is read, redis and postgres (no HTTP) as no data.
        inventory = await discover(client, ContextConfig(services=SERVICES), "world", at=pw.t0)
        result = await fetch_slo(client, catalog, inventory, SERVICES, at=pw.t0)
    finally:
        await client.aclose()
    statuses: list[SloStatus] = result.data
    assert [(s.service, s.objective.name) for s in statuses] == [(s, o.name) for s in SERVICES for o in SEED_OBJECTIVES]
    got = {
        (s.service, s.objective.name): {
            "sli": s.sli,
            "burn_rates": s.burn_rates,
            "budget_remaining": s.budget_remaining,
            "p95_seconds": s.p95_seconds,
            "history_seconds": s.history_seconds,
        }
        for s in statuses
    }
    check_against_reference(pw, reference, got)

    by_key = {(s.service, s.objective.name): s for s in statuses}
    # The reference is not trivially zero: T0 is inside the ml-engine error spike and the
    # recommendations latency regression, so there is something to burn.
    assert reference["5m"]["ml-engine", "availability"] > 0.01
    assert by_key["ml-engine", "availability"].burn_rates["5m"] > 10
    assert reference["5m"]["backend-api", "latency"] > 0.01
    # good/total are the period's counts: good + bad = total.
    s = by_key["backend-api", "availability"]
    assert (
        s.total
        and s.good is not None
        and close(s.good, s.total * (1.0 - reference["period"]["backend-api", "availability"]), rel=1e-9)
    )
    for quiet in QUIET:
        assert not by_key[quiet, "availability"].has_data and by_key[quiet, "availability"].total is None


# --- the headless command --------------------------------------------------------------------


def zeta_slo(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["slo", *argv])  # cli.main: a ZetaError becomes its message and exit status
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path, monkeypatch, prometheus_world) -> Path:
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.t]\nservices = {json.dumps(SERVICES)}\n[contexts.t.prometheus]\nurl = "{prometheus_world.url}"\n'
    )
    return path


def test_json_matches_reference(capsys, config, prometheus_world, reference) -> None:
    pw = prometheus_world
    code, out, err = zeta_slo(capsys, "--config", str(config), "--at", str(pw.t0), "--json")
    doc = json.loads(out)
    got = {(svc["service"], o["objective"]): o for svc in doc["services"] for o in svc["objectives"]}
    check_against_reference(pw, reference, got)
    assert [svc["service"] for svc in doc["services"]] == SERVICES
    assert doc["period_days"] == 30 and doc["at"] == pw.t0
    for quiet in QUIET:
        assert all(
            not o["has_data"] and o["summary"].startswith("no data")
            for o in next(s for s in doc["services"] if s["service"] == quiet)["objectives"]
        )
    # Exit 1 exactly when some objective's budget (over the data available) is spent.
    spent = any(bad is not None and bad / BUDGET[obj] >= 1.0 for (_, obj), bad in reference["period"].items())
    assert spent  # the ml-engine spike spends the availability budget of three hours of data
    assert (code, err) == (1, "")


def test_text_report(capsys, config, prometheus_world, reference) -> None:
    code, out, err = zeta_slo(
        capsys, "--config", str(config), "--at", str(prometheus_world.t0), "--services", "ml-engine,redis"
    )
    assert (code, err) == (1, "")
    blocks = out.strip().split("\n\n")
    assert [b.splitlines()[0].split()[0] for b in blocks] == ["ml-engine", "redis"]
    ml, redis = blocks
    assert "of data available of the 30-day period" in ml.splitlines()[0]
    assert ml.splitlines()[1].split()[:4] == ["OBJECTIVE", "SLI", "TARGET", "BUDGET"]
    assert "  availability: the budget is spent:" in ml
    assert "p95" in ml
    redis_rows = redis.splitlines()[2:5]
    assert all("no data" in row for row in redis_rows)
    assert "  availability: no data: the service served no requests in the period" in redis


def test_quiet_services_only_exit_0(capsys, config, prometheus_world) -> None:
    code, out, _ = zeta_slo(
        capsys, "--config", str(config), "--at", str(prometheus_world.t0), "--services", "redis", "--json"
    )
    assert code == 0
    assert json.loads(out)["services"][0]["objectives"][0]["budget_remaining"] is None


def test_config_errors_exit_2(capsys, config, tmp_path) -> None:
    code, _, err = zeta_slo(capsys, "--config", str(config), "--services", " , ")
    assert code == 2 and "--services names no service" in err
    bare = tmp_path / "bare.toml"
    bare.write_text("[contexts.t]\n")
    code, _, err = zeta_slo(capsys, "--config", str(bare))
    assert code == 2 and "has no prometheus section" in err


def test_an_unreadable_prometheus_exits_3_not_1(capsys, tmp_path, closed_port_url) -> None:
    """1 says a budget is spent; a synthetic check (deploy/k8s) must tell that from a Prometheus it cannot read."""
    down = tmp_path / "down.toml"
    down.write_text(f'[contexts.t.prometheus]\nurl = "{closed_port_url}"\ntimeout_seconds = 2\n')
    for argv in ((), ("--json",)):
        code, out, err = zeta_slo(capsys, "--config", str(down), *argv)
        assert (code, out) == (3, "")
        assert closed_port_url in err and "Traceback" not in err
