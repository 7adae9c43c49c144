"""`zeta promql` against a real Prometheus (and an HTTP server for warnings)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.servers import raw_prometheus_error
from zeta_tui.cli import main
from zeta_tui.headless.promql import BLOCKS, format_labels, format_value, sparkline

AT = 1_700_000_000


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ZETA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def config(tmp_path, prometheus) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{prometheus.url}"\n')
    return path


def promql(capsys, config: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "promql", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_instant_vector_table(capsys, config) -> None:
    expr = 'label_replace(vector(42), "job", "api", "", "") or label_replace(vector(0.25), "job", "auth", "", "")'
    code, out, err = promql(capsys, config, expr, "--at", str(AT))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["SERIES", "VALUE"]
    assert [line.split() for line in lines[1:]] == [['{job="api"}', "42"], ['{job="auth"}', "0.25"]]
    assert len({len(line) for line in lines}) == 1  # aligned: the value column is right-aligned


def test_instant_json(capsys, config) -> None:
    code, out, _ = promql(capsys, config, "vector(42)", "--at", str(AT), "--json")
    assert code == 0
    assert json.loads(out) == {
        "resultType": "vector",
        "result": [{"labels": {}, "time": AT, "value": "42"}],
        "warnings": [],
    }


def _expected_times(range_s: int, step_s: int) -> list[int]:
    return list(range(AT - range_s, AT + 1, step_s))


def test_range_summary(capsys, config) -> None:
    code, out, err = promql(capsys, config, "vector(time())", "--range", "2m", "--step", "30s", "--at", str(AT))
    assert (code, err) == (0, "")
    header, row = out.splitlines()
    assert header.split() == ["SERIES", "POINTS", "MIN", "MAX", "LAST", "TREND"]
    times = _expected_times(120, 30)
    assert row.split() == ["{}", str(len(times)), str(times[0]), str(times[-1]), str(times[-1]), "▁▃▅▆█"]


def test_range_samples(capsys, config) -> None:
    code, out, _ = promql(
        capsys, config, "vector(time())", "--range", "1m", "--step", "20s", "--at", str(AT), "--samples"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "{}"
    expected = [
        [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(t)] for t in _expected_times(60, 20)
    ]
    assert [line.split() for line in lines[1:]] == expected


def test_range_json(capsys, config) -> None:
    code, out, _ = promql(capsys, config, "vector(time())", "--range", "1m", "--step", "30s", "--at", str(AT), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["resultType"] == "matrix"
    assert doc["result"] == [{"labels": {}, "values": [[t, str(t)] for t in _expected_times(60, 30)]}]


def test_default_step_gives_about_60_points(capsys, config) -> None:
    code, out, _ = promql(capsys, config, "vector(1)", "--range", "1h", "--at", str(AT), "--json")
    assert code == 0
    assert len(json.loads(out)["result"][0]["values"]) == 61  # 1h at a 60s step, both ends included


def test_empty_result_says_so_on_stderr(capsys, config) -> None:
    code, out, err = promql(capsys, config, "absent_metric_xyz", "--at", str(AT))
    assert (code, out) == (0, "")
    assert "empty result" in err


def test_bad_expression_exits_1_with_prometheus_message(capsys, config, prometheus) -> None:
    expr = "sum(rate(x[5m])"
    expected = raw_prometheus_error(prometheus.url, expr)
    code, out, err = promql(capsys, config, expr)
    assert (code, out) == (1, "")
    assert expected in err
    assert err.startswith(f"Query error: prometheus at {prometheus.url}")


def test_bad_durations_exit_2(capsys, config) -> None:
    code, _, err = promql(capsys, config, "up", "--range", "1hour")
    assert code == 2 and "--range" in err and "'1hour' is not a duration" in err
    code, _, err = promql(capsys, config, "up", "--step", "30s")
    assert code == 2 and "--step needs --range" in err


def test_down_prometheus_exits_1(capsys, tmp_path) -> None:
    from zeta_tui.demo.processes import free_port

    path = tmp_path / "down.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "http://127.0.0.1:{free_port()}"\n')
    code, out, err = promql(capsys, path, "up")
    assert (code, out) == (1, "")
    assert "Backend unavailable" in err and "Connection refused" in err


def test_warnings_go_to_stderr(capsys, tmp_path, httpserver: HTTPServer) -> None:
    body = {
        "status": "success",
        "warnings": ["PromQL warning: encountered a mix of histograms and floats"],
        "data": {"resultType": "vector", "result": [{"metric": {"__name__": "up", "job": "x"}, "value": [AT, "1"]}]},
    }
    httpserver.expect_request("/api/v1/query").respond_with_json(body)
    path = tmp_path / "c.toml"
    path.write_text(f'[contexts.t.prometheus]\nurl = "{httpserver.url_for("/")}"\n')
    code, out, err = promql(capsys, path, "up")
    assert code == 0
    assert err == "warning: PromQL warning: encountered a mix of histograms and floats\n"
    assert 'up{job="x"}' in out


def test_formatting_helpers() -> None:
    assert [format_value(v) for v in (42.0, 0.1, -3.0, math.nan, math.inf, -math.inf, 1e20)] == [
        "42",
        "0.1",
        "-3",
        "NaN",
        "+Inf",
        "-Inf",
        "1e+20",
    ]
    assert format_value(1 / 3, 6) == "0.333333" and format_value(1 / 3) == repr(1 / 3)
    assert format_labels({"__name__": "up", "job": 'a"b', "instance": "i"}) == 'up{instance="i", job="a\\"b"}'
    assert format_labels({"__name__": "up"}) == "up"
    assert format_labels({}) == "{}"
    assert sparkline([0, 7]) == BLOCKS[0] + BLOCKS[-1]
    assert sparkline([5, 5, 5]) == BLOCKS[0] * 3
    assert sparkline([1, math.nan, 2]) == BLOCKS[0] + " " + BLOCKS[-1]
    assert len(sparkline(list(range(1000)))) == 30
    assert sparkline([0] * 99 + [10], width=10)[-1] == BLOCKS[-1]  # a one-point spike survives squeezing


def test_context_without_prometheus_exits_2(capsys, tmp_path) -> None:
    path = tmp_path / "am-only.toml"
    path.write_text('[contexts.alerts.alertmanager]\nurl = "http://127.0.0.1:9093"\n')
    code, _, err = promql(capsys, path, "up")
    assert code == 2 and "context 'alerts' has no prometheus section" in err and str(path) in err
