"""An alert's culprits (models/evidence.py, backends/evidence.py, the evidence table).

Pure cases on label and field shapes zeta did not generate: other label conventions (``app``,
``pod``, ``handler``, ``code``), the seed's log format verbatim, Filebeat's Kubernetes fields and
Loki's stream labels. Then end to end on a real Prometheus holding the world's ml-engine spike
and the world's logs in the embedded store: the OOM-looping pod, its share and its message,
each against a figure computed apart from zeta's code (raw samples, SQL on the store).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time

import pytest

from zeta_tui.backends.logs.records import record_from_document
from zeta_tui.models.evidence import (
    Culprit,
    Evidence,
    log_culprits,
    metric_culprits,
    slow_bound,
    varying_labels,
)

# --- metrics: every label that tells the service's series apart ----------------------------------


def _checkout_series():
    """A service labelled app/pod/handler/code (not job/instance/endpoint/status): pod -x2 fails
    on both handlers, -k8 never; one namespace everywhere."""
    base = {"app": "checkout", "namespace": "shop"}
    ok = [
        {**base, "pod": pod, "handler": h, "code": "200"}
        for pod in ("checkout-7f9c-x2", "checkout-7f9c-k8")
        for h in ("/cart", "/pay")
    ]
    failing = [
        ({**base, "pod": "checkout-7f9c-x2", "handler": "/pay", "code": "503"}, 30.0),
        ({**base, "pod": "checkout-7f9c-x2", "handler": "/cart", "code": "503"}, 6.0),
        ({**base, "pod": "checkout-7f9c-x2", "handler": "/cart", "code": "500"}, 4.0),
    ]
    return ok + [labels for labels, _ in failing], failing


def test_all_failures_on_one_pod_is_the_first_culprit_though_every_failing_series_shares_it() -> None:
    every, failing = _checkout_series()
    varying = varying_labels(every)
    assert varying == {"pod", "handler", "code"}  # app and namespace never tell series apart
    culprits = metric_culprits(failing, varying=varying, constant=("app",))
    by_dim: dict[str, list[Culprit]] = {}
    for c in culprits:
        by_dim.setdefault(c.dimension, []).append(c)
    # 40 failures: all on x2; /pay 30, /cart 10; 503 36, 500 4.
    assert [(c.value, c.count, c.share) for c in by_dim["pod"]] == [("checkout-7f9c-x2", 40.0, 1.0)]
    assert [(c.value, c.share) for c in by_dim["handler"]] == [("/pay", 0.75), ("/cart", 0.25)]
    assert [(c.value, c.share) for c in by_dim["code"]] == [("503", 0.9), ("500", 0.1)]
    assert culprits[0].dimension == "pod"  # the most concentrated dimension first
    assert [c.dimension for c in culprits] == ["pod", "code", "code", "handler", "handler"]


def test_without_the_services_series_the_failing_ones_say_what_varies() -> None:
    _, failing = _checkout_series()
    culprits = metric_culprits(failing, constant=("app",))
    assert {c.dimension for c in culprits} == {"handler", "code"}  # pod is the same in all three


def test_no_failures_no_culprits_and_a_missing_label_counts_as_none() -> None:
    assert metric_culprits([({"pod": "a"}, 0.0)], varying={"pod"}) == []
    culprits = metric_culprits([({"pod": "a"}, 3.0), ({}, 1.0)], varying={"pod"})
    assert [(c.value, c.share) for c in culprits] == [("a", 0.75), ("(none)", 0.25)]


@pytest.mark.parametrize(
    ("threshold", "bounds", "per_unit", "expected"),
    [
        (1.0, (0.1, 0.5, 1.0, 2.5, float("inf")), 1.0, 1.0),  # the bound itself
        (0.7, (0.1, 0.5, 1.0, 2.5), 1.0, 1.0),  # the next bound up
        (500.0, (0.1, 0.25, 0.5, 1.0), 0.001, 500.0),  # a histogram in milliseconds
        (5.0, (0.1, 0.5, 1.0), 1.0, None),  # beyond the last finite bound
    ],
)
def test_slow_bound(threshold, bounds, per_unit, expected) -> None:
    assert slow_bound(threshold, bounds, per_unit) == expected


# --- logs: the seed's format, Filebeat's Kubernetes fields, Loki's labels --------------------------


def _seed_document() -> dict:
    from tests.support.servers import shared_dir

    base = shared_dir()
    if base is None or not (base / "seed" / "team-zeta-observability.md").is_file():
        pytest.skip("../shared/seed is absent")
    text = (base / "seed" / "team-zeta-observability.md").read_text(encoding="utf-8")
    block = text[text.index("**Log Format (Structured JSON):**") :]
    raw = block[block.index("```json") + len("```json") : block.index("```", block.index("```json") + 7)]
    return json.loads(raw)


def test_log_culprits_on_the_seeds_log_format() -> None:
    doc = _seed_document()
    assert doc["tenant_id"] == "tenant_001" and doc["endpoint"] == "/api/v1/recommendations"
    tenants = ["tenant_001"] * 6 + ["tenant_042"] * 3 + ["tenant_007"]
    messages = ["model timeout"] * 7 + ["Request processed successfully"] * 3
    records = [
        record_from_document(
            {**doc, "level": "ERROR", "tenant_id": t, "message": m, "kubernetes": {"pod": {"name": f"api-{i % 2}"}}}
        )
        for i, (t, m) in enumerate(zip(tenants, messages))
    ]
    culprits, values = log_culprits(records)
    got = {(c.dimension, c.value): c.share for c in culprits}
    assert got[("tenant_id", "tenant_001")] == pytest.approx(0.6)
    assert got[("tenant_id", "tenant_042")] == pytest.approx(0.3)
    assert got[("endpoint", "/api/v1/recommendations")] == 1.0
    assert got[("kubernetes.pod.name", "api-0")] == pytest.approx(0.5)
    assert got[("message", "model timeout")] == pytest.approx(0.7)
    assert values["tenant_id"] == {"tenant_001", "tenant_042", "tenant_007"}
    # endpoint (all on one) before tenant (60 %) before pod (50 %); messages last.
    dims = list(dict.fromkeys(c.dimension for c in culprits))
    assert dims == ["endpoint", "tenant_id", "kubernetes.pod.name", "message"]


def test_log_culprits_from_loki_stream_labels() -> None:
    lines = [("pod", "ml-7", "OOMKilled"), ("pod", "ml-7", "OOMKilled"), ("pod", "ml-2", "timeout")]
    records = [
        record_from_document({"message": msg}, timestamp_ns=i, extra_fields={"pod": pod, "app": "ml"})
        for i, (_, pod, msg) in enumerate(lines)
    ]
    culprits, _ = log_culprits(records)
    assert (culprits[0].dimension, culprits[0].value) == ("pod", "ml-7")
    assert culprits[0].share == pytest.approx(2 / 3)


def test_a_metric_culprit_narrows_the_logs_by_the_field_holding_its_value() -> None:
    evidence = Evidence(
        "5xx responses",
        culprits=(
            Culprit("metrics", "instance", "ml-engine-1", 9, 0.9),
            Culprit("metrics", "instance", "10.0.0.7:8080", 1, 0.1),
            Culprit("logs", "message", "OOMKilled", 5, 1.0),
            Culprit("logs", "tenant_id", "tenant_003", 5, 1.0),
        ),
        log_values={"service.instance.id": frozenset({"ml-engine-1"}), "tenant_id": frozenset({"tenant_003"})},
    )
    assert evidence.log_filter(evidence.culprits[0]) == ("service.instance.id", "ml-engine-1")
    assert evidence.log_filter(evidence.culprits[1]) == ("", "")  # no log field holds it
    assert evidence.log_filter(evidence.culprits[2]) == ("", "")  # messages are not searched by equality
    assert evidence.log_filter(evidence.culprits[3]) == ("tenant_id", "tenant_003")


def test_the_logs_query_escapes_fields_and_values() -> None:
    from zeta_tui.backends.evidence import log_query
    from zeta_tui.querying.logquery import parse_log_query

    query = log_query('ml "engine"', "service.instance.id", 'pod "x"')
    assert query == 'service:"ml \\"engine\\"" AND service.instance.id:"pod \\"x\\"" AND level:ERROR'
    parse_log_query(query)  # the Logs screen's parser reads it


# --- end to end: the world's ml-engine spike on a real Prometheus and the embedded store ------------


async def _raw_failures(prom, selector: str, start: float, end: float) -> dict[str, float]:
    import httpx

    async with httpx.AsyncClient() as client:
        resp = await client.get(
            f"{prom.config.url}/api/v1/query", params={"query": f"{selector}[{int(end - start)}s]", "time": end}
        )
    out: dict[str, float] = {}
    for series in resp.json()["data"]["result"]:
        values = [float(v) for _, v in series["values"]]
        grown = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
        instance = series["metric"]["instance"]
        out[instance] = out.get(instance, 0.0) + grown
    return out


def test_the_spikes_culprit_is_the_oom_looping_instance(prometheus_world) -> None:
    from tests.test_snapshots_alerts import _high_error_rate
    from zeta_tui.backends.discovery import discover
    from zeta_tui.backends.evidence import evidence_window, gather_evidence
    from zeta_tui.config.models import ContextConfig

    pw = prometheus_world
    row = _high_error_rate(pw.world, pw.t0)

    async def run():
        prom = pw.client()
        try:
            inventory = await discover(prom, ContextConfig(namespace="production"), "t", at=pw.t0)
            window = evidence_window(row.condition_since, pw.t0)
            evidence = await gather_evidence(prom, inventory, None, row, expression=row.expression, window=window)
            raw = await _raw_failures(prom, 'http_requests_total{job="ml-engine", status=~"5.."}', *window)
            return evidence, raw
        finally:
            await prom.aclose()

    evidence, raw = asyncio.run(run())
    assert evidence.failures == "5xx responses"
    down = pw.world.schedule.ml_down_instance
    instances = [c for c in evidence.culprits if c.dimension == "instance"]
    assert instances[0].value == down, instances
    expected_share = raw[down] / sum(raw.values())
    assert expected_share > 0.5  # the world's spike is that pod's
    # increase() extrapolates each series to the window's edges; the raw growth does not.
    assert instances[0].share == pytest.approx(expected_share, abs=0.03)
    assert evidence.culprits[0].dimension in ("instance", "status", "endpoint", "method")
    assert not [n for n in evidence.notes if n.startswith("metrics:")], evidence.notes


@pytest.fixture(scope="module")
def spike_logs(prometheus_world, tmp_path_factory):
    """The world's logs (1 request in 5) in an embedded store up to T0, covering the spike's
    evidence window; (store path, window, the newest ERROR records of ml-engine in it by pod, from SQL)."""
    from tests.test_snapshots_alerts import _high_error_rate
    from zeta_tui.backends.chdb_store import close_embedded_session
    from zeta_tui.backends.evidence import evidence_window
    from zeta_tui.demo.log_store import LiveLogWriter

    pw = prometheus_world
    row = _high_error_rate(pw.world, pw.t0)
    window = evidence_window(row.condition_since, pw.t0)
    path = tmp_path_factory.mktemp("spike-logs") / "store"
    writer = LiveLogWriter(
        pw.world, path, sample_every=5, history_seconds=int(pw.t0 - window[0]) + 60, clock=lambda: pw.t0
    ).start()
    try:
        assert writer.caught_up.wait(120)
    finally:
        writer.stop()
    yield path, window, _errors_by(path, window, "ResourceAttributes['service.instance.id']")
    # The sources the tests open share the process's session; chdb holds one store per process,
    # so it is closed for the next module's store.
    close_embedded_session(path)


def test_the_spikes_logs_name_the_pod_and_the_oom_message(prometheus_world, spike_logs) -> None:
    from tests.test_snapshots_alerts import _high_error_rate
    from zeta_tui.backends.evidence import gather_evidence
    from zeta_tui.backends.logs.clickhouse import ClickHouseLogSource
    from zeta_tui.config.models import LogsConfig

    path, window, counts = spike_logs
    row = _high_error_rate(prometheus_world.world, prometheus_world.t0)

    async def run():
        source = ClickHouseLogSource(LogsConfig(kind="clickhouse", path=str(path)))
        try:
            return await gather_evidence(None, None, source, row, expression="", window=window)
        finally:
            await source.aclose()

    evidence = asyncio.run(run())
    total = sum(counts.values())
    assert evidence.log_total == total > 0
    pods = [c for c in evidence.culprits if c.dimension == "service.instance.id"]
    top_pod, top_count = max(counts.items(), key=lambda kv: kv[1])
    assert pods[0].value == top_pod
    assert pods[0].share == pytest.approx(top_count / total)
    messages = [c for c in evidence.culprits if c.dimension == "message"]
    assert "OOMKilled" in messages[0].value


@pytest.mark.console
async def test_the_culprit_is_on_the_first_screen_and_l_opens_its_logs(prometheus_world, spike_logs) -> None:
    """At 80x24 the OOM-looping pod's row is on screen with the cursor on it; `l` opens the Logs
    screen on that pod's ERROR records in the alert's window; Esc comes back to the same row."""
    from tests.support.console import settled
    from tests.test_snapshots_alerts import _high_error_rate
    from zeta_tui.config.models import ContextConfig, LogsConfig, PrometheusConfig, ZetaConfig
    from zeta_tui.launch import build_app
    from zeta_tui.screens.alert_detail import AlertDetailScreen
    from zeta_tui.widgets.evidence_table import EvidenceTable

    pw = prometheus_world
    path, _window, _counts = spike_logs
    row = _high_error_rate(pw.world, pw.t0)
    context = ContextConfig(
        namespace="production",
        prometheus=PrometheusConfig(url=pw.url, timeout_seconds=10),
        logs=LogsConfig(kind="clickhouse", path=str(path)),
    )
    app = build_app(ZetaConfig(default_context="e", contexts={"e": context}), "e", clock=lambda: pw.t0, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.app.push_screen(AlertDetailScreen(row))
        detail = await settled(pilot)
        table = await _evidence_arrived(pilot, detail)
        finding = table.finding()
        assert finding is not None and finding.role == "pod"
        assert finding.value == pw.world.schedule.ml_down_instance
        # Prometheus's instance label and the records' service.instance.id name the pod alike: one row.
        assert finding.metric is not None and finding.log is not None
        assert finding.metric.dimension == "instance" and finding.log.dimension == "service.instance.id"
        assert table.has_focus
        field, value = table.evidence.finding_filter(finding)
        assert (field, value) == ("service.instance.id", finding.value)
        await pilot.press("l")
        logs = await settled(pilot)
        assert logs.query_text == f'service:"ml-engine" AND service.instance.id:"{value}" AND level:ERROR'
        assert (pilot.app.current_range().start, pilot.app.current_range().end) == detail.window
        await pilot.press("escape")
        back = await settled(pilot)
        assert back is detail and detail.query_one(EvidenceTable).finding() == finding


async def _evidence_arrived(pilot, detail):
    """The detail's evidence table once both sources have answered."""
    from zeta_tui.widgets.evidence_table import EvidenceTable

    for _ in range(200):
        table = detail.query_one(EvidenceTable)
        if table.row_count and table.evidence.log_total and table.evidence.metric_total:
            await pilot.pause()
            return table
        await pilot.pause(0.1)
    raise AssertionError(f"no evidence from both sources: {detail.query_one(EvidenceTable).evidence}")


def test_findings_merge_what_both_sources_say_of_one_pod_and_keep_the_roles_order() -> None:
    from zeta_tui.models.evidence import findings

    culprits = [
        Culprit("metrics", "method", "POST", 40, 1.0),
        Culprit("metrics", "instance", "ml-1", 32, 0.8),
        Culprit("metrics", "instance", "ml-0", 8, 0.2),
        Culprit("metrics", "handler", "/embed", 22, 0.55),
        Culprit("logs", "service.instance.id", "ml-1", 9, 0.9),
        Culprit("logs", "http.route", "/search", 6, 0.6),
        Culprit("logs", "tenant_id", "t7", 5, 0.5),
        Culprit("logs", "message", "OOMKilled", 9, 0.9),
    ]
    rows = findings(culprits)
    assert [(f.role, f.value) for f in rows] == [
        ("pod", "ml-1"),
        ("endpoint", "/search"),  # the sources disagree: both rows, the larger share first
        ("endpoint", "/embed"),
        ("tenant", "t7"),
        ("message", "OOMKilled"),
        ("method", "POST"),
    ]
    pod = rows[0]
    assert (pod.metric, pod.log, pod.runner_up) == (culprits[1], culprits[4], culprits[2])
    assert pod.share == 0.9


# --- the walkthrough: from the page to the pod, endpoint, tenant and message in three keys ---------

#: the keys from the console's first screen to the culprits; the issue's budget is three
WALKTHROUGH = ("5", "down", "enter")


@pytest.fixture(scope="module")
def paging_alertmanager(prometheus_world, tmp_path_factory):
    """A real Alertmanager holding two pages at the world's T0: the ml-engine spike's HighErrorRate
    and a newer critical on another service, which the Alerts screen lists first."""
    import httpx

    from tests.support.alert_world import rfc3339
    from tests.support.servers import started_alertmanager, wait_until
    from tests.test_snapshots_alerts import _high_error_rate

    row = _high_error_rate(prometheus_world.world, prometheus_world.t0)

    def load(child) -> None:
        ends = rfc3339(time.time() + 3 * 3600)
        alerts = [
            {
                "labels": dict(row.labels),
                "annotations": dict(row.annotations),
                "startsAt": rfc3339(row.since),
                "endsAt": ends,
                "generatorURL": row.generator_url,
            },
            {
                "labels": {"alertname": "ReplicationLag", "job": "postgres", "severity": "critical"},
                "annotations": {"summary": "postgres replica 40 s behind"},
                "startsAt": rfc3339(prometheus_world.t0 - 60),
                "endsAt": ends,
            },
        ]
        httpx.post(f"{child.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()
        assert wait_until(lambda: len(httpx.get(f"{child.url}/api/v2/alerts", timeout=5).json()) == 2)

    config = "route:\n  receiver: pager\n  group_wait: 1s\nreceivers:\n  - name: pager\n"
    yield from started_alertmanager(tmp_path_factory.mktemp("paging-am"), config, load)


@pytest.mark.console
async def test_walkthrough_from_the_page_to_the_culprits_in_three_keys(
    prometheus_world, spike_logs, paging_alertmanager
) -> None:
    """At 80x24: 5 (Alerts), ↓ (the spike's page), Enter (its evidence): the pod, the endpoint, the
    tenant and the message are on that first screen, each against a figure computed apart."""
    from tests.support.console import settled
    from zeta_tui.screens.alert_detail import AlertDetailScreen
    from zeta_tui.screens.alerts import AlertsScreen
    from zeta_tui.widgets.alert_table import AlertTable

    assert len(WALKTHROUGH) <= 3
    pw = prometheus_world
    path, window, pods = spike_logs
    app = _walkthrough_app(pw, path, paging_alertmanager.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press(WALKTHROUGH[0])
        alerts = await settled(pilot)
        assert isinstance(alerts, AlertsScreen)
        table = alerts.query_one(AlertTable)
        assert [r.name for r in table.rows_shown][:2] == ["ReplicationLag", "HighErrorRate"]
        await pilot.press(WALKTHROUGH[1])
        assert table.rows_shown[table.cursor_coordinate.row].name == "HighErrorRate"
        await pilot.press(WALKTHROUGH[2])
        detail = await settled(pilot)
        assert isinstance(detail, AlertDetailScreen) and detail.row.name == "HighErrorRate"
        evidence = await _evidence_arrived(pilot, detail)
        shown = {f.role: f for f in evidence.rows_shown}
        # Every role is on the first screen: its row lies inside the table's visible height.
        visible = evidence.region.height - 1  # the header row
        for role in ("pod", "endpoint", "tenant", "message"):
            assert role in shown, (role, evidence.rows_shown)
            assert evidence.rows_shown.index(shown[role]) < visible, (role, evidence.region)
        assert evidence.region.bottom <= 23  # above the footer
        assert shown["pod"].value == pw.world.schedule.ml_down_instance == max(pods, key=pods.__getitem__)
        patterns = _errors_by(path, window, "replaceRegexpAll(Body, '[0-9]+([.][0-9]+)?', '#')")
        top_pattern = max(patterns, key=patterns.__getitem__)
        assert shown["message"].value == top_pattern and "OOMKilled" in top_pattern
        assert shown["message"].share == pytest.approx(patterns[top_pattern] / sum(patterns.values()))
        tenants = _errors_by(path, window, "LogAttributes['tenant_id']")
        assert shown["tenant"].value == max(tenants, key=tenants.__getitem__)
        assert shown["tenant"].log is not None
        assert shown["tenant"].log.share == pytest.approx(max(tenants.values()) / sum(tenants.values()))
        endpoints = _errors_by(path, window, "LogAttributes['endpoint']")
        assert shown["endpoint"].value in endpoints


def _errors_by(path, window: tuple[float, float], column: str) -> dict[str, int]:
    """The newest LOG_LIMIT ERROR records of ml-engine in the window (what the evidence reads) by
    ``column``, in SQL on the store (a fresh reader)."""
    from zeta_tui.backends.evidence import LOG_LIMIT
    from zeta_tui.demo.log_store import WorldLogStore

    store = WorldLogStore(path)
    try:
        rows = store._query(
            f"SELECT v, count() FROM (SELECT {column} AS v FROM {{database:Identifier}}.{{table:Identifier}} "
            "WHERE ServiceName = 'ml-engine' AND SeverityText = 'ERROR' "
            f"AND Timestamp BETWEEN fromUnixTimestamp64Nano({int(window[0] * 1e9)}) "
            f"AND fromUnixTimestamp64Nano({int(window[1] * 1e9)}) ORDER BY Timestamp DESC LIMIT {LOG_LIMIT}) GROUP BY v"
        )
    finally:
        store.close()
    return {re.sub(r'^"|"$', "", v): int(n) for v, n in (line.rsplit(",", 1) for line in rows.strip().splitlines())}


def _walkthrough_app(pw, logs_path, am_url: str):
    from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, LogsConfig, PrometheusConfig, ZetaConfig
    from zeta_tui.launch import build_app

    context = ContextConfig(
        namespace="production",
        prometheus=PrometheusConfig(url=pw.url, timeout_seconds=10),
        alertmanager=AlertmanagerConfig(url=am_url, timeout_seconds=10),
        logs=LogsConfig(kind="clickhouse", path=str(logs_path)),
    )
    return build_app(ZetaConfig(default_context="w", contexts={"w": context}), "w", clock=lambda: pw.t0, live=False)


@pytest.mark.console
@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")])
def test_the_evidence_screen_after_the_walkthrough(
    snap_compare, prometheus_world, spike_logs, paging_alertmanager, size
) -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()

    async def run_before(pilot) -> None:
        from tests.support.console import settled

        await settled(pilot)
        for key in WALKTHROUGH:
            await pilot.press(key)
            await settled(pilot)
        await _evidence_arrived(pilot, pilot.app.screen)
        await settled(pilot)

    app = _walkthrough_app(prometheus_world, spike_logs[0], paging_alertmanager.url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
