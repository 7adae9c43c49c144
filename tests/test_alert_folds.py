"""Folding identical alerts (same name, same service) into one row: on a real Alertmanager 0.31
answer (../shared/fixtures/real, prymitive/karma's capture), on lists whose service label is
``app``, ``service_name`` or a cAdvisor ``container``, and on members that differ in severity,
state and source. The expected groups, labels and states are computed here from the raw data
with plain set arithmetic, not with zeta's functions."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from tests.support.servers import real_fixture
from zeta_tui.backends.alertmanager import groups_from_answer
from zeta_tui.models.alert_overview import (
    AlertFold,
    AlertRow,
    fold_rows,
    merge,
    row_order,
    service_labels,
    sort_rows,
)
from zeta_tui.models.alerts import Alert, matchers_for
from zeta_tui.models.metrics_meta import RuleAlert

SEVERITY = ("critical", "error", "warning", "info")


def _raw_alerts() -> list[dict]:
    """The captured groups' alerts, each once (an alert is in every group that routes it)."""
    groups = json.loads(real_fixture("alertmanager/v2-alerts-groups-am0.31.json"))
    return list({a["fingerprint"]: a for g in groups for a in g["alerts"]}.values())


def _raw_state(alert: dict) -> str:
    status = alert["status"]
    if status["silencedBy"]:
        return "silenced"
    if status["inhibitedBy"]:
        return "inhibited"
    return "active" if status["state"] == "active" else status["state"]


def _differing(label_sets: list[dict[str, str]], grouped_by: set[str]) -> set[str]:
    """Labels some member lacks or whose values are not all the same."""
    names = set().union(*label_sets) - grouped_by
    return {n for n in names if len({labels.get(n) for labels in label_sets}) > 1}


def _by_key(folds: list[AlertFold]) -> dict[tuple[str, str], AlertFold]:
    return {(f.name, f.service): f for f in folds}


def test_the_captured_alertmanager_answer_folds_by_name_and_job() -> None:
    raw = _raw_alerts()
    alerts = [
        a
        for g in groups_from_answer(json.loads(real_fixture("alertmanager/v2-alerts-groups-am0.31.json")))
        for a in g.alerts
    ]
    unique = list({a.fingerprint: a for a in alerts}.values())
    folds = fold_rows(merge(unique, []), service_labels("job"))

    expected: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for a in raw:
        expected[(a["labels"]["alertname"], a["labels"]["job"])].append(a)
    got = _by_key(folds)
    assert set(got) == set(expected)
    for key, members in expected.items():
        fold = got[key]
        assert fold.service_label == "job"
        assert fold.count == len(members) == len(fold.members)
        assert {r.fingerprint for r in fold.members} == {a["fingerprint"] for a in members}
        assert set(fold.distinguishing) == _differing([a["labels"] for a in members], {"alertname", "job"})
        assert dict(fold.states) == dict(Counter(_raw_state(a) for a in members))
        # Every member has these labels with these values, and no other label is shared.
        shared = {k: v for k, v in members[0]["labels"].items() if all(m["labels"].get(k) == v for m in members)}
        assert dict(fold.shared.labels) == shared
    # What the capture holds, said by hand: eight hosts down in three clusters, three of them
    # silenced; two probes, one silenced; two alerts alone.
    host_down = got[("Host_Down", "node_ping")]
    assert (host_down.count, host_down.describe_states()) == (8, "5 firing, 3 silenced")
    assert host_down.distinguishing == ("cluster", "instance", "ip")  # three values before eight
    assert host_down.lead.state == "active"  # the most urgent member leads
    assert [r.state for r in host_down.members] == ["active"] * 5 + ["silenced"] * 3
    assert got[("HTTP_Probe_Failed", "node_exporter")].distinguishing == ("instance",)
    assert got[("Free_Disk_Space_Too_Low", "node_exporter")].count == 1
    # A silence made from the fold mutes all eight and nothing else of node_ping's.
    assert [str(m) for m in matchers_for(host_down.shared)] == ['alertname="Host_Down"', 'job="node_ping"']


def test_the_service_is_the_label_the_context_names() -> None:
    # Kubernetes pods scraped by one job: the app label is the service (labels.service = "app").
    def pod(app: str, pod: str, tenant: str) -> Alert:
        return Alert(
            {
                "alertname": "CheckoutErrors",
                "job": "kubernetes-pods",
                "app": app,
                "pod": pod,
                "tenant": tenant,
                "severity": "warning",
            },
            {"summary": f"{app} fails for {tenant}"},
            starts_at=1000.0,
            fingerprint=f"{app}-{pod}-{tenant}",
        )

    alerts = [
        pod("checkout", "checkout-7d9f-a", "t1"),
        pod("checkout", "checkout-7d9f-b", "t2"),
        pod("cart", "cart-5c4-a", "t1"),
    ]
    rows = merge(alerts, [])
    by_app = _by_key(fold_rows(rows, service_labels("app")))
    expected: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        expected[a.labels["app"]].append(a)
    assert {service: f.count for (_, service), f in by_app.items()} == {k: len(v) for k, v in expected.items()}
    checkout = by_app[("CheckoutErrors", "checkout")]
    assert checkout.service_label == "app" and checkout.distinguishing == ("pod", "tenant")
    # The silence of the fold names the app, not the job every pod shares.
    assert 'app="checkout"' in [str(m) for m in matchers_for(checkout.shared)]
    # By job (the default) the three are one alert on kubernetes-pods, told apart by app too
    # (two values each for app and tenant, three pods: coarse to fine).
    (by_job,) = fold_rows(rows, service_labels("job"))
    assert (by_job.service, by_job.count, by_job.distinguishing) == ("kubernetes-pods", 3, ("app", "tenant", "pod"))


def test_an_alert_without_the_contexts_label_falls_back_to_the_other_spellings() -> None:
    # OpenTelemetry metrics name the service service_name; a cAdvisor alert has only container.
    rows = merge(
        [
            Alert({"alertname": "HighErrorRate", "service_name": "ranker", "severity": "critical"}, fingerprint="a"),
            Alert(
                {"alertname": "HighMemoryUsage", "container": "ranker", "pod": "ranker-1", "severity": "warning"},
                fingerprint="b",
            ),
            Alert(
                {"alertname": "HighMemoryUsage", "container": "ranker", "pod": "ranker-2", "severity": "warning"},
                fingerprint="c",
            ),
            Alert(
                {"alertname": "HighMemoryUsage", "container": "feeder", "pod": "feeder-1", "severity": "warning"},
                fingerprint="d",
            ),
            Alert({"alertname": "Watchdog", "severity": "none"}, fingerprint="e"),
        ],
        [],
    )
    got = {(f.name, f.service_label, f.service): f.count for f in fold_rows(rows, service_labels("service_name"))}
    assert got == {
        ("HighErrorRate", "service_name", "ranker"): 1,
        ("HighMemoryUsage", "container", "ranker"): 2,
        ("HighMemoryUsage", "container", "feeder"): 1,
        ("Watchdog", "", ""): 1,
    }


def _row(name: str, severity: str, state: str, since: float, **labels: str) -> AlertRow:
    return AlertRow(
        labels={"alertname": name, "severity": severity, **labels},
        annotations={},
        state=state,
        since=since,
        source="prometheus" if state == "pending" else "alertmanager",
        fingerprint=f"{name}{severity}{state}{since}",
    )


def test_a_fold_stands_where_its_most_severe_most_urgent_member_would() -> None:
    # The newest member is a warning, the newest critical is pending: the fold is led by the
    # firing critical, and stands where that alert would stand alone (after ServiceDown, newer).
    members = [
        _row("ErrorBudgetBurn", "warning", "active", 900.0, job="api", window="3d"),
        _row("ErrorBudgetBurn", "critical", "pending", 800.0, job="api", window="6h"),
        _row("ErrorBudgetBurn", "critical", "active", 500.0, job="api", window="1h"),
        _row("ErrorBudgetBurn", "critical", "silenced", 850.0, job="api", window="5m"),
    ]
    others = [
        _row("ServiceDown", "critical", "active", 600.0, job="auth"),
        _row("DatabaseDown", "critical", "active", 400.0, job="postgres"),
        _row("DiskSpaceLow", "warning", "active", 950.0, job="postgres"),
    ]
    folds = fold_rows([*others, *members], service_labels("job"))
    assert [f.name for f in folds] == ["ServiceDown", "ErrorBudgetBurn", "DatabaseDown", "DiskSpaceLow"]
    burn = folds[1]
    assert (burn.lead.severity, burn.lead.state, burn.lead.since) == ("critical", "active", 500.0)
    # Members: severity, then firing before pending before muted, then newest.
    assert [(r.severity, r.state) for r in burn.members] == [
        ("critical", "active"),
        ("critical", "pending"),
        ("critical", "silenced"),
        ("warning", "active"),
    ]
    assert burn.describe_states() == "2 firing, 1 pending, 1 silenced"
    assert burn.distinguishing == ("severity", "window")  # two values before four
    assert burn.first_since == 500.0
    # Alone, every alert stands where sort_rows puts it.
    alone = fold_rows(others, service_labels("job"))
    assert [f.lead for f in alone] == sort_rows(others)
    assert all(row_order(f.lead) == row_order(f.members[0]) for f in alone)


def test_labels_a_prometheus_alert_lacks_and_ever_changing_ones_do_not_tell_members_apart() -> None:
    # Alertmanager's copies carry Prometheus's external labels (cluster); Prometheus's own pending
    # alert does not. Pods differ by name and by their template hash: the name says it.
    am = [
        Alert(
            {
                "alertname": "PodCrashLooping",
                "job": "ksm",
                "cluster": "eu1",
                "pod": p,
                "pod_template_hash": h,
                "severity": "warning",
            },
            fingerprint=p,
        )
        for p, h in (("ranker-7d9f-a", "7d9f"), ("ranker-5c4b-b", "5c4b"))
    ]
    prom = [
        RuleAlert(
            "PodCrashLooping",
            "pending",
            {
                "alertname": "PodCrashLooping",
                "job": "ksm",
                "pod": "ranker-5c4b-c",
                "pod_template_hash": "5c4b",
                "severity": "warning",
            },
            {},
            active_at="2026-01-01T00:00:00Z",
        )
    ]
    (fold,) = fold_rows(merge(am, prom), service_labels("job"))
    assert fold.count == 3 and fold.distinguishing == ("pod",)
    assert fold.values_of(fold.members[-1]) == (("pod", "ranker-5c4b-c"),)
    # When nothing else differs, the hash is what tells them apart.
    only_hash = [Alert({"alertname": "Restarts", "job": "ksm", "uid": u}, fingerprint=u) for u in ("0a1b", "2c3d")]
    (fold,) = fold_rows(merge(only_hash, []), service_labels("job"))
    assert fold.distinguishing == ("uid",)
    # A label one Alertmanager alert has and another lacks does differ.
    uneven = [
        Alert({"alertname": "X", "job": "j", "tenant_id": "t1"}, fingerprint="1"),
        Alert({"alertname": "X", "job": "j"}, fingerprint="2"),
    ]
    (fold,) = fold_rows(merge(uneven, []), service_labels("job"))
    assert fold.distinguishing == ("tenant_id",)
    assert {fold.values_of(r) for r in fold.members} == {(("tenant_id", "t1"),), (("tenant_id", ""),)}


def test_limits_keep_the_first_folds_and_members_but_count_them_all() -> None:
    rows = [
        _row(
            "TenantQuotaExceeded",
            "warning",
            "active" if i % 3 else "pending",
            1000.0 + i,
            job="api",
            tenant_id=f"t{i:03d}",
        )
        for i in range(250)
    ] + [_row(f"Other{i}", "info", "active", float(i), job="api") for i in range(10)]
    folds = fold_rows(rows, service_labels("job"), limit=5, member_limit=20)
    assert [f.name for f in folds] == ["TenantQuotaExceeded", "Other9", "Other8", "Other7", "Other6"]
    quota = folds[0]
    firing = sum(1 for i in range(250) if i % 3)
    assert (quota.count, len(quota.members), dict(quota.states)) == (
        250,
        20,
        {"active": firing, "pending": 250 - firing},
    )
    # The first twenty: firing ones, newest first.
    assert [r.labels["tenant_id"] for r in quota.members] == [
        f"t{i:03d}" for i in sorted((i for i in range(250) if i % 3), reverse=True)[:20]
    ]


def test_a_silence_of_one_member_matches_that_alert_only() -> None:
    # Five tenants' training failures on one instance: a silence of tenant t2's names it; the
    # fold's silence names what all five share. Checked with Matcher.matches, as Alertmanager would.
    labels = {"alertname": "ModelTrainingFailed", "job": "ml-engine", "instance": "ml-0", "severity": "warning"}
    alerts = [Alert({**labels, "tenant_id": f"t{i}"}, fingerprint=f"f{i}") for i in range(1, 6)]
    alerts.append(Alert(dict(labels), fingerprint="f0"))  # one without a tenant
    (fold,) = fold_rows(merge(alerts, []), service_labels("job"))
    for member in fold.members:
        matchers = matchers_for(fold.scope_of(member))
        muted = [a.fingerprint for a in alerts if all(m.matches(a.labels) for m in matchers)]
        assert muted == [member.fingerprint], [str(m) for m in matchers]
    everything = matchers_for(fold.shared)
    assert all(all(m.matches(a.labels) for m in everything) for a in alerts)
    assert not any(m.matches({**labels, "job": "ranker"}) for m in everything if m.name == "job")
