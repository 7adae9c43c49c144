"""deploy/k8s builds, validates, and carries the shipped rules and routing, and no secret.

`kubectl kustomize` (the kubectl on PATH, kustomize v5) builds each overlay; every object is
checked against the Kubernetes 1.32 schemas of the `kubernetes-validate` package, offline. The
rule file and routing are taken out of the built ConfigMaps and given to the real promtool and
amtool, and compared with queries/prometheus/ byte for byte. deploy/k8s/base/generated/ must be
what `zeta deploy render` writes now.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from zeta_tui.headless.deploy import prometheus_config, render, rendered_files

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
GENERATED = K8S / "base" / "generated"
SHIPPED = ROOT / "queries" / "prometheus"
OVERLAYS = ("demo", "production")
#: A Kubernetes minor release whose schemas kubernetes-validate ships (and kubectl's client).
K8S_VERSION = "1.32"

# Text that only a receiver secret written into a manifest would contain.
SECRET_TEXT = re.compile(
    r"hooks\.slack\.com|events\.pagerduty\.com|\b(routing_key|service_key|api_url|webhook_url)\s*:", re.I
)


def _build(overlay: str) -> tuple[str, list[dict[str, Any]]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: it builds the kustomize overlays (kubectl kustomize)")
    done = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def built(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return _build(request.param)


def _one(objects: list[dict[str, Any]], kind: str, name_prefix: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)]
    assert len(found) == 1, f"{kind} {name_prefix}*: {[o['metadata']['name'] for o in found]}"
    return found[0]


def _literal_secrets(text: str, objects: list[dict[str, Any]]) -> list[str]:
    """What in a build looks like a secret value: a Secret with data, or receiver-secret text."""
    found = [
        f"Secret {o['metadata']['name']} has {key}"
        for o in objects
        if o.get("kind") == "Secret"
        for key in ("data", "stringData")
        if o.get(key)
    ]
    found += [m.group(0) for m in SECRET_TEXT.finditer(text)]
    return found


# --- the render ---------------------------------------------------------------------------------


def test_generated_files_are_a_fresh_render(tmp_path: Path) -> None:
    render(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in GENERATED.iterdir())
    for name in names:
        assert (GENERATED / name).read_text() == (tmp_path / name).read_text(), (
            f"deploy/k8s/base/generated/{name} is stale: run `zeta deploy render deploy/k8s/base/generated`"
        )


def test_render_copies_the_shipped_files_verbatim() -> None:
    files = rendered_files()
    assert files["alerts.yaml"] == (SHIPPED / "alerts.yaml").read_text()
    assert files["alertmanager.yaml"] == (SHIPPED / "alertmanager.yaml").read_text()


def test_prometheus_config_discovers_annotated_pods_of_the_namespace() -> None:
    config = yaml.safe_load(prometheus_config("shop-prod"))
    assert config["rule_files"] == ["/etc/prometheus/rules/alerts.yaml"]
    pods = next(s for s in config["scrape_configs"] if s["job_name"] == "kubernetes-pods")
    assert pods["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["shop-prod"]}}]
    keep = pods["relabel_configs"][0]
    assert keep == {
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "action": "keep",
        "regex": "true",
    }
    # The port rewrite, as Prometheus applies it (labels joined by ';', the regex anchored).
    port = next(r for r in pods["relabel_configs"] if r.get("target_label") == "__address__")
    rewritten = re.sub(rf"^(?:{port['regex']})$", port["replacement"].replace("$", "\\"), "10.1.2.3:8080;9102")
    assert rewritten == "10.1.2.3:9102"


def test_render_says_where_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zeta_tui.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["deploy", "render", str(blocker / "generated")]) == 1
    err = capsys.readouterr().err
    assert str(blocker / "generated") in err and "Traceback" not in err


# --- the build ----------------------------------------------------------------------------------


def test_every_object_validates_against_the_kubernetes_schemas(built: tuple[str, list[dict[str, Any]]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    _, objects = built
    assert {o["kind"] for o in objects} >= {"Namespace", "Deployment", "Service", "ConfigMap", "ClusterRole"}
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_object(built: tuple[str, list[dict[str, Any]]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    deployment = _one(built[1], "Deployment", "prometheus")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_everything_is_in_namespace_monitoring(built: tuple[str, list[dict[str, Any]]]) -> None:
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    for obj in built[1]:
        if obj["kind"] not in cluster_scoped:
            assert obj["metadata"].get("namespace") == "monitoring", obj["metadata"]["name"]


def test_prometheus_is_sound(built: tuple[str, list[dict[str, Any]]]) -> None:
    objects = built[1]
    pod = _one(objects, "Deployment", "prometheus")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    image, _, tag = container["image"].rpartition(":")
    assert image == "prom/prometheus" and re.fullmatch(r"v\d+\.\d+\.\d+", tag)
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert set(container["resources"]) == {"requests", "limits"}
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [_one(objects, "PersistentVolumeClaim", "prometheus")["metadata"]["name"]]
    assert pod["serviceAccountName"] == _one(objects, "ServiceAccount", "prometheus")["metadata"]["name"]
    role = _one(objects, "ClusterRole", "zeta-prometheus")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]}
    ]
    binding = _one(objects, "ClusterRoleBinding", "zeta-prometheus")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}]


def _extract(objects: list[dict[str, Any]], configmap: str, key: str, into: Path) -> Path:
    path = into / key
    path.write_text(_one(objects, "ConfigMap", configmap)["data"][key])
    return path


@pytest.mark.prometheus
def test_built_rules_are_the_shipped_rules_and_pass_promtool(
    built: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    promtool = shutil.which("promtool") or pytest.skip("promtool is not installed (Debian package prometheus)")
    rules = _extract(built[1], "prometheus-rules", "alerts.yaml", tmp_path)
    assert rules.read_text() == (SHIPPED / "alerts.yaml").read_text()
    check = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # The project's unit tests, run against the rule file taken out of the ConfigMap.
    shutil.copy(SHIPPED / "alerts_test.yaml", tmp_path / "alerts_test.yaml")
    unit = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert unit.returncode == 0, unit.stdout[-3000:] + unit.stderr[-3000:]


@pytest.mark.prometheus
def test_built_routing_is_the_shipped_routing_and_passes_amtool(
    built: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    amtool = shutil.which("amtool") or pytest.skip("amtool is not installed (Debian package prometheus-alertmanager)")
    routing = _extract(built[1], "alertmanager-config", "alertmanager.yaml", tmp_path)
    assert routing.read_text() == (SHIPPED / "alertmanager.yaml").read_text()
    check = subprocess.run([amtool, "check-config", str(routing)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_receiver_secrets_are_mounted_where_the_routing_reads_them(built: tuple[str, list[dict[str, Any]]]) -> None:
    routing = yaml.safe_load((SHIPPED / "alertmanager.yaml").read_text())
    files = {
        conf[key]
        for receiver in routing["receivers"]
        for kind in ("pagerduty_configs", "slack_configs")
        for conf in receiver.get(kind, [])
        for key in ("routing_key_file", "api_url_file")
        if key in conf
    }
    assert files
    pod = _one(built[1], "Deployment", "alertmanager")["spec"]["template"]["spec"]
    secret_volumes = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    assert secret_volumes == {"receivers": "alertmanager-receivers"}
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "receivers"]
    assert {str(Path(f).parent) for f in files} == {mount["mountPath"]}
    # The Secret is the operator's: the build must not create it (it would carry the values).
    assert not [o for o in built[1] if o["kind"] == "Secret"]


def test_no_literal_secret_in_the_build(built: tuple[str, list[dict[str, Any]]]) -> None:
    text, objects = built
    assert _literal_secrets(text, objects) == []


def test_the_secret_check_finds_literal_secrets() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "am"}, "stringData": {"k": "v"}}
    assert _literal_secrets("", [secret]) == ["Secret am has stringData"]
    assert _literal_secrets("api_url: https://hooks.slack.com/services/T0/B0/x", []) == [
        "api_url:",
        "hooks.slack.com",
    ]


# --- the zeta toolbox and the synthetic check ---------------------------------------------------


def _pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    deployment = _one(objects, "Deployment", "zeta")["spec"]["template"]["spec"]
    cronjob = _one(objects, "CronJob", "zeta-synthetic-check")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return {"toolbox": deployment, "check": cronjob}


def test_toolbox_and_check_run_locked_down(built: tuple[str, list[dict[str, Any]]]) -> None:
    for where, pod in _pod_specs(built[1]).items():
        assert pod["automountServiceAccountToken"] is False, where
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, where
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}, where
        # Tokens only through references to the operator's Secret, never a value.
        tokens = [e for e in container["env"] if "TOKEN" in e["name"]]
        assert tokens and all(e["valueFrom"]["secretKeyRef"]["name"] == "zeta-tokens" for e in tokens), where


def test_the_check_fails_the_job_when_either_command_fails(
    built: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    cronjob = _one(built[1], "CronJob", "zeta-synthetic-check")
    assert cronjob["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    (container,) = _pod_specs(built[1])["check"]["containers"]
    shell, flag, script = container["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    # Run the script with stand-in `zeta`s that exit as told, on the machine's sh.
    for slo_code, alerts_code, expected_ok in ((0, 0, True), (1, 0, False), (0, 3, False), (2, 1, False)):
        bin_dir = tmp_path / f"bin{slo_code}{alerts_code}"
        bin_dir.mkdir()
        (bin_dir / "zeta").write_text(
            f'#!/bin/sh\necho "$@" >> {bin_dir}/ran\n[ "$1" = slo ] && exit {slo_code}\nexit {alerts_code}\n'
        )
        (bin_dir / "zeta").chmod(0o755)
        done = subprocess.run([shell, flag, script], env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, timeout=30)
        assert (done.returncode == 0) is expected_ok, (slo_code, alerts_code)
        assert (bin_dir / "ran").read_text().splitlines() == ["slo --json", "alerts"]


def test_toolbox_config_from_its_configmap_passes_zeta_config_validate(
    built: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    objects = built[1]
    (container,) = _pod_specs(objects)["toolbox"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    config_path = Path(env["ZETA_CONFIG"])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent)]
    (volume,) = [v for v in _pod_specs(objects)["toolbox"]["volumes"] if v["name"] == mount["name"]]
    configmap = _one(objects, "ConfigMap", volume["configMap"]["name"])
    config = tmp_path / config_path.name
    config.write_text(configmap["data"][config_path.name])
    # The Secret's tokens, as the pod would get them (stand-in values).
    tokens = {name: "stand-in" for name, value in env.items() if value is None}
    run_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **tokens}
    zeta = [sys.executable, "-m", "zeta_tui.cli", "config", "validate", "--config", str(config)]
    done = subprocess.run(zeta, env={**run_env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # The context points at this build's Services.
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    text = config.read_text()
    for name in ("prometheus", "alertmanager"):
        port = services[name]["spec"]["ports"][0]["port"]
        assert f'"http://{name}.monitoring.svc:{port}"' in text
    # Without the Secret's tokens, validate refuses: the ${ENV} references are live.
    bare_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    unset = subprocess.run(zeta, env=bare_env, capture_output=True, text=True, timeout=60)
    assert unset.returncode == 2 and "TOKEN" in unset.stderr


def test_containerfile_is_multi_stage_non_root_without_chdb() -> None:
    text = (ROOT / "deploy" / "Containerfile").read_text()
    instructions = [line.split(None, 1) for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    froms = [rest for op, *rest in instructions if op == "FROM"]
    assert len(froms) == 2 and "AS build" in froms[0][0]
    users = [rest[0] for op, *rest in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    # chdb only on request: the wheel is installed with no extra unless ZETA_EXTRAS names one.
    assert 'ARG ZETA_EXTRAS=""' in text and not re.search(r"pip install[^\n]*(chdb|embedded)", text)
    assert instructions[-1][0] == "CMD"
