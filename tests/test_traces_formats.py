"""The trace parsers (OTLP JSON, Jaeger v1 JSON) over every captured trace in
../shared/fixtures/real/{jaeger,tempo} and the messy fixtures in tests/fixtures/traces.

Expected span counts come from a plain walk of the JSON written here (a dict with ``spanId``
and ``name`` is an OTLP span, one with ``spanID`` and ``operationName`` a Jaeger span), and
spot values were read by hand from the files."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import pytest

from tests.support.servers import real_fixture, shared_dir
from zeta_tui.backends.traces.jaeger_json import parse_jaeger, tags
from zeta_tui.backends.traces.otlp_json import any_value, parse_otlp
from zeta_tui.models.traces import Trace

HERE = Path(__file__).parent / "fixtures" / "traces"
REAL_WITH_TRACES = {
    "jaeger/api-envelope-transform-missing-parent.json",
    "jaeger/otlp-json-resource-without-service-name.json",
    "jaeger/ui-trace-genai-57span-generated.json",
    "jaeger/v3-gettrace-snapshot.json",
    "jaeger/v3-otlp-hotrod-40span-trace.json",
    "tempo/otlp-proto-example-trace.json",
    "tempo/otlp-trace-failed-requests-base64ids.json",
    "tempo/v1-trace-by-id-istio-bookinfo.json",
    "tempo/v2-trace-by-id-docs-curl.json",
}


def walk(node, found: list[dict]) -> list[dict]:
    """Every dict in a JSON tree (depth first)."""
    if isinstance(node, dict):
        found.append(node)
        for v in node.values():
            walk(v, found)
    elif isinstance(node, list):
        for v in node:
            walk(v, found)
    return found


def count_spans(raw: bytes) -> tuple[int, str]:
    """Spans in a response by a plain walk, and the format they are in ("otlp"/"jaeger"/"")."""
    nodes = walk(json.loads(raw), [])
    otlp = sum(1 for d in nodes if "spanId" in d and "name" in d)
    jaeger = sum(1 for d in nodes if "spanID" in d and "operationName" in d)
    return (otlp, "otlp") if otlp else (jaeger, "jaeger") if jaeger else (0, "")


def parse(raw: bytes, fmt: str) -> list[Trace]:
    return parse_otlp(raw) if fmt == "otlp" else parse_jaeger(raw)


def b64hex(text: str) -> str:
    return base64.b64decode(text).hex()


def one(raw: bytes, fmt: str) -> Trace:
    traces = parse(raw, fmt)
    assert len(traces) == 1
    return traces[0]


# --- every real capture ---------------------------------------------------------------------------


def real_files() -> list[str]:
    base = shared_dir()
    if base is None:
        return []
    root = base / "fixtures" / "real"
    return sorted(str(p.relative_to(root)) for kind in ("jaeger", "tempo") for p in (root / kind).glob("*.json"))


@pytest.mark.parametrize("name", real_files() or ["(no ../shared)"])
def test_every_real_trace_keeps_every_span(name: str) -> None:
    raw = real_fixture(name)
    expected, fmt = count_spans(raw)
    assert (expected > 0) == (name in REAL_WITH_TRACES), "the list of files holding a trace is out of date"
    if not expected:
        return
    traces = parse(raw, fmt)
    assert sum(len(t.spans) for t in traces) == expected
    for t in traces:
        assert t.trace_id and all(s.trace_id == t.trace_id for s in t.spans)
        assert all(len(s.span_id) in (16, 32) for s in t.spans)


def test_all_real_files_with_traces_exist() -> None:
    if shared_dir() is None:
        pytest.skip("../shared is absent")
    assert REAL_WITH_TRACES <= set(real_files())


def test_jaeger_envelope_duplicate_spans_and_missing_parent() -> None:
    t = one(real_fixture("jaeger/api-envelope-transform-missing-parent.json"), "jaeger")
    assert t.trace_id == "83a9efd15c1c98a977e0711cc93ee28b"
    assert [s.span_id for s in t.spans] == ["e127af99e3b3e074"] * 2
    s = t.spans[0]
    assert s.parent_id == "909541b92cf05311" and s.links == ()
    assert (s.service, s.name, s.kind, s.start_ns, s.duration_ns) == ("telemetrygen", "okey-dokey-0", "server", 1706678909209712000, 123_000)
    assert s.attributes["net.peer.ip"] == "1.2.3.4" and s.status == "unset"
    assert any("e127af99e3b3e074 appears 2 times" in w for w in t.warnings)
    assert any("909541b92cf05311" in w and "not in the trace" in w for w in t.warnings)


def test_jaeger_bare_trace_object_genai() -> None:
    t = one(real_fixture("jaeger/ui-trace-genai-57span-generated.json"), "jaeger")
    assert t.trace_id == "4a1b2c3d4e5f60718293a4b5c6d7e8f9" and t.warnings == ()
    root = t.spans[0]
    assert (root.span_id, root.parent_id, root.name, root.service) == ("0000000000000001", "", "POST /api/graphql", "api-edge")
    assert root.duration_ns == 44_000_000 * 1000 and root.attributes["http.response.status_code"] == 200
    assert t.spans[1].parent_id == "0000000000000001" and t.spans[2].parent_id == "0000000000000002"
    assert [s.span_id for s in t.spans if s.is_error] == ["0000000000000011"]
    assert t.spans[0].kind == "server" and t.spans[2].kind == "internal"


def test_jaeger_v3_snapshot_zero_padded_128_bit_id() -> None:
    t = one(real_fixture("jaeger/v3-gettrace-snapshot.json"), "otlp")
    assert t.trace_id == "0000000000000001"  # 128 bits with a zero high half: the 64-bit form
    s = t.spans[0]
    assert (s.span_id, s.name, s.kind, s.status, s.service, s.start_ns, s.duration_ns) == ("0000000000000002", "foobar", "server", "error", "", 0, 0)


def test_otlp_hotrod_values() -> None:
    raw = real_fixture("jaeger/v3-otlp-hotrod-40span-trace.json")
    t = one(raw, "otlp")
    s = t.spans[0]
    assert (s.trace_id, s.span_id, s.parent_id) == ("fe65c5beefbe4e96119efbba3da07e99", "f6e63a82f4597e0e", "f7cf0c8385e66ace")
    assert (s.service, s.name, s.kind) == ("driver", "driver.DriverService/FindNearest", "server")
    assert s.duration_ns == 1787132459196379005 - 1787132458952894897
    assert s.attributes["server.port"] == 8082 and s.resource["os.type"] == "linux"
    assert s.events[0].name == "Retrying GetDriver after error" and s.events[0].attributes["error"] == "redis timeout"
    nodes = walk(json.loads(raw), [])
    assert sum(len(x.events) for x in t.spans) == sum(len(d["events"]) for d in nodes if "spanId" in d and "events" in d) == 52
    assert len(t.services) == 6


def test_otlp_without_service_name() -> None:
    t = one(real_fixture("jaeger/otlp-json-resource-without-service-name.json"), "otlp")
    s = t.spans[0]
    assert s.service == "" and t.services == () and s.parent_id == "909541b92cf05311"
    assert t.summary().root_name == "okey-dokey-0"  # its parent is not here: it is the root


def test_otlp_proto_example_upper_case_ids() -> None:
    t = one(real_fixture("tempo/otlp-proto-example-trace.json"), "otlp")
    s = t.spans[0]
    assert (t.trace_id, s.span_id, s.parent_id) == ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert s.duration_ns == 1_000_000_000 and s.service == "my.service" and s.kind == "server"


def test_tempo_v1_batches_base64_ids() -> None:
    raw = real_fixture("tempo/v1-trace-by-id-istio-bookinfo.json")
    t = one(raw, "otlp")
    assert t.trace_id == b64hex("O6VWCcPN5JZJzXfR+dzZNg==")
    first = t.spans[0]
    assert first.span_id == b64hex("Sc130fnc2TY=") and first.kind == "client"
    assert first.service == "istio-ingressgateway.istio-system"
    assert first.duration_ns == 1701779876582820000 - 1701779876570888000
    ids = {s.span_id for s in t.spans}
    assert sum(1 for s in t.spans if s.parent_id and s.parent_id not in ids) == 0


def test_tempo_failed_requests_error_status() -> None:
    raw = real_fixture("tempo/otlp-trace-failed-requests-base64ids.json")
    t = one(raw, "otlp")
    assert t.trace_id == b64hex("6Lbf+fjUSyjxsivDvS9naA==")
    assert sum(1 for s in t.spans if s.status == "error") == raw.count(b"STATUS_CODE_ERROR") == 3
    assert t.spans[0].span_id == b64hex("kAf+pIRVStc=") and t.spans[0].kind == "client"
    assert set(t.services) == {"mythical-requester", "mythical-server"}


def test_tempo_v2_docs_trace() -> None:
    t = one(real_fixture("tempo/v2-trace-by-id-docs-curl.json"), "otlp")
    s = t.spans[0]
    assert t.trace_id == b64hex("W47/95gDgQPSabYzgT/HAA==") and s.span_id == b64hex("7uGbfsPBsQA=")
    assert (s.kind, s.service, s.duration_ns) == ("server", "my.service", 1689970000000000000 - 1689969302000000000)


# --- the messy fixtures --------------------------------------------------------------------------


def test_jaeger_messy_references_ids_and_warnings() -> None:
    raw = (HERE / "jaeger-v1-messy.json").read_bytes()
    expected, _ = count_spans(raw)
    t = one(raw, "jaeger")
    assert len(t.spans) == expected == 6
    assert t.trace_id == "0a1b2c3d4e5f6071"  # upper case, 128 bits with a zero high half
    root, charge, enqueue, orphan, orphan2, numeric = t.spans
    # the root: typed tags, OTel status, a log as an event, the process as resource
    assert root.span_id == "00000000000000a1" and root.parent_id == "" and root.kind == "server"
    assert (root.status, root.status_message) == ("error", "payment declined")
    assert root.attributes["http.status_code"] == 500 and root.attributes["attempts"] == 3
    assert root.attributes["sampler.param"] == 0.25 and root.attributes["retried"] is True
    assert root.events[0].name == "exception" and root.events[0].timestamp_ns == 1767225600100000000
    assert root.events[0].attributes == {"exception.message": "card declined"}
    assert root.resource == {"hostname": "web-1", "ip": "10.0.0.1"} and root.service == "frontend"
    # CHILD_OF wins over an earlier FOLLOWS_FROM, which becomes a link; it starts before and ends after its parent
    assert charge.parent_id == "00000000000000a1" and charge.kind == "client" and charge.is_error
    assert [(lk.span_id, lk.kind) for lk in charge.links] == [("00000000000000c3", "follows_from")]
    assert charge.start_ns < root.start_ns and charge.end_ns > root.end_ns
    # a reference into another trace is a link, not a parent; a process without a service name
    assert enqueue.parent_id == "" and enqueue.service == ""
    assert [(lk.trace_id, lk.span_id, lk.kind) for lk in enqueue.links] == [("ffffffffffffffff0000000000000001", "00000000000000d4", "child_of")]
    # a missing parent is still named; duplicates are kept; a number as id; an unknown process
    assert orphan.parent_id == orphan2.parent_id == "00000000000000ff"
    assert numeric.span_id == f"{4660:016x}" and numeric.service == ""
    w = " | ".join(t.warnings)
    assert "clock skew adjustment disabled" in w and "span 00000000000000a1:" in w
    assert "trace has 2 spans with the same id" in w and "storage shard 3 timed out" in w
    assert "00000000000000e5 appears 2 times" in w and "00000000000000ff" in w
    summary = t.summary()
    assert summary.root_name in ("GET /checkout", "enqueue") and summary.error_count == 2


def test_otlp_messy_two_traces_every_value_kind() -> None:
    raw = (HERE / "otlp-two-traces-messy.json").read_bytes()
    expected, _ = count_spans(raw)
    traces = parse_otlp(raw)
    assert sum(len(t.spans) for t in traces) == expected == 4
    a, b = traces
    assert a.trace_id == "5b8efff798038103d269b633813fc60c"
    assert b.trace_id == base64.b64decode("AAAAAAAAAAAKGyw9Tl9gcQ==").hex()[16:]  # high half zero -> 16 digits
    cart, reserve = a.spans
    assert (cart.kind, cart.status, cart.status_message) == ("server", "error", "upstream timeout")
    assert cart.start_ns == 1767225600000000000 and cart.duration_ns == 500_000_000  # a time as a number
    at = cart.attributes
    assert at["http.status_code"] == 503 and at["ratio"] == 0.75 and math.isnan(at["nan"]) and at["cached"] is False
    assert at["items"] == ["a", 2, True] and at["user"] == {"id": 7, "tier": "gold"}
    assert at["raw"] == "0102ff" and at["empty"] is None
    assert cart.resource["k8s.pod.uid"] == "0102ff" and cart.service == "checkout"
    assert cart.events[0].attributes == {"exception.type": "Timeout"}
    assert reserve.kind == "client" and reserve.status == "ok" and reserve.parent_id == cart.span_id
    assert reserve.start_ns < cart.start_ns and reserve.end_ns > cart.end_ns
    link = reserve.links[0]
    assert (link.trace_id, link.span_id, link.attributes) == (b.trace_id, "1111111111111111", {"link.reason": "batch"})
    batch, no_end = b.spans
    assert batch.service == "" and batch.resource == {"host.name": "worker-3"} and batch.kind == "consumer"
    assert batch.duration_ns == 250_000 and batch.status == "unset"
    assert no_end.duration_ns == 0 and no_end.kind == "" and no_end.parent_id == "1111111111111111"
    assert a.warnings == () and b.warnings == ()


def test_tempo_v2_partial_is_a_warning() -> None:
    t = one((HERE / "tempo-v2-partial.json").read_bytes(), "otlp")
    assert t.trace_id == b64hex("Ai/uxCdB8y/cFwl4fkQhQg==") and t.spans[0].status == "error"
    assert any("partial" in w and "exceeds max size" in w for w in t.warnings)


def test_value_helpers() -> None:
    assert tags([{"key": "n", "type": "int64", "value": "12"}, {"key": "s", "type": "string", "value": "12"}]) == {"n": 12, "s": "12"}
    assert tags([{"key": "odd", "value": "x"}]) == {"odd": "x"}  # no type: kept as sent
    assert any_value({"intValue": "-9223372036854775808"}) == -(2**63)
    assert any_value({"arrayValue": {}}) == [] and any_value({"kvlistValue": {"values": []}}) == {}


def test_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_otlp(b"<html>502 Bad Gateway</html>")
    with pytest.raises(ValueError):
        parse_jaeger(b"")
