"""`zeta logs` over the world's logs in a real embedded ClickHouse: what it prints equals an
independent filter over the generated requests; PII masked unless revealed; errors exit 1 / 2."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("chdb", reason="these tests read the world's logs from an embedded ClickHouse (pip install chdb)")

from datetime import UTC

from tests.support.world import SEED, T0
from zeta_tui.cli import main
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld

END = int(T0) // STEP_SECONDS * STEP_SECONDS
START = END - 600


@pytest.fixture(scope="module")
def world_logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-logs")
    path = root / "store"
    requests = list(WorldRequests(TeamZetaWorld(SEED), sample_every=10).generate(START, END))
    store = WorldLogStore(path)
    store.insert(requests)
    config = root / "zeta.toml"
    config.write_text(f'default_context = "w"\n[contexts.w.logs]\nkind = "clickhouse"\npath = "{path}"\n')
    yield str(config), requests
    store.close()


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _window(config: str) -> list[str]:
    # The generator writes the steps in (START, END]; a window a little wider holds all of them.
    return ["--config", config, "logs", "--from", str(START), "--to", str(END + 1)]


def test_errors_of_one_tenant_as_json_equal_an_independent_filter(world_logs, capsys) -> None:
    config, requests = world_logs
    tenant = next(r.tenant_id for r in requests if r.level == "ERROR")
    code, out, err = _run(
        capsys, *_window(config), f'level:ERROR AND tenant_id:"{tenant}"', "--json", "--limit", "10000"
    )
    assert code == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    expected = sorted(
        (r for r in requests if r.level == "ERROR" and r.tenant_id == tenant), key=lambda r: r.timestamp_ns
    )
    assert [p["trace_id"] for p in printed] == [r.trace_id for r in expected]
    assert all(p["status_code"] >= 500 for p in printed)
    timestamps = [p["timestamp"] for p in printed]
    assert timestamps == sorted(timestamps)  # oldest first


def test_limit_keeps_the_newest_and_pii_is_masked_unless_revealed(world_logs, capsys) -> None:
    config, requests = world_logs
    code, out, _ = _run(capsys, *_window(config), "latency_ms:>1000", "--json", "--limit", "5")
    slow = sorted((r for r in requests if r.latency_ms > 1000), key=lambda r: r.timestamp_ns)[-5:]
    printed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [p["trace_id"] for p in printed] == [r.trace_id for r in slow]
    assert all(p["user_id"].startswith("•••") for p in printed)
    assert not any(r.user_id in out or r.ip_address in out for r in slow)
    _, revealed, _ = _run(capsys, *_window(config), "latency_ms:>1000", "--json", "--limit", "5", "--reveal-pii")
    assert [json.loads(line)["user_id"] for line in revealed.splitlines()] == [r.user_id for r in slow]


def test_text_output_is_one_line_per_record(world_logs, capsys) -> None:
    config, requests = world_logs
    code, out, _ = _run(
        capsys, *_window(config), 'endpoint:"/api/v1/auth/login" AND status_code:401', "--limit", "10000"
    )
    expected = [r for r in requests if r.endpoint == "/api/v1/auth/login" and r.status_code == 401]
    assert code == 0 and len(out.splitlines()) == len(expected)
    if expected:
        assert " WARN  auth " in out.splitlines()[0] and "status_code=401" in out


def test_a_bad_query_exits_1_saying_where(world_logs, capsys) -> None:
    config, _ = world_logs
    code, out, err = _run(capsys, *_window(config), "status_code:[500 TO")
    assert code == 1 and out == ""
    assert "log query" in err and "column" in err


def test_a_context_without_logs_exits_2(tmp_path, capsys) -> None:
    config = tmp_path / "zeta.toml"
    config.write_text('[contexts.m.prometheus]\nurl = "http://127.0.0.1:9090"\n')
    code, _, err = _run(capsys, "--config", str(config), "logs", "level:ERROR")
    assert code == 2 and "has no [logs] section" in err and "[contexts.m.logs]" in err


def test_bad_time_options_exit_2(world_logs, capsys) -> None:
    config, _ = world_logs
    assert _run(capsys, "--config", config, "logs", "--since", "yesterday")[0] == 2
    assert _run(capsys, "--config", config, "logs", "--since", "1h", "--from", "2026-01-01")[0] == 2
    code, _, err = _run(capsys, "--config", config, "logs", "--from", "noon")
    assert code == 2 and "--from" in err


def test_check_probes_an_embedded_log_store(world_logs, capsys) -> None:
    config, _ = world_logs
    code, out, err = _run(capsys, "--config", config, "check")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("logs"))
    assert "embedded:" in line and " UP " in line


def test_nothing_matching_says_no_records_on_stderr_and_exits_0(world_logs, capsys) -> None:
    from datetime import datetime

    config, requests = world_logs
    assert not any(r.tenant_id == "tenant_nobody" for r in requests)
    code, out, err = _run(capsys, *_window(config), 'tenant_id:"tenant_nobody"', "--json")
    assert (code, out) == (0, "")  # stdout stays clean for jq; the status says the search ran
    start = datetime.fromtimestamp(START, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = datetime.fromtimestamp(END + 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert err.strip() == (
        f'no records match tenant_id:"tenant_nobody" in clickhouse at chdb:{_store(config)}, table '
        f"default.otel_logs, from {start} to {end}"
    )
    code, out, err = _run(capsys, *_window(config), "level:ERROR")
    assert code == 0 and out and "no records" not in err


def _store(config: str) -> str:
    import tomllib

    with open(config, "rb") as f:
        return tomllib.load(f)["contexts"]["w"]["logs"]["path"]
