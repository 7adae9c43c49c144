"""`zeta check` against real servers: a real Prometheus and Alertmanager (UP), a closed port
(DOWN), a server that never answers (DOWN within its timeout), and the --json shape."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import alertmanager, closed_port_url, prometheus, prometheus_version, silent  # noqa: F401
from zeta_tui.cli import main


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def config_file(tmp_path: Path, prometheus_url: str | None = None, alertmanager_url: str | None = None, timeout: float = 5) -> Path:
    text = "[contexts.t]\n"
    if prometheus_url:
        text += f'[contexts.t.prometheus]\nurl = "{prometheus_url}"\ntimeout_seconds = {timeout}\n'
    if alertmanager_url:
        text += f'[contexts.t.alertmanager]\nurl = "{alertmanager_url}"\ntimeout_seconds = {timeout}\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def check(capsys, path: Path, *extra: str) -> tuple[int, str, str, float]:
    t0 = time.monotonic()
    code = main(["--config", str(path), "check", *extra])
    elapsed = time.monotonic() - t0
    out, err = capsys.readouterr()
    return code, out, err, elapsed


def rows(out: str) -> dict[str, list[str]]:
    """BACKEND -> the row's cells (split on runs of two or more spaces)."""
    import re

    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("BACKEND"))
    return {cells[0]: cells for cells in (re.split(r"\s{2,}", line.strip()) for line in lines[header + 1 :])}


def test_all_up_exits_0(tmp_path, capsys, prometheus) -> None:
    am = alertmanager()
    am_version = httpx.get(f"{am.url}/api/v2/status", timeout=5).json()["versionInfo"]["version"]
    code, out, err, _ = check(capsys, config_file(tmp_path, prometheus.url, am.url))
    assert (code, err) == (0, "")
    table = rows(out)
    assert table["prometheus"][:3] == ["prometheus", prometheus.url, "UP"]
    assert table["prometheus"][4] == prometheus_version()
    assert table["alertmanager"][:3] == ["alertmanager", am.url, "UP"]
    assert table["alertmanager"][4] == am_version
    assert table["prometheus"][3].endswith(" ms") and table["prometheus"][5] == "-"


def test_closed_port_is_down_and_exits_1(tmp_path, capsys, prometheus, closed_port_url) -> None:
    code, out, _, _ = check(capsys, config_file(tmp_path, prometheus.url, closed_port_url))
    assert code == 1
    table = rows(out)
    assert table["prometheus"][2] == "UP"
    down = table["alertmanager"]
    assert down[2] == "DOWN" and down[4] == "-"
    assert "Backend unavailable: cannot connect: Connection refused" in down[5]
    assert "hint:" in down[5]


def test_hanging_servers_are_reported_within_their_timeout_concurrently(tmp_path, capsys, silent) -> None:
    timeout = 1.0
    code, out, _, elapsed = check(capsys, config_file(tmp_path, silent.url, silent.url, timeout=timeout))
    assert code == 1
    # Both time out together: sequential probes would take 2 x timeout.
    assert timeout * 0.9 <= elapsed < 2 * timeout
    for backend in ("prometheus", "alertmanager"):
        assert rows(out)[backend][2] == "DOWN"
        assert "Backend timed out" in rows(out)[backend][5]


def test_json_shape(tmp_path, capsys, prometheus, closed_port_url) -> None:
    code, out, _, _ = check(capsys, config_file(tmp_path, prometheus.url, closed_port_url), "--json")
    assert code == 1
    doc = json.loads(out)
    assert isinstance(doc, list) and len(doc) == 2
    up, down = doc
    assert set(up) == {"context", "backend", "url", "status", "latency_ms", "version", "error"}
    assert (up["context"], up["backend"], up["url"], up["status"], up["error"]) == ("t", "prometheus", prometheus.url, "UP", None)
    assert up["version"] == prometheus_version() and up["latency_ms"] > 0
    assert (down["backend"], down["status"], down["version"]) == ("alertmanager", "DOWN", None)
    assert set(down["error"]) == {"title", "message", "hint", "where"}
    assert down["error"]["title"] == "Backend unavailable" and "Connection refused" in down["error"]["message"]


def test_credentials_never_printed(tmp_path, capsys, closed_port_url, monkeypatch) -> None:
    monkeypatch.setenv("ZETA_TEST_TOKEN", "tok-SECRET-321")
    user_url = closed_port_url.replace("http://", "http://admin:pw-SECRET-654@")
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{user_url}"\n[contexts.t.alertmanager]\nurl = "{closed_port_url}"\nbearer_token = "${{ZETA_TEST_TOKEN}}"\n')
    for extra in ((), ("--json",)):
        code, out, err, _ = check(capsys, path, *extra)
        assert code == 1
        assert "SECRET" not in out + err
        assert closed_port_url in out


def test_config_error_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[contexts.t.prometheus]\nurl = "localhost:9090"\n')
    code, out, err, _ = check(capsys, path)
    assert code == 2 and out == "" and "contexts.t.prometheus.url" in err


def test_context_without_backends_exits_2(tmp_path, capsys) -> None:
    code, _, err, _ = check(capsys, config_file(tmp_path))
    assert code == 2 and "configures no backends" in err and "[contexts.t.prometheus]" in err


def test_unusable_tls_file_is_a_config_error_exit_2(tmp_path, capsys, prometheus) -> None:
    bad_pem = tmp_path / "client.pem"
    bad_pem.write_text("this is not a certificate\n")
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{prometheus.url}"\n[contexts.t.alertmanager]\nurl = "https://127.0.0.1:1"\nclient_cert = "client.pem"\n')
    code, out, _, _ = check(capsys, path)
    assert code == 2
    table = rows(out)
    assert table["prometheus"][2] == "UP"  # the rest is still probed and shown
    assert table["alertmanager"][2] == "DOWN"
    assert "Configuration error: cannot load TLS files" in table["alertmanager"][5]
