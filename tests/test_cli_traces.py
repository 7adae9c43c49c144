"""`zeta trace` and `zeta traces` end to end: over the world's traces in a real embedded
ClickHouse (expected spans from the generator), and over Jaeger's captured v3 trace served on
127.0.0.1; a trace that is not there exits 1 with the backend's words."""

from __future__ import annotations

import json
import re

import pytest
from pytest_httpserver import HTTPServer

pytest.importorskip("chdb", reason="these tests read the world's traces from an embedded ClickHouse (pip install chdb)")

from tests.support.servers import real_fixture
from tests.support.world_store import END, WorldStore
from zeta_tui.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-traces")
    store = WorldStore(root / "store", seconds=300, sample_every=10)
    config = root / "zeta.toml"
    config.write_text(f'default_context = "w"\n[contexts.w.traces]\nkind = "clickhouse"\npath = "{store.path}"\n')
    yield str(config), store
    store.close()


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_trace_json_equals_the_generated_trace(world, capsys) -> None:
    config, store = world
    request = max(store.requests, key=lambda r: len(store.spans(r)))
    code, out, err = _run(capsys, "--config", config, "trace", request.trace_id.upper(), "--json")
    assert code == 0, err
    doc = json.loads(out)
    expected = store.spans(request)
    assert doc["trace_id"] == request.trace_id and doc["span_count"] == len(expected)
    assert sorted((s["span_id"], s["parent_id"], s["duration_ns"]) for s in doc["spans"]) == sorted(
        (s.span_id, s.parent_id, s.duration_ns) for s in expected
    )
    root = min(expected, key=lambda s: s.start_ns)
    assert doc["duration_ns"] == max(s.end_ns for s in expected) - root.start_ns
    assert sum(seg["duration_ns"] for seg in doc["critical_path"]) == doc["duration_ns"]


def test_trace_text_waterfall(world, capsys, monkeypatch) -> None:
    config, store = world
    monkeypatch.setenv("COLUMNS", "100")
    request = next(r for r in store.requests if r.endpoint == "/api/v1/recommendations" and r.status_code < 400)
    code, out, err = _run(capsys, "--config", config, "trace", request.trace_id)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 + len(store.spans(request)) and all(len(line) <= 100 for line in lines)
    names = [s.name for s in store.spans(request)]
    assert all(any(f" {name[:20]}" in line for line in lines[1:]) for name in names)  # long names are cut with …


def test_traces_search_lists_the_slow_ones(world, capsys) -> None:
    config, store = world
    code, out, err = _run(
        capsys,
        "--config",
        config,
        "traces",
        "--service",
        "backend-api",
        "--min-duration",
        "2s",
        "--from",
        str(END - 300),
        "--to",
        str(END),
        "--limit",
        "1000",
        "--json",
    )
    assert code == 0, err
    got = {json.loads(line)["trace_id"] for line in out.splitlines()}
    # Jaeger's meaning: one backend-api span of at least 2 s that starts inside the window.
    lo, hi = (END - 300) * 10**9, END * 10**9
    expected = {
        r.trace_id
        for r in store.requests
        if any(
            s.service == "backend-api" and s.duration_ns >= 2_000_000_000 and lo <= s.start_ns <= hi
            for s in store.spans(r)
        )
    }
    assert got == expected and 0 < len(got) < 1000  # under the limit: the whole answer


def test_not_found_exits_1_with_the_message(world, capsys) -> None:
    config, _store = world
    code, out, err = _run(capsys, "--config", config, "trace", "0123456789abcdef0123456789abcdef")
    assert code == 1 and out == ""
    assert "no trace '0123456789abcdef0123456789abcdef'" in err


def test_no_traces_section_exits_2(tmp_path, capsys) -> None:
    config = tmp_path / "zeta.toml"
    config.write_text('default_context = "x"\n[contexts.x]\n')
    code, _out, err = _run(capsys, "--config", str(config), "traces")
    assert code == 2 and "has no [traces] section" in err


def test_trace_from_jaeger_v3(httpserver: HTTPServer, tmp_path, capsys) -> None:
    raw = real_fixture("jaeger/v3-otlp-hotrod-40span-trace.json")
    trace_id = re.search(rb'"traceId":\s*"([0-9a-fA-F]+)"', raw).group(1).decode()
    httpserver.expect_request("/api/v3/services").respond_with_json({"services": ["frontend"]})
    httpserver.expect_request(f"/api/v3/traces/{trace_id.lower()}").respond_with_data(
        raw, content_type="application/json"
    )
    config = tmp_path / "zeta.toml"
    config.write_text(
        f'default_context = "j"\n[contexts.j.traces]\nkind = "jaeger"\nurl = "{httpserver.url_for("/").rstrip("/")}"\n'
    )
    code, out, err = _run(capsys, "--config", str(config), "trace", trace_id, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["span_count"] == len(re.findall(rb'"spanId"', raw)) == 40
