"""The config matrix through the real CLI: every mistake has its message and exit status 2;
`config path | validate | show | init` and `contexts` behave as documented."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.support.servers import REPO
from zeta_tui.cli import main
from zeta_tui.config.loader import parse_config
from zeta_tui.config.models import (
    AlertmanagerConfig,
    ContextConfig,
    HttpBackendConfig,
    LabelsConfig,
    LogsConfig,
    MetricsConfig,
    PrometheusConfig,
    ZetaConfig,
)
from zeta_tui.config.starter import STARTER_TOML


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No real ~/.config: XDG points into the test's temp dir and $ZETA_CONFIG is unset."""
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


GOOD = """\
    default_context = "prod"
    [contexts.prod]
    production = true
    [contexts.prod.prometheus]
    url = "http://127.0.0.1:9090"
    [contexts.staging.prometheus]
    url = "http://127.0.0.1:9091"
"""

# (name, file text, fragments every one of which must be in stderr)
MISTAKES = [
    (
        "bad TOML shows the line",
        '[contexts.prod]\nrefresh_seconds = 10\nnamespace = "prod\n',
        ["not valid TOML", "line 3", 'namespace = "prod'],
    ),
    ("unknown key", 'default_contxt = "prod"\n', ["unknown key 'default_contxt'", "did you mean 'default_context'?"]),
    (
        "unknown nested key",
        '[contexts.prod.prometheus]\nurll = "http://127.0.0.1:9090"\n',
        [
            "contexts.prod.prometheus.urll: unknown key 'urll'",
            "did you mean 'url'?",
            "contexts.prod.prometheus.url: required but missing",
        ],
    ),
    (
        "unknown key in a context",
        "[contexts.prod]\nrefresh_second = 5\n",
        ["contexts.prod.refresh_second: unknown key", "did you mean 'refresh_seconds'?"],
    ),
    (
        "wrong type",
        '[contexts.prod]\nrefresh_seconds = "fast"\n',
        ["contexts.prod.refresh_seconds", "valid number", "'fast'", "How often panes refresh"],
    ),
    (
        "out of range",
        "[contexts.prod]\nrefresh_seconds = 0\n",
        ["contexts.prod.refresh_seconds", "greater than or equal to 1"],
    ),
    (
        "bad URL without scheme",
        '[contexts.prod.prometheus]\nurl = "prometheus:9090"\n',
        ["contexts.prod.prometheus.url", "'prometheus:9090' is not an http/https URL", "https://host:9090"],
    ),
    (
        "bad URL without host",
        '[contexts.prod.prometheus]\nurl = "http://"\n',
        ["contexts.prod.prometheus.url", "has no host name"],
    ),
    (
        "bad URL port",
        '[contexts.prod.prometheus]\nurl = "http://prom:99999"\n',
        ["contexts.prod.prometheus.url", "not a valid URL"],
    ),
    (
        "missing env var is named",
        '[contexts.prod.prometheus]\nurl = "http://127.0.0.1:9090"\nbearer_token = "${ZETA_TEST_UNSET_TOKEN}"\n',
        [
            "contexts.prod.prometheus.bearer_token: environment variable ZETA_TEST_UNSET_TOKEN is not set",
            "export ZETA_TEST_UNSET_TOKEN=",
        ],
    ),
    (
        "bearer_token and bearer_token_file",
        (
            '[contexts.prod.prometheus]\nurl = "http://127.0.0.1:9090"\nbearer_token = "abc"\nbearer_token_file = '
            '"/etc/hostname"\n'
        ),
        ["contexts.prod.prometheus: set bearer_token or bearer_token_file, not both"],
    ),
    (
        "basic auth and token",
        '[contexts.prod.prometheus]\nurl = "http://127.0.0.1:9090"\nusername = "u"\nbearer_token = "abc"\n',
        ["contexts.prod.prometheus: set either basic auth"],
    ),
    (
        "default_context unknown",
        'default_context = "prd"\n[contexts.prod.prometheus]\nurl = "http://127.0.0.1:9090"\n',
        ["default_context: 'prd' is not a defined context (defined: prod)", "did you mean 'prod'?"],
    ),
    (
        "ca_file missing",
        '[contexts.prod.prometheus]\nurl = "https://127.0.0.1:9090"\nca_file = "certs/missing-ca.pem"\n',
        [
            "contexts.prod.prometheus.ca_file: file",
            "missing-ca.pem' does not exist",
            "relative paths are read from the config file's directory",
        ],
    ),
    (
        "a label name Prometheus cannot have",
        '[contexts.prod.labels]\nservice = "app name"\n',
        ["contexts.prod.labels.service: 'app name' is not a Prometheus label name", "not starting with a digit"],
    ),
    (
        "a metric name with a dash",
        '[contexts.prod.metrics]\nlatency = "http-latency"\n',
        ["contexts.prod.metrics.latency: 'http-latency' is not a Prometheus metric name"],
    ),
    (
        "bad context name",
        '[contexts."prod cluster".prometheus]\nurl = "http://127.0.0.1:9090"\n',
        ["contexts: name 'prod cluster' is not allowed"],
    ),
]


@pytest.mark.parametrize("text, fragments", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistake_exits_2_naming_file_field_and_fix(tmp_path, capsys, text, fragments) -> None:
    path = write(tmp_path, text)
    code, out, err = run(capsys, "--config", str(path), "config", "validate")
    assert code == 2
    assert out == ""
    assert err.startswith(f"Configuration error: {path}\n")
    for fragment in fragments:
        assert fragment in err
    assert "hint:" in err
    assert "Traceback" not in err


def test_missing_file_exits_2_and_says_how_to_create_it(tmp_path, capsys) -> None:
    missing = tmp_path / "nope" / "config.toml"
    code, _, err = run(capsys, "--config", str(missing), "check")
    assert code == 2
    assert str(missing) in err and "does not exist" in err and "zeta config init" in err


def test_unknown_context_exits_2_with_did_you_mean(tmp_path, capsys) -> None:
    path = write(tmp_path, GOOD)
    code, _, err = run(capsys, "--config", str(path), "--context", "prdo", "config", "validate")
    assert code == 2
    assert "no context named 'prdo'; did you mean 'prod'?" in err
    assert str(path) in err
    assert "prod, staging" in err


def test_unknown_context_exits_2_for_check_and_promql(tmp_path, capsys) -> None:
    path = write(tmp_path, GOOD)
    assert run(capsys, "--config", str(path), "--context", "stagin", "check")[0] == 2
    code, _, err = run(capsys, "--config", str(path), "promql", "up", "--context", "stagin")
    assert code == 2 and "did you mean 'staging'?" in err


def test_secret_of_wrong_type_is_not_echoed(tmp_path, capsys) -> None:
    path = write(tmp_path, '[contexts.p.prometheus]\nurl = "http://h:1"\nusername = "u"\npassword = 987654321\n')
    code, _, err = run(capsys, "--config", str(path), "config", "validate")
    assert code == 2
    assert "contexts.p.prometheus.password" in err
    assert "987654321" not in err


def test_credentials_in_a_bad_url_are_not_echoed(tmp_path, capsys) -> None:
    path = write(tmp_path, '[contexts.p.prometheus]\nurl = "htp://admin:hunter2@prom:9090"\n')
    code, _, err = run(capsys, "--config", str(path), "config", "validate")
    assert code == 2
    assert "hunter2" not in err and "prom:9090" in err


def test_validate_ok(tmp_path, capsys) -> None:
    path = write(tmp_path, GOOD)
    code, out, err = run(capsys, "--config", str(path), "config", "validate")
    assert (code, err) == (0, "")
    assert out.startswith("OK: 2 contexts")


def test_subprocess_exit_status_is_2(tmp_path) -> None:
    """The real entry point, as a shell sees it."""
    path = write(tmp_path, '[contexts.prod.prometheus]\nurll = "x"\n')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "zeta_tui.cli", "--config", str(path), "config", "validate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "did you mean 'url'?" in proc.stderr


# --- which file ------------------------------------------------------------------------


def test_path_precedence_config_flag_then_env_then_xdg(tmp_path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, "config", "path")
    assert code == 0
    assert out.splitlines()[0] == str(tmp_path / "xdg" / "zeta" / "config.toml")
    assert "XDG default" in out and "exists: no" in out

    env_file = write(tmp_path, GOOD, "from-env.toml")
    monkeypatch.setenv("ZETA_CONFIG", str(env_file))
    out = run(capsys, "config", "path")[1]
    assert out.splitlines()[0] == str(env_file)
    assert "$ZETA_CONFIG" in out and "exists: yes" in out

    flag_file = tmp_path / "from-flag.toml"
    out = run(capsys, "--config", str(flag_file), "config", "path")[1]
    assert out.splitlines()[0] == str(flag_file)
    assert "--config" in out and "exists: no" in out


def test_env_and_flag_decide_what_is_loaded(tmp_path, capsys, monkeypatch) -> None:
    env_file = write(tmp_path, '[contexts.from_env.prometheus]\nurl = "http://127.0.0.1:1"\n', "env.toml")
    flag_file = write(tmp_path, '[contexts.from_flag.prometheus]\nurl = "http://127.0.0.1:2"\n', "flag.toml")
    xdg_file = tmp_path / "xdg" / "zeta" / "config.toml"
    xdg_file.parent.mkdir(parents=True)
    xdg_file.write_text('[contexts.from_xdg.prometheus]\nurl = "http://127.0.0.1:3"\n')
    assert "from_xdg" in run(capsys, "contexts")[1]
    monkeypatch.setenv("ZETA_CONFIG", str(env_file))
    assert "from_env" in run(capsys, "contexts")[1]
    out = run(capsys, "--config", str(flag_file), "contexts")[1]
    assert "from_flag" in out and "from_env" not in out
    out = run(capsys, "contexts", "--config", str(flag_file))[1]  # after the subcommand too
    assert "from_flag" in out


# --- show never prints a secret ------------------------------------------------------------


SECRETS_CONFIG = """\
    default_context = "prod"
    [contexts.prod]
    production = true
    namespace = "${ZETA_TEST_NS}"
    [contexts.prod.prometheus]
    url = "https://prometheus.internal:9090"
    bearer_token = "${ZETA_TEST_TOKEN}"
    headers = { "X-Scope-OrgID" = "zeta", "X-Api-Key" = "key-LITERAL-777" }
    [contexts.prod.alertmanager]
    url = "https://admin:url-PASSWORD-555@alertmanager.internal:9093"
    username = "admin"
    password = "pw-LITERAL-456"
"""


def test_show_redacts_every_secret(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ZETA_TEST_TOKEN", "tok-FROM-ENV-123")
    monkeypatch.setenv("ZETA_TEST_NS", "ns-FROM-ENV-999")
    path = write(tmp_path, SECRETS_CONFIG)
    code, out, err = run(capsys, "--config", str(path), "config", "show")
    assert (code, err) == (0, "")
    for secret in ("tok-FROM-ENV-123", "pw-LITERAL-456", "key-LITERAL-777", "url-PASSWORD-555", "ns-FROM-ENV-999"):
        assert secret not in out
    shown = tomllib.loads(out)  # valid TOML
    prom = shown["contexts"]["prod"]["prometheus"]
    assert prom["bearer_token"] == "***"
    assert prom["headers"] == {"X-Scope-OrgID": "zeta", "X-Api-Key": "***"}
    assert shown["contexts"]["prod"]["namespace"] == "${ZETA_TEST_NS}"  # the reference, not its value
    assert shown["contexts"]["prod"]["alertmanager"]["password"] == "***"
    assert shown["contexts"]["prod"]["alertmanager"]["url"] == "https://alertmanager.internal:9093"
    assert shown["contexts"]["prod"]["read_only"] is True  # effective: implied by production
    assert "# from ${ZETA_TEST_TOKEN}" in out


def test_contexts_lists_default_production_and_redacted_urls(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ZETA_TEST_TOKEN", "t")
    monkeypatch.setenv("ZETA_TEST_NS", "n")
    path = write(tmp_path, SECRETS_CONFIG + '    [contexts.dev.prometheus]\n    url = "http://127.0.0.1:9090"\n')
    code, out, _ = run(capsys, "--config", str(path), "contexts")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "PRODUCTION", "READ-ONLY", "PROMETHEUS", "ALERTMANAGER"]
    assert lines[1].split() == [
        "*",
        "prod",
        "yes",
        "yes",
        "https://prometheus.internal:9090",
        "https://alertmanager.internal:9093",
    ]
    assert lines[2].split() == ["dev", "no", "no", "http://127.0.0.1:9090", "-"]
    assert "url-PASSWORD-555" not in out


# --- init ------------------------------------------------------------------------------------


def test_init_writes_a_private_starter_that_validates(tmp_path, capsys) -> None:
    path = tmp_path / "deep" / "er" / "config.toml"
    code, out, _ = run(capsys, "--config", str(path), "config", "init")
    assert code == 0 and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    code, out, err = run(capsys, "--config", str(path), "config", "validate")
    assert (code, err) == (0, "")
    assert out.startswith("OK: 1 context in")
    config = tomllib.loads(path.read_text())
    assert config["contexts"]["local"]["prometheus"]["url"] == "http://127.0.0.1:9090"


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys) -> None:
    path = write(tmp_path, "# mine\n")
    path.chmod(0o644)
    code, _, err = run(capsys, "--config", str(path), "config", "init")
    assert code == 2 and "already exists" in err and "--force" in err
    assert path.read_text() == "# mine\n"
    assert run(capsys, "--config", str(path), "config", "init", "--force")[0] == 0
    assert path.read_text() == STARTER_TOML
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "model",
    [
        ZetaConfig,
        ContextConfig,
        HttpBackendConfig,
        PrometheusConfig,
        AlertmanagerConfig,
        LogsConfig,
        LabelsConfig,
        MetricsConfig,
    ],
)
def test_starter_shows_every_field(model) -> None:
    for name in model.model_fields:
        as_key, as_table = f"{name} =", f".{name}]"  # tables appear as [contexts.x.prometheus]
        assert as_key in STARTER_TOML or as_table in STARTER_TOML or f"[{name}." in STARTER_TOML, (
            f"{model.__name__}.{name} has no example in the starter file"
        )


def test_starter_production_example_validates_once_uncommented(tmp_path, monkeypatch) -> None:
    """The commented production block is real config: uncomment it (keeping one auth
    method, with files that exist) and it validates."""
    monkeypatch.setenv("PROM_TOKEN", "t")
    monkeypatch.setenv("AM_TOKEN", "t")
    block = STARTER_TOML.split("# [contexts.prod]", 1)[1]
    lines = ["[contexts.prod]"]
    for line in block.splitlines():
        text = line.removeprefix("# ").removeprefix("#")
        key = text.split("=", 1)[0].strip()
        if key in ("bearer_token_file", "username", "password", "client_cert", "client_key"):
            continue  # alternatives to bearer_token / optional mTLS
        lines.append(text.replace("/etc/ssl/internal-ca.pem", str(tmp_path / "ca.pem")))
    (tmp_path / "ca.pem").write_text("not checked at load time\n")
    config = parse_config(tomllib.loads("\n".join(lines)), source="starter", base_dir=tmp_path)
    prod = config.contexts["prod"]
    assert prod.production and prod.is_read_only
    assert prod.prometheus is not None and prod.prometheus.headers == {"X-Scope-OrgID": "zeta"}
    assert prod.prometheus.proxy == "http://proxy.internal:3128"


def test_validate_warns_about_insecure_skip_verify(tmp_path, capsys) -> None:
    path = write(tmp_path, '[contexts.lab.prometheus]\nurl = "https://h:1"\ninsecure_skip_verify = true\n')
    code, out, err = run(capsys, "--config", str(path), "config", "validate")
    assert code == 0 and out.startswith("OK: 1 context")
    assert (
        err == "warning: contexts.lab.prometheus.insecure_skip_verify is true: the server certificate is not checked\n"
    )
