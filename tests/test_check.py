"""`zeta check` against real servers: a real Prometheus and Alertmanager (UP), a closed port
(DOWN), a server that never answers (DOWN within its timeout), and the --json shape."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import alertmanager, prometheus_version
from zeta_tui.cli import main


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def config_file(
    tmp_path: Path, prometheus_url: str | None = None, alertmanager_url: str | None = None, timeout: float = 5
) -> Path:
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


@pytest.mark.slow  # Prometheus and Alertmanager
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
    assert (up["context"], up["backend"], up["url"], up["status"], up["error"]) == (
        "t",
        "prometheus",
        prometheus.url,
        "UP",
        None,
    )
    assert up["version"] == prometheus_version() and up["latency_ms"] > 0
    assert (down["backend"], down["status"], down["version"]) == ("alertmanager", "DOWN", None)
    assert set(down["error"]) == {"title", "message", "hint", "where"}
    assert down["error"]["title"] == "Backend unavailable" and "Connection refused" in down["error"]["message"]


def test_credentials_never_printed(tmp_path, capsys, closed_port_url, monkeypatch) -> None:
    monkeypatch.setenv("ZETA_TEST_TOKEN", "tok-SECRET-321")
    user_url = closed_port_url.replace("http://", "http://admin:pw-SECRET-654@")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.t.prometheus]\nurl = "{user_url}"\n[contexts.t.alertmanager]\nurl = '
        f'"{closed_port_url}"\nbearer_token = "${{ZETA_TEST_TOKEN}}"\n'
    )
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
    path.write_text(
        f'[contexts.t.prometheus]\nurl = "{prometheus.url}"\n[contexts.t.alertmanager]\nurl = '
        '"https://127.0.0.1:1"\nclient_cert = "client.pem"\n'
    )
    code, out, _, _ = check(capsys, path)
    assert code == 2
    table = rows(out)
    assert table["prometheus"][2] == "UP"  # the rest is still probed and shown
    assert table["alertmanager"][2] == "DOWN"
    assert "Configuration error: cannot load TLS files" in table["alertmanager"][5]


# --- UP only for a valid answer, within the timeout, under the cap -----------------------------

MiB = 1024 * 1024
KINDS = {  # backend -> its section and extra keys
    "prometheus": ("prometheus", ""),
    "alertmanager": ("alertmanager", ""),
    "elasticsearch": ("logs", 'kind = "elasticsearch"\n'),
    "loki": ("logs", 'kind = "loki"\n'),
    "jaeger": ("traces", 'kind = "jaeger"\n'),
    "tempo": ("traces", 'kind = "tempo"\n'),
    "clickhouse": ("clickhouse", ""),
}
BAD_ANSWERS = {  # fault -> the fault server's path and the words the error must hold (any one)
    "malformed": ("garbage", ("not json", "malformed")),
    "oversized": (f"huge/{24 * MiB}", ("cap",)),
    "hang": ("", ("no answer within", "timed out")),
    "html500": ("html500", ("502 bad gateway",)),
}


def probe_one(tmp_path, capsys, kind: str, url: str, timeout: float = 1.5) -> tuple[int, dict, float]:
    section, extra = KINDS[kind]
    path = tmp_path / "config.toml"
    path.write_text(
        f'[contexts.t.{section}]\nurl = "{url}"\n{extra}timeout_seconds = {timeout}\nmax_response_bytes = {MiB}\n'
    )
    code, out, _, elapsed = check(capsys, path, "--json")
    [result] = json.loads(out)
    return code, result, elapsed


@pytest.mark.parametrize("fault", list(BAD_ANSWERS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_bad_answer_is_down_within_the_timeout(tmp_path, capsys, kind: str, fault: str) -> None:
    from tests.support.faults import fault_backend
    from tests.support.servers import silent_server

    path, words = BAD_ANSWERS[fault]
    url = fault_backend(path).url() if path else silent_server().url
    timeout = 1.5
    code, result, elapsed = probe_one(tmp_path, capsys, kind, url, timeout)
    assert code == 1 and result["status"] == "DOWN", result
    said = f"{result['error']['title']} {result['error']['message']}".lower()
    assert any(word in said for word in words), said
    assert elapsed < timeout + 1.5 and result["latency_ms"] < (timeout + 0.5) * 1000, (elapsed, result)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "prometheus"])
def test_another_apis_success_is_not_up(tmp_path, capsys, kind: str) -> None:
    """A server answering every path with Prometheus's success envelope is not Alertmanager, Loki,
    Jaeger, Tempo, Elasticsearch or ClickHouse, however well it answers."""
    from tests.support.faults import fault_backend

    code, result, _ = probe_one(tmp_path, capsys, kind, fault_backend("ok").url())
    assert code == 1 and result["status"] == "DOWN", result


def test_tempo_with_a_malformed_build_info_is_down_though_ready_answers(tmp_path, capsys, httpserver) -> None:
    httpserver.expect_request("/api/status/buildinfo").respond_with_data(
        '{"version": "2.4.1", ', content_type="application/json"
    )
    httpserver.expect_request("/ready").respond_with_data("ready\n")
    code, result, _ = probe_one(tmp_path, capsys, "tempo", httpserver.url_for("/").rstrip("/"))
    assert code == 1 and result["status"] == "DOWN" and "not json" in result["error"]["message"].lower()


@pytest.mark.parametrize("kind", ["tempo", "loki"])
def test_without_a_build_info_endpoint_ready_is_enough(tmp_path, capsys, httpserver, kind: str) -> None:
    """An older server without a build-info endpoint (404) is UP when /ready answers 200, version unknown."""
    path = "/api/status/buildinfo" if kind == "tempo" else "/loki/api/v1/status/buildinfo"
    httpserver.expect_request(path).respond_with_data("404 page not found\n", status=404)
    httpserver.expect_request("/ready").respond_with_data("ready\n")
    code, result, _ = probe_one(tmp_path, capsys, kind, httpserver.url_for("/").rstrip("/"))
    assert (code, result["status"], result["version"]) == (0, "UP", "unknown"), result


def test_a_slow_valid_answer_past_the_timeout_is_down(tmp_path, capsys, httpserver) -> None:
    """Tempo's two requests (build info 404, then /ready) each answer in 0.9 s against a 1.5 s
    timeout: alone each is in time, together they are not, and the probe says so."""

    def slow(status, body):
        def answer(request):
            from werkzeug import Response

            time.sleep(0.9)
            return Response(body, status=status)

        return answer

    httpserver.expect_request("/api/status/buildinfo").respond_with_handler(slow(404, "404 page not found"))
    httpserver.expect_request("/ready").respond_with_handler(slow(200, "ready"))
    code, result, elapsed = probe_one(tmp_path, capsys, "tempo", httpserver.url_for("/").rstrip("/"), timeout=1.5)
    assert code == 1 and result["status"] == "DOWN" and result["error"]["title"] == "Backend timed out", result
    assert elapsed < 1.5 + 1


def test_an_answer_that_came_late_is_not_up(tmp_path, capsys, monkeypatch) -> None:
    """A probe whose answer holds the event loop past the timeout (as decoding a 300 MB answer
    once did: UP with 12 s against 3 s) is DOWN, though the answer came."""
    from zeta_tui.models.metrics_meta import BuildInfo

    class LateProbe:
        kind, url = "prometheus", "http://late"

        async def check(self):
            time.sleep(1.3)  # holds the loop: the probe's own timeout cannot fire meanwhile
            return BuildInfo("3.0.0"), 1.3

        async def aclose(self):
            pass

    monkeypatch.setattr("zeta_tui.headless.check.client_for", lambda section, cfg: LateProbe())
    code, out, _, _ = check(capsys, config_file(tmp_path, "http://127.0.0.1:9", timeout=1), "--json")
    [result] = json.loads(out)
    assert code == 1 and result["status"] == "DOWN" and result["version"] is None
    assert result["error"]["title"] == "Backend timed out" and "past the 1s timeout" in result["error"]["message"]
