"""The shipped alert rules and Alertmanager routing are checked by the real promtool and amtool.

queries/prometheus/alerts.yaml passes `promtool check rules`, its unit tests
(alerts_test.yaml) pass `promtool test rules`, and those tests are read here, independently of
promtool, to make sure every alert is expected both firing and not firing and that every
annotation only uses labels the firing series carry. Mutating a threshold or a `for` must make
them fail. alertmanager.yaml passes `amtool check-config`, routes critical / warning /
unlabelled alerts to the intended receivers and holds no secret values.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from zeta_tui.demo.processes import find_binary
from zeta_tui.errors import ZetaError

RULES_DIR = Path(__file__).resolve().parents[1] / "queries" / "prometheus"
ALERTS = RULES_DIR / "alerts.yaml"
ALERTS_TEST = RULES_DIR / "alerts_test.yaml"
ALERTMANAGER = RULES_DIR / "alertmanager.yaml"

_HINTS = {
    "promtool": "it comes with Prometheus: `sudo apt-get install prometheus`",
    "amtool": "it comes with Alertmanager: `sudo apt-get install prometheus-alertmanager`",
}


def _binary(name: str) -> str:
    try:
        return find_binary(name)
    except ZetaError:
        pytest.skip(f"`{name}` is not installed: {_HINTS[name]}")


def _run(*argv: str, cwd: Path = RULES_DIR, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def _alert_rules() -> list[dict]:
    return [rule for rule in _rules() if "alert" in rule]


def _test_cases() -> list[tuple[str, dict]]:
    """(test group name, alert_rule_test case) for every case of alerts_test.yaml."""
    doc = yaml.safe_load(ALERTS_TEST.read_text())
    return [(group["name"], case) for group in doc["tests"] for case in group.get("alert_rule_test", [])]


# --- promtool ---------------------------------------------------------------------------


@pytest.mark.prometheus
def test_promtool_checks_the_rules() -> None:
    out = _run(_binary("promtool"), "check", "rules", ALERTS.name)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in out.stdout


@pytest.mark.prometheus
def test_promtool_unit_tests_pass() -> None:
    out = _run(_binary("promtool"), "test", "rules", ALERTS_TEST.name)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "SUCCESS" in text and "FAILED" not in text, text


def test_the_seed_alerts_and_the_burn_rate_alerts_are_all_there() -> None:
    by_name: dict[str, set[str]] = {}
    for rule in _alert_rules():
        by_name.setdefault(rule["alert"], set()).add(rule["labels"]["severity"])
    assert by_name == {
        "ServiceDown": {"critical"},
        "HighErrorRate": {"critical"},
        "HighLatency": {"critical", "warning"},
        "DatabaseDown": {"critical"},
        "HighMemoryUsage": {"warning"},
        "DiskSpaceLow": {"warning"},
        "ModelTrainingFailed": {"warning"},
        "ModelQualityDrop": {"warning"},
        "TenantDataStale": {"warning"},
        "ErrorBudgetBurn": {"critical", "warning"},
    }
    windows = {
        (r["labels"]["long_window"], r["labels"]["short_window"], r["labels"]["severity"])
        for r in _alert_rules()
        if r["alert"] == "ErrorBudgetBurn"
    }
    assert windows == {
        ("1h", "5m", "critical"),
        ("6h", "30m", "critical"),
        ("1d", "2h", "warning"),
        ("3d", "6h", "warning"),
    }


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    cases = _test_cases()
    for name in {rule["alert"] for rule in _alert_rules()}:
        mine = [case for _, case in cases if case["alertname"] == name]
        assert any(case.get("exp_alerts") for case in mine), f"{name} is never expected to fire"
        assert any(not case.get("exp_alerts") for case in mine), f"{name} is never expected to stay quiet"
    # Each rule, not only each name: every ErrorBudgetBurn window pair is expected to fire.
    for rule in _alert_rules():
        fired = [
            alert["exp_labels"]
            for _, case in cases
            if case["alertname"] == rule["alert"]
            for alert in case.get("exp_alerts") or []
        ]
        assert any(rule["labels"].items() <= {k: str(v) for k, v in labels.items()}.items() for labels in fired), (
            f"{rule['alert']} {rule['labels']} is never expected to fire"
        )


def test_annotations_use_only_labels_the_firing_series_carry() -> None:
    cases = _test_cases()
    for rule in _alert_rules():
        used = {m for text in rule["annotations"].values() for m in re.findall(r"\$labels\.(\w+)", text)}
        # Rule labels are not visible to annotation templates; only the series' own labels are.
        static = set(rule["labels"])
        for _, case in cases:
            for alert in case.get("exp_alerts") or []:
                labels = {k: str(v) for k, v in alert["exp_labels"].items()}
                if case["alertname"] != rule["alert"] or not rule["labels"].items() <= labels.items():
                    continue
                carried = set(labels) - static
                assert used <= carried, (
                    f"{rule['alert']} annotations use {sorted(used - carried)}, the series carry {sorted(carried)}"
                )


# Each mutation must break the named test group: the tests can fail, and fail where they should.
_QUALITY = "quality 9.75 % vs 10.25 % below the 7-day median, for 30m"
_STALE = "data 3600 s vs 3615 s old, for 5m"
MUTATIONS = [
    ("HighErrorRate", {}, "expr", "> 0.05", "> 0.048", "error share 4.9 % vs 5.1 %, aggregated per service"),
    ("HighErrorRate", {}, "for", "2m", "1m30s", "error share 4.9 % vs 5.1 %, aggregated per service"),
    ("ServiceDown", {}, "for", "1m", "45s", "down for 59 s vs 61 s"),
    ("DatabaseDown", {}, "for", "1m", "1m15s", "down for 59 s vs 61 s"),
    ("HighLatency", {"severity": "warning"}, "expr", "> 0.5", "> 0.47", "p95 latency 480 ms vs 520 ms"),
    (
        "HighLatency",
        {"severity": "warning"},
        "expr",
        "by (le, job, endpoint)",
        "by (le, job, endpoint, instance)",
        "p95 latency 480 ms vs 520 ms",
    ),
    ("HighLatency", {"severity": "warning"}, "for", "5m", "4m30s", "p95 latency 480 ms vs 520 ms"),
    (
        "HighLatency",
        {"severity": "warning"},
        "expr",
        "by (le, job, endpoint)",
        "by (le, job)",
        "a slow endpoint inside a busy fast service pages for that endpoint only",
    ),
    (
        "HighLatency",
        {"severity": "critical"},
        "expr",
        "> 1.0",
        "> 1.03",
        "p95 latency 0.999 s vs 1.029 s pages after 10 minutes",
    ),
    (
        "HighLatency",
        {"severity": "critical"},
        "expr",
        "> 1.0",
        "> 0.998",
        "p95 latency 0.999 s vs 1.029 s pages after 10 minutes",
    ),
    (
        "HighLatency",
        {"severity": "critical"},
        "for",
        "10m",
        "9m30s",
        "p95 latency 0.999 s vs 1.029 s pages after 10 minutes",
    ),
    (
        "HighLatency",
        {"severity": "critical"},
        "for",
        "10m",
        "10m30s",
        "p95 latency 0.999 s vs 1.029 s pages after 10 minutes",
    ),
    # Summed by job, the slow endpoint is diluted to 0.22 s by its fast neighbour: no page at all.
    (
        "HighLatency",
        {"severity": "critical"},
        "expr",
        "by (le, job, endpoint)",
        "by (le, job)",
        "a slow endpoint inside a busy fast service pages for that endpoint only",
    ),
    (
        "HighLatency",
        {"severity": "critical"},
        "expr",
        "0.95",
        "0.5",
        "a slow endpoint inside a busy fast service pages for that endpoint only",
    ),
    ("HighMemoryUsage", {}, "expr", "> 0.9", "> 0.88", "memory 89 % vs 91 % of the limit"),
    ("HighMemoryUsage", {}, "expr", " > 0)", ")", "memory 89 % vs 91 % of the limit"),
    ("DiskSpaceLow", {}, "expr", "< 0.10", "< 0.102", "disk 9.9 % vs 10.1 % free"),
    ("ModelTrainingFailed", {}, "expr", '{status="failed"}', "", "training job fails, next run starts"),
    ("ModelQualityDrop", {}, "expr", "> 0.10", "> 0.103", _QUALITY),
    ("ModelQualityDrop", {}, "expr", "> 0.10", "> 0.097", _QUALITY),
    ("ModelQualityDrop", {}, "for", "30m", "29m45s", _QUALITY),
    ("ModelQualityDrop", {}, "for", "30m", "30m15s", _QUALITY),
    # Each version's own series: a rollout's new series would be its own median.
    ("ModelQualityDrop", {}, "expr", "max without (model_version) ", "", _QUALITY),
    ("ModelQualityDrop", {}, "expr", 'metric="ndcg_10"', 'metric=~".+"', _QUALITY),
    (
        "ModelQualityDrop",
        {},
        "expr",
        "[7d:5m]",
        "[1h:5m]",
        "a lasting drop is measured against the week, not the last hour",
    ),
    ("TenantDataStale", {}, "expr", "> 3600", "> 3599", _STALE),
    ("TenantDataStale", {}, "expr", "> 3600", "> 3615", _STALE),
    ("TenantDataStale", {}, "for", "5m", "4m45s", _STALE),
    ("TenantDataStale", {}, "for", "5m", "5m15s", _STALE),
    (
        "ErrorBudgetBurn",
        {"long_window": "1h"},
        "expr",
        "ratio_rate5m > (14.4",
        "ratio_rate5m > (13.9",
        "the 14.4x page needs both windows above it",
    ),
    (
        "ErrorBudgetBurn",
        {"long_window": "1h"},
        "expr",
        "ratio_rate5m",
        "ratio_rate30m",
        "burn rate alerts stop with the short window once errors stop",
    ),
    (
        "ErrorBudgetBurn",
        {"long_window": "1h"},
        "expr",
        "ratio_rate1h > (14.4",
        "ratio_rate1h > (13.9",
        "the 14.4x page needs both windows above it",
    ),
    (
        "ErrorBudgetBurn",
        {"long_window": "6h"},
        "expr",
        "ratio_rate30m",
        "ratio_rate1h",
        "burn rate alerts stop with the short window once errors stop",
    ),
    (
        "ErrorBudgetBurn",
        {"long_window": "1d"},
        "expr",
        "(3 * 0.001)",
        "(2.4 * 0.001)",
        "slow burn, 0.35 % vs 0.25 % (3x) and 0.09 % (below 1x); short blips do not ticket",
    ),
    (
        "ErrorBudgetBurn",
        {"long_window": "3d"},
        "expr",
        "ratio_rate3d",
        "ratio_rate6h",
        "slow burn, 0.35 % vs 0.25 % (3x) and 0.09 % (below 1x); short blips do not ticket",
    ),
]


@pytest.mark.prometheus
@pytest.mark.parametrize(
    ("alert", "labels", "field", "old", "new", "group"), MUTATIONS, ids=[f"{m[0]}-{m[3]}->{m[4]}" for m in MUTATIONS]
)
def test_a_mutated_rule_fails_its_unit_test(
    tmp_path: Path, alert: str, labels: dict, field: str, old: str, new: str, group: str
) -> None:
    promtool = _binary("promtool")
    rules = yaml.safe_load(ALERTS.read_text())
    targets = [
        r
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("alert") == alert and labels.items() <= r["labels"].items()
    ]
    assert len(targets) == 1 and old in str(targets[0][field]), (alert, labels, old)
    targets[0][field] = str(targets[0][field]).replace(old, new)
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    tests = yaml.safe_load(ALERTS_TEST.read_text())
    tests["tests"] = [t for t in tests["tests"] if t["name"] == group]
    assert tests["tests"], group
    (tmp_path / "alerts_test.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))

    mutated = _run(promtool, "test", "rules", "alerts_test.yaml", cwd=tmp_path)
    # (The same group passes on the unmutated rules: test_promtool_unit_tests_pass.)
    assert mutated.returncode != 0 and "FAILED" in mutated.stdout + mutated.stderr, (
        f"mutation survived:\n{mutated.stdout}"
    )


# --- Alertmanager -----------------------------------------------------------------------


@pytest.mark.prometheus
def test_amtool_checks_the_alertmanager_config() -> None:
    out = _run(_binary("amtool"), "check-config", ALERTMANAGER.name)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout and "3 receivers" in out.stdout, out.stdout


@pytest.mark.prometheus
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=ServiceDown", "severity=critical", "job=backend-api"], "pagerduty-critical"),
        (["alertname=DiskSpaceLow", "severity=warning", "instance=zeta-node-a:9100"], "slack-warnings"),
        (["alertname=SomethingElse"], "slack-default"),
        (["alertname=SomethingElse", "severity=info"], "slack-default"),
    ],
    ids=["critical", "warning", "unlabelled", "other-severity"],
)
def test_amtool_routes_alerts_to_their_receiver(labels: list[str], receiver: str) -> None:
    out = _run(_binary("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER.name}", *labels)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == [receiver]


@pytest.mark.prometheus
def test_every_shipped_rule_routes_by_its_severity() -> None:
    amtool = _binary("amtool")
    expected = {"critical": "pagerduty-critical", "warning": "slack-warnings"}
    for rule in _alert_rules():
        labels = [f"alertname={rule['alert']}", *(f"{k}={v}" for k, v in rule["labels"].items()), "job=backend-api"]
        out = _run(amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER.name}", *labels)
        assert out.stdout.split() == [expected[rule["labels"]["severity"]]], (rule["alert"], out.stdout + out.stderr)


def _keys(node: object, path: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in [(f"{path}.{k}".lstrip("."), v), *_keys(v, f"{path}.{k}")]]
    if isinstance(node, list):
        return [kv for n, item in enumerate(node) for kv in _keys(item, f"{path}[{n}]")]
    return []


def test_alertmanager_config_holds_no_secrets_and_no_deprecated_matchers() -> None:
    doc = yaml.safe_load(ALERTMANAGER.read_text())
    keys = _keys(doc)
    secret_keys = {
        "routing_key",
        "service_key",
        "api_url",
        "url",
        "api_key",
        "password",
        "auth_password",
        "bearer_token",
        "token",
        "secret",
    }
    leaked = [path for path, _ in keys if path.rsplit(".", 1)[-1] in secret_keys]
    assert leaked == [], f"secrets must be *_file references: {leaked}"
    deprecated = [
        path
        for path, _ in keys
        if path.rsplit(".", 1)[-1]
        in {"match", "match_re", "source_match", "target_match", "source_match_re", "target_match_re"}
    ]
    assert deprecated == [], f"use matchers, not {deprecated}"
    receivers = {r["name"]: r for r in doc["receivers"]}
    assert all(c.get("routing_key_file") for c in receivers["pagerduty-critical"]["pagerduty_configs"])
    assert all(
        c.get("api_url_file") for name in ("slack-warnings", "slack-default") for c in receivers[name]["slack_configs"]
    )
    # No `global:` Slack URL or PagerDuty URL with an embedded key either.
    assert not {"slack_api_url", "pagerduty_url"} & set(doc.get("global", {}))


# --- the shipped routing on a real Alertmanager: per-endpoint groups and inhibition ---------------

_LATENCY = {"alertname": "HighLatency", "job": "catalog-api"}


@pytest.mark.prometheus
def test_a_page_holds_only_its_own_endpoints_warning_and_each_endpoint_pages_alone(tmp_path: Path) -> None:
    """HighLatency pages per endpoint: critical /recommend and /export, warning /recommend (held by
    its page), warning /search (no page for /search: not held); ErrorBudgetBurn, which has no
    endpoint label, still holds its warning under its page."""
    import time as _time

    import httpx

    from tests.support.servers import wait_until
    from zeta_tui.demo.processes import alertmanager_server

    _binary("amtool")  # skips without Alertmanager installed
    child = alertmanager_server(tmp_path, ALERTMANAGER.read_text())  # verbatim: receivers' files need not exist
    child.start()
    try:
        child.wait_ready(timeout=30)
        now = _time.time()
        alerts = [
            {**_LATENCY, "endpoint": "/recommend", "severity": "critical"},
            {**_LATENCY, "endpoint": "/export", "severity": "critical"},
            {**_LATENCY, "endpoint": "/recommend", "severity": "warning"},
            {**_LATENCY, "endpoint": "/search", "severity": "warning"},
            {"alertname": "ErrorBudgetBurn", "job": "catalog-api", "severity": "critical", "long_window": "1h"},
            {"alertname": "ErrorBudgetBurn", "job": "catalog-api", "severity": "warning", "long_window": "1d"},
        ]
        stamp = lambda t: _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(t))  # noqa: E731
        body = [{"labels": labels, "startsAt": stamp(now - 60), "endsAt": stamp(now + 3600)} for labels in alerts]
        httpx.post(f"{child.url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

        def inhibited() -> dict[tuple[str, str, str], bool]:
            raw = httpx.get(f"{child.url}/api/v2/alerts", timeout=5).json()
            return {
                (a["labels"]["alertname"], a["labels"].get("endpoint", ""), a["labels"]["severity"]): bool(
                    a["status"]["inhibitedBy"]
                )
                for a in raw
            }

        expected = {
            ("HighLatency", "/recommend", "critical"): False,
            ("HighLatency", "/export", "critical"): False,
            ("HighLatency", "/recommend", "warning"): True,
            ("HighLatency", "/search", "warning"): False,
            ("ErrorBudgetBurn", "", "critical"): False,
            ("ErrorBudgetBurn", "", "warning"): True,
        }
        assert wait_until(lambda: inhibited() == expected, timeout=20), (inhibited(), child.tail_log())
        groups = httpx.get(f"{child.url}/api/v2/alerts/groups", timeout=5).json()
        paged = sorted(
            tuple(sorted(a["labels"].get("endpoint", "") for a in g["alerts"]))
            for g in groups
            if g["receiver"]["name"] == "pagerduty-critical"
        )
        assert paged == [("",), ("/export",), ("/recommend",)]  # one page per endpoint, and the burn rate's
    finally:
        child.stop()


def test_the_demo_routes_and_inhibits_as_the_shipped_tree() -> None:
    from zeta_tui.demo.alerting import alertmanager_config

    shipped = yaml.safe_load(ALERTMANAGER.read_text())
    demo = yaml.safe_load(alertmanager_config("http://127.0.0.1:1"))
    assert set(shipped["route"]["group_by"]) <= set(demo["route"]["group_by"])
    assert set(shipped["inhibit_rules"][0]["equal"]) <= set(demo["inhibit_rules"][0]["equal"])
