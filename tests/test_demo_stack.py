"""`zeta demo --no-tui` as a user runs it: real Prometheus, real signals, no child left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.demo_process import REPO, Demo, alive

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.slow,  # `zeta demo` and its children: Prometheus, Alertmanager, the live writers
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("promtool") is None,
        reason="`prometheus` is not installed: sudo apt-get install prometheus",
    ),
]


def query(url: str, expr: str) -> list[dict]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def _scrape_targets(url: str, timeout: float = 5.0) -> list[str]:
    # Service discovery hands the static target to the scraper a moment after /-/ready.
    deadline = time.monotonic() + timeout
    while True:
        targets = httpx.get(f"{url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        if targets or time.monotonic() > deadline:
            return [t["labels"]["job"] for t in targets]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def xdg(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xdg-data")


STOP_PATIENCE = 30


def _stop_and_check(demo: Demo, signum: int) -> None:
    kids = demo.children()
    prometheus = [pid for pid, cmd in kids.items() if "--storage.tsdb.path" in cmd]
    assert len(prometheus) == 1, kids
    demo.proc.send_signal(signum)
    try:
        # What matters is that it stops, and leaves no child: the patience is generous because
        # Prometheus writes its head block on SIGTERM, which on a loaded 2-core machine running
        # the suite in parallel can take over 10 s. Speed is for bench/, not for tests.
        rc = demo.proc.wait(timeout=STOP_PATIENCE)
    except subprocess.TimeoutExpired:
        demo.stop_hard()
        pytest.fail(f"zeta demo did not stop within {STOP_PATIENCE}s of {signal.Signals(signum).name}")
    left = [pid for pid in kids if alive(pid)]
    assert not left, {pid: kids[pid] for pid in left}
    assert rc == (130 if signum == signal.SIGINT else 128 + signum), demo.read_stderr()


def test_first_start_serves_the_world_and_sigterm_stops_every_child(xdg):
    demo = Demo(xdg)
    try:
        url = demo.prometheus_url(timeout=20)
        first_data = time.monotonic() - demo.began
        assert query(url, 'count(up{job="ml-engine"})')[0]["value"][1] == "2"
        assert float(query(url, "sum(http_requests_total)")[0]["value"][1]) > 0
        assert query(url, "count(ml_recommendation_quality offset 1h)")[0]["value"][1] == "80"
        assert _scrape_targets(url) == ["zeta-world"]
        assert first_data < 15, f"first data after {first_data:.1f}s (budget 15s)"
        # The shipped rules are loaded and alerts go to the demo's own Alertmanager child.
        groups = httpx.get(f"{url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        shipped = yaml.safe_load((REPO / "queries" / "prometheus" / "alerts.yaml").read_text())
        assert {g["name"] for g in groups} == {g["name"] for g in shipped["groups"]}
        managers = httpx.get(f"{url}/api/v1/alertmanagers", timeout=10).json()["data"]["activeAlertmanagers"]
        assert len(managers) == 1 and any(
            "alertmanager" in cmd and "--cluster.listen-address" in cmd for cmd in demo.children().values()
        )
        # The new store's incidents are anchored: an ml-engine spike begins 2 to 3 minutes after the
        # start, and every generator child builds its world with the same shift.
        shift = json.loads((xdg / "zeta" / "demo" / "state.json").read_text())["incident_shift"]
        spike = _first_spike(shift, demo.began_at)
        # The stack read its clock after began_at and before now.
        assert spike.start - demo.began_at > 119 and spike.start - time.time() <= 180, (spike, demo.began_at)
        generators = [cmd for cmd in demo.children().values() if " -m zeta_tui.demo." in cmd]
        assert generators and all(f"--incident-shift {shift} " in cmd for cmd in generators), generators

        second = subprocess.run(
            [sys.executable, "-m", "zeta_tui.cli", "demo", "--no-tui"],
            capture_output=True,
            text=True,
            timeout=20,
            cwd=REPO,
            env={**os.environ, "XDG_DATA_HOME": str(xdg), "PYTHONPATH": str(REPO)},
        )
        assert second.returncode == 1
        assert f"already running (pid {demo.proc.pid})" in second.stderr and url in second.stderr
        # The world's usage: the newest hours land first (the older days follow from a child process).
        assert demo.wait_stderr("demo usage: the newest hours are in", timeout=60), demo.read_stderr()
        assert demo.wait_stderr("demo events: the newest hours are in", timeout=60), demo.read_stderr()

        _stop_and_check(demo, signal.SIGTERM)
    finally:
        demo.stop_hard()
    # The demo released its store: api_usage, cost_data and tenants are there, within the 35 days kept.
    usage = _store_figures(xdg / "zeta" / "demo" / "chdb")
    assert usage["api_usage"] > 1000 and usage["cost_data"] > 100 and usage["tenants"] == 43, (
        usage
    )  # 40 and 3 former tenants
    assert usage["oldest_day_age"] <= 35 and usage["newest_age_s"] < 3 * 3600, usage
    assert usage["endpoints"] == 6, usage  # backend-api's and auth's, never ml-engine's /internal/*
    # The world's product events, live and the newest history (events_store.py), within the same days.
    assert usage["events"] > 100 and usage["events_oldest_day_age"] <= 35, usage


def _first_spike(shift: int, after: float):
    from zeta_tui.demo.world import TeamZetaWorld

    world = TeamZetaWorld(incident_shift=shift)
    return next(i for i in world.incidents(after, after + 8 * 3600) if i.name == "ml_error_spike" and i.start >= after)


def _store_figures(store: Path) -> dict:
    """What the demo's chdb store holds, read by a process of its own (this one may hold another store)."""
    code = (
        "import json, sys\n"
        "from chdb import session\n"
        "s = session.Session(sys.argv[1])\n"
        "q = lambda sql: int(s.query(sql, 'CSV').bytes().decode().strip())\n"
        "print(json.dumps({'api_usage': q('SELECT count() FROM default.api_usage'), 'cost_data': q('SELECT count() "
        "FROM default.cost_data FINAL'),\n"
        "  'tenants': q('SELECT count() FROM default.tenants FINAL'), 'endpoints': "
        "q('SELECT uniqExact(endpoint) FROM default.api_usage'),\n"
        "  'oldest_day_age': q('SELECT today() - min(date) FROM default.api_usage'),\n"
        "  'newest_age_s': q('SELECT toUnixTimestamp(now()) - toUnixTimestamp(max(timestamp)) "
        "FROM default.api_usage'),\n"
        "  'events': q('SELECT count() FROM default.events'),\n"
        "  'events_oldest_day_age': q('SELECT today() - toDate(min(event_time)) FROM default.events')}))\n"
        "s.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(store)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_demo_context_has_the_clickhouse_section_on_the_store(tmp_path):
    """The console's demo context reads usage and cost from the same embedded store as logs and traces."""
    from zeta_tui.demo.stack import DemoPaths, DemoStack
    from zeta_tui.demo.world import TeamZetaWorld

    stack = DemoStack(DemoPaths(tmp_path), TeamZetaWorld())
    assert stack.config(with_prometheus=False).contexts["demo"].clickhouse is None  # no usage writer: no section
    stack.logs = stack.traces = stack.usage = object()  # type: ignore[assignment]  # running writers, as far as config() cares
    context = stack.config(with_prometheus=False).contexts["demo"]
    assert context.clickhouse is not None and context.clickhouse.path == str(tmp_path / "chdb") == context.logs.path
    assert context.clickhouse.database == "default" and context.clickhouse.url is None


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT], ids=["SIGHUP", "SIGINT"])
def test_later_start_keeps_history_and_signal_stops_every_child(xdg, signum):
    state = xdg / "zeta" / "demo" / "state.json"
    shift = json.loads(state.read_text())["incident_shift"] if state.exists() else None
    demo = Demo(xdg)
    try:
        url = demo.prometheus_url(timeout=20)
        started = time.monotonic() - demo.began
        # History from the earlier run (or this one's recent backfill when run alone).
        assert query(url, 'count(up{job="auth"} offset 90m)')[0]["value"][1] == "2"
        if shift is not None:  # a later start keeps the store's incident anchor
            assert json.loads(state.read_text())["incident_shift"] == shift
        _stop_and_check(demo, signum)
    finally:
        demo.stop_hard()
    assert started < 20


def test_missing_prometheus_says_what_to_install(tmp_path):
    demo = Demo(tmp_path, path=str(tmp_path))  # a PATH without prometheus or promtool
    rc = demo.proc.wait(timeout=20)
    assert rc == 2
    assert "apt-get install prometheus" in demo.read_stderr()
