"""deploy/k8s builds, validates, and carries the shipped rules and routing, and no secret.

`kubectl kustomize` (the kubectl on PATH, kustomize v5) builds each overlay; every object is
checked against the Kubernetes 1.32 schemas of the `kubernetes-validate` package, offline. The
rule file and routing are taken out of the built ConfigMaps and given to the real promtool and
amtool, and compared with queries/prometheus/ byte for byte. deploy/k8s/base/generated/ must be
what `zeta deploy render` writes now.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.servers import wait_until
from zeta_tui.demo.processes import prometheus_server
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
    assert {o["kind"] for o in objects} >= {"Namespace", "Deployment", "Service", "ConfigMap", "Role", "CronJob"}
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_object(built: tuple[str, list[dict[str, Any]]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    deployment = _one(built[1], "Deployment", "prometheus")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def _platform_namespace(objects: list[dict[str, Any]]) -> str:
    """The namespace whose pods the built prometheus.yml discovers."""
    config = yaml.safe_load(_one(objects, "ConfigMap", "prometheus-config")["data"]["prometheus.yml"])
    pods = next(s for s in config["scrape_configs"] if s["job_name"] == "kubernetes-pods")
    ((sd,),) = [pods["kubernetes_sd_configs"]]
    (namespace,) = sd["namespaces"]["names"]
    return str(namespace)


def test_everything_is_in_namespace_monitoring_but_the_discovery_role(
    built: tuple[str, list[dict[str, Any]]],
) -> None:
    platform = _platform_namespace(built[1])
    assert platform != "monitoring"
    for obj in built[1]:
        expected = {"Namespace": None, "Role": platform, "RoleBinding": platform}.get(obj["kind"], "monitoring")
        assert obj["metadata"].get("namespace") == expected, (obj["kind"], obj["metadata"]["name"])
    # Nothing cluster-wide but the namespace itself: discovery reads one namespace's pods.
    assert [o["kind"] for o in built[1] if o["kind"].startswith("Cluster")] == []


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
    account = _one(objects, "ServiceAccount", "prometheus")
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    # Pod discovery in the platform's namespace needs get/list/watch on its pods, and no more.
    platform = _platform_namespace(objects)
    role = _one(objects, "Role", "prometheus-discovery")
    assert role["metadata"]["namespace"] == platform
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    binding = _one(objects, "RoleBinding", "prometheus-discovery")
    assert binding["metadata"]["namespace"] == platform
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "prometheus-discovery",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}]


def test_render_keeps_discovery_and_its_role_in_one_namespace() -> None:
    files = rendered_files("shop-prod")
    pods = next(
        s for s in yaml.safe_load(files["prometheus.yml"])["scrape_configs"] if s["job_name"] == "kubernetes-pods"
    )
    assert pods["kubernetes_sd_configs"][0]["namespaces"]["names"] == ["shop-prod"]
    rbac = list(yaml.safe_load_all(files["discovery-rbac.yaml"]))
    assert [(o["kind"], o["metadata"]["namespace"]) for o in rbac] == [
        ("Role", "shop-prod"),
        ("RoleBinding", "shop-prod"),
    ]


def test_render_refuses_a_namespace_kubernetes_would_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from zeta_tui.cli import main

    for bad in ("Production", "shop_prod", "-prod", "p" * 64):
        assert main(["deploy", "render", str(tmp_path / "out"), f"--namespace={bad}"]) == 2
        assert "is not a Kubernetes namespace name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["deploy", "render", str(tmp_path / "out"), "--namespace", "p" * 63]) == 0


def _extract(objects: list[dict[str, Any]], configmap: str, key: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
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


# Pods as Kubernetes pod discovery would describe them (the __meta_kubernetes_* labels of
# https://prometheus.io/docs/prometheus/latest/configuration/configuration/#pod), other names than the demo's.
DISCOVERED_PODS = [
    {  # asks to be scraped on another port and path
        "targets": ["10.4.0.7:8080"],
        "labels": {
            "__meta_kubernetes_namespace": "shop-prod",
            "__meta_kubernetes_pod_name": "basket-7d9f-x2",
            "__meta_kubernetes_pod_label_app": "basket",
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
            "__meta_kubernetes_pod_annotation_prometheus_io_port": "9102",
            "__meta_kubernetes_pod_annotation_prometheus_io_path": "/stats/prometheus",
        },
    },
    {  # asks to be scraped, on its container port and the default path
        "targets": ["10.4.0.8:8000"],
        "labels": {
            "__meta_kubernetes_namespace": "shop-prod",
            "__meta_kubernetes_pod_name": "search-0",
            "__meta_kubernetes_pod_label_app": "search",
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        },
    },
    {  # does not ask
        "targets": ["10.4.0.9:5432"],
        "labels": {
            "__meta_kubernetes_namespace": "shop-prod",
            "__meta_kubernetes_pod_name": "postgres-0",
            "__meta_kubernetes_pod_label_app": "postgres",
        },
    },
]


@pytest.mark.prometheus
def test_built_prometheus_config_loads_and_relabels_discovered_pods(
    built: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The prometheus.yml out of the ConfigMap, in a real Prometheus, with pods it discovered.

    Debian's Prometheus is built without Kubernetes discovery (its promtool rejects
    kubernetes_sd_configs), so the pod list comes from a file_sd file carrying the same
    __meta_kubernetes_* labels; everything else (rule file, Alertmanager, relabelling) is the
    built config as the cluster's Prometheus loads it.
    """
    promtool = shutil.which("promtool") or pytest.skip("promtool is not installed (Debian package prometheus)")
    config = yaml.safe_load(_extract(built[1], "prometheus-config", "prometheus.yml", tmp_path).read_text())
    rules = _extract(built[1], "prometheus-rules", "alerts.yaml", tmp_path / "rules")
    assert config["rule_files"] == [f"/etc/prometheus/rules/{rules.name}"]
    config["rule_files"] = [str(rules)]
    pods = next(s for s in config["scrape_configs"] if s["job_name"] == "kubernetes-pods")
    assert [sd["role"] for sd in pods.pop("kubernetes_sd_configs")] == ["pod"]
    (tmp_path / "pods.json").write_text(json.dumps(DISCOVERED_PODS))
    pods["file_sd_configs"] = [{"files": [str(tmp_path / "pods.json")]}]
    loaded = tmp_path / "prometheus.yml"
    loaded.write_text(yaml.safe_dump(config))
    check = subprocess.run([promtool, "check", "config", str(loaded)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

    server = prometheus_server(tmp_path / "server", loaded.read_text()).start()
    try:
        server.wait_ready(timeout=30)
        targets: dict[str, Any] = {}

        def discovered() -> bool:
            answer = httpx.get(f"{server.url}/api/v1/targets", timeout=5).json()["data"]
            targets.update(answer)
            return len([t for t in answer["activeTargets"] if t["scrapePool"] == "kubernetes-pods"]) == 2

        assert wait_until(discovered, timeout=30), targets
    finally:
        server.stop()
    active = {t["labels"]["pod"]: t for t in targets["activeTargets"] if t["scrapePool"] == "kubernetes-pods"}
    assert {pod: (t["scrapeUrl"], t["labels"]["job"], t["labels"]["namespace"]) for pod, t in active.items()} == {
        "basket-7d9f-x2": ("http://10.4.0.7:9102/stats/prometheus", "basket", "shop-prod"),
        "search-0": ("http://10.4.0.8:8000/metrics", "search", "shop-prod"),
    }
    dropped = [t["discoveredLabels"]["__meta_kubernetes_pod_name"] for t in targets["droppedTargets"]]
    assert dropped == ["postgres-0"]


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
    # zeta's namespace is the one Prometheus discovers: the console's queries find the pods' series.
    contexts = tomllib.loads(text)["contexts"]
    assert {name: c["namespace"] for name, c in contexts.items()} == {"cluster": _platform_namespace(objects)}
    # The commented example of the other backends is a valid config too, uncommented.
    block = text.split("# --- other backends\n", 1)[1].split("# --- end", 1)[0]
    assert "[contexts.cluster.logs]" in block
    example = tmp_path / "with-backends.toml"
    example.write_text(text + "\n" + "\n".join(line.removeprefix("#").strip() for line in block.splitlines()))
    passwords = {"ZETA_ELASTICSEARCH_PASSWORD": "stand-in", "ZETA_CLICKHOUSE_PASSWORD": "stand-in"}
    with_backends = [*zeta[:-1], str(example)]
    done = subprocess.run(
        with_backends, env={**run_env, **passwords, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert set(tomllib.loads(example.read_text())["contexts"]["cluster"]) >= {"logs", "traces", "clickhouse"}
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


@pytest.mark.slow
def test_containerfile_build_stage_copies_what_the_wheel_needs(tmp_path: Path) -> None:
    """The build stage's COPY lines, replayed into an empty folder as a container build would (a
    folder's contents into the destination, files into a destination ending in /), give a wheel
    with the rules, routing, queries and themes in it: what cannot be shown here by building the image."""
    import zipfile

    build_stage = (ROOT / "deploy" / "Containerfile").read_text().split("\nFROM ", 2)[1]
    (workdir,) = re.findall(r"^WORKDIR (\S+)$", build_stage, re.M)
    context = tmp_path / workdir.strip("/")
    context.mkdir(parents=True)
    for line in re.findall(r"^COPY (?!--from).+$", build_stage, re.M):
        *sources, dest = line.split()[1:]
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, context / dest, dirs_exist_ok=True)
            else:
                shutil.copy(ROOT / source, context / dest / source if dest.endswith("/") else context / dest)
    attempts = []
    for isolation in ([], ["--no-isolation"]):  # as tests/test_packaging.py: isolated first
        argv = [sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", str(tmp_path / "dist"), str(context)]
        attempts.append(subprocess.run(argv, capture_output=True, text=True, timeout=180))
        if attempts[-1].returncode == 0:
            break
    assert attempts[-1].returncode == 0, [a.stderr[-1500:] for a in attempts]
    (wheel,) = (tmp_path / "dist").glob("zeta_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("queries/prometheus/alerts.yaml", "queries/prometheus/alertmanager.yaml", "themes/"):
        assert any(n.startswith(f"zeta_tui/_data/{shipped}") for n in names), shipped
    assert "zeta_tui/cli.py" in names
