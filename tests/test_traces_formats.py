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
    assert set(real_files()) >= REAL_WITH_TRACES


def test_jaeger_envelope_duplicate_spans_and_missing_parent() -> None:
    t = one(real_fixture("jaeger/api-envelope-transform-missing-parent.json"), "jaeger")
    assert t.trace_id == "83a9efd15c1c98a977e0711cc93ee28b"
    assert [s.span_id for s in t.spans] == ["e127af99e3b3e074"] * 2
    s = t.spans[0]
    assert s.parent_id == "909541b92cf05311" and s.links == ()
    assert (s.service, s.name, s.kind, s.start_ns, s.duration_ns) == (
        "telemetrygen",
        "okey-dokey-0",
        "server",
        1706678909209712000,
        123_000,
    )
    assert s.attributes["net.peer.ip"] == "1.2.3.4" and s.status == "unset"
    assert any("e127af99e3b3e074 appears 2 times" in w for w in t.warnings)
    assert any("909541b92cf05311" in w and "not in the trace" in w for w in t.warnings)


def test_jaeger_bare_trace_object_genai() -> None:
    t = one(real_fixture("jaeger/ui-trace-genai-57span-generated.json"), "jaeger")
    assert t.trace_id == "4a1b2c3d4e5f60718293a4b5c6d7e8f9" and t.warnings == ()
    root = t.spans[0]
    assert (root.span_id, root.parent_id, root.name, root.service) == (
        "0000000000000001",
        "",
        "POST /api/graphql",
        "api-edge",
    )
    assert root.duration_ns == 44_000_000 * 1000 and root.attributes["http.response.status_code"] == 200
    assert t.spans[1].parent_id == "0000000000000001" and t.spans[2].parent_id == "0000000000000002"
    assert [s.span_id for s in t.spans if s.is_error] == ["0000000000000011"]
    assert t.spans[0].kind == "server" and t.spans[2].kind == "internal"


def test_jaeger_v3_snapshot_zero_padded_128_bit_id() -> None:
    t = one(real_fixture("jaeger/v3-gettrace-snapshot.json"), "otlp")
    assert t.trace_id == "0000000000000001"  # 128 bits with a zero high half: the 64-bit form
    s = t.spans[0]
    assert (s.span_id, s.name, s.kind, s.status, s.service, s.start_ns, s.duration_ns) == (
        "0000000000000002",
        "foobar",
        "server",
        "error",
        "",
        0,
        0,
    )


def test_otlp_hotrod_values() -> None:
    raw = real_fixture("jaeger/v3-otlp-hotrod-40span-trace.json")
    t = one(raw, "otlp")
    s = t.spans[0]
    assert (s.trace_id, s.span_id, s.parent_id) == (
        "fe65c5beefbe4e96119efbba3da07e99",
        "f6e63a82f4597e0e",
        "f7cf0c8385e66ace",
    )
    assert (s.service, s.name, s.kind) == ("driver", "driver.DriverService/FindNearest", "server")
    assert s.duration_ns == 1787132459196379005 - 1787132458952894897
    assert s.attributes["server.port"] == 8082 and s.resource["os.type"] == "linux"
    assert s.events[0].name == "Retrying GetDriver after error" and s.events[0].attributes["error"] == "redis timeout"
    nodes = walk(json.loads(raw), [])
    assert (
        sum(len(x.events) for x in t.spans)
        == sum(len(d["events"]) for d in nodes if "spanId" in d and "events" in d)
        == 52
    )
    assert len(t.services) == 6


def test_otlp_without_service_name() -> None:
    t = one(real_fixture("jaeger/otlp-json-resource-without-service-name.json"), "otlp")
    s = t.spans[0]
    assert s.service == "" and t.services == () and s.parent_id == "909541b92cf05311"
    assert t.summary().root_name == "okey-dokey-0"  # its parent is not here: it is the root


def test_otlp_proto_example_upper_case_ids() -> None:
    t = one(real_fixture("tempo/otlp-proto-example-trace.json"), "otlp")
    s = t.spans[0]
    assert (t.trace_id, s.span_id, s.parent_id) == (
        "5b8efff798038103d269b633813fc60c",
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b173",
    )
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
    assert [(lk.trace_id, lk.span_id, lk.kind) for lk in enqueue.links] == [
        ("ffffffffffffffff0000000000000001", "00000000000000d4", "child_of")
    ]
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
    assert tags([{"key": "n", "type": "int64", "value": "12"}, {"key": "s", "type": "string", "value": "12"}]) == {
        "n": 12,
        "s": "12",
    }
    assert tags([{"key": "odd", "value": "x"}]) == {"odd": "x"}  # no type: kept as sent
    assert any_value({"intValue": "-9223372036854775808"}) == -(2**63)
    assert any_value({"arrayValue": {}}) == [] and any_value({"kvlistValue": {"values": []}}) == {}


def test_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_otlp(b"<html>502 Bad Gateway</html>")
    with pytest.raises(ValueError):
        parse_jaeger(b"")


# --- the typed fast path (msgspec) against the dict path (orjson) ----------------------------------


def _bench_module(name: str):
    """A script of bench/ as a module (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def robust(raw: bytes | str, fmt: str) -> list[Trace]:
    """The dict path alone: orjson, then the readers of decoded JSON."""
    import orjson

    from zeta_tui.backends.traces.jaeger_json import traces_from_jaeger
    from zeta_tui.backends.traces.otlp_json import traces_from_otlp

    doc = orjson.loads(raw)
    return traces_from_otlp(doc) if fmt == "otlp" else traces_from_jaeger(doc)


def fast(raw: bytes | str, fmt: str) -> list[Trace] | None:
    """The typed path alone; None when it hands the input to the dict path."""
    from zeta_tui.backends.traces.jaeger_json import parse_jaeger_fast
    from zeta_tui.backends.traces.otlp_json import parse_otlp_fast

    if fmt == "otlp":
        return parse_otlp_fast(raw)
    found = parse_jaeger_fast(raw)
    return None if found is None else found[0]


def assert_same(got: list[Trace], want: list[Trace]) -> None:
    # repr too: it tells 1 from 1.0 and True, and orders dicts; NaN is unequal to itself, so
    # a trace holding one compares by repr alone.
    assert repr(got) == repr(want)
    assert got == want or "nan" in repr(want)


def otlp_trace_bytes(spans: int, seed: int = 3) -> bytes:
    """OTLP JSON with every value kind and wrapping detail the parsers read: ids in hex and
    base64, times as text and numbers, kinds and status codes as numbers and enum names,
    arrays and kvlists nested, bytes, events, links, ``instrumentationLibrarySpans``."""
    import random

    import orjson

    rng = random.Random(seed)
    batches: list[dict] = []
    for b in range(5):
        out = []
        for i in range(b, spans, 5):
            sid = f"{i + 1:016x}"
            span: dict = {
                "traceId": base64.b64encode(bytes.fromhex("0af7651916cd43dd8448eb211c80319c")).decode()
                if b == 4
                else "0af7651916cd43dd8448eb211c80319c",
                "spanId": base64.b64encode(bytes.fromhex(sid)).decode() if b == 3 else sid.upper() if b == 2 else sid,
                "name": f"op-{i % 13}",
                "kind": ["SPAN_KIND_SERVER", 3, "SPAN_KIND_INTERNAL", 0, "producer"][i % 5],
                "startTimeUnixNano": str(1_767_225_600_000_000_000 + i * 1000)
                if i % 3
                else 1_767_225_600_000_000_000 + i * 1000,
                "attributes": [
                    {"key": "s", "value": {"stringValue": f"v{rng.randrange(50)}"}},
                    {"key": "i", "value": {"intValue": str(rng.randrange(-5, 2**40))}},
                    {"key": "n", "value": {"intValue": rng.randrange(1000)}},
                    {"key": "d", "value": {"doubleValue": rng.random() * 100}},
                    {"key": "dn", "value": {"doubleValue": 3}},
                    {"key": "b", "value": {"boolValue": i % 2 == 0}},
                    {
                        "key": "a",
                        "value": {
                            "arrayValue": {
                                "values": [
                                    {"stringValue": "x"},
                                    {"intValue": "7"},
                                    {"arrayValue": {"values": [{"boolValue": True}]}},
                                ]
                            }
                        },
                    },
                    {
                        "key": "kv",
                        "value": {
                            "kvlistValue": {
                                "values": [
                                    {"key": "k", "value": {"doubleValue": "1.5"}},
                                    {"key": "deep", "value": {"kvlistValue": {"values": []}}},
                                ]
                            }
                        },
                    },
                    {"key": "raw", "value": {"bytesValue": base64.b64encode(bytes([i % 256, 1])).decode()}},
                    {"key": "empty", "value": {}},
                    {"key": "nokey"},
                ],
                "status": [{}, {"code": 2, "message": "boom"}, {"code": "STATUS_CODE_OK"}, {"code": 0}][i % 4],
            }
            if i:
                span["parentSpanId"] = f"{(i - 1) // 4 + 1:016x}"
            if i % 7:
                span["endTimeUnixNano"] = str(1_767_225_600_000_000_000 + i * 1000 + rng.randrange(10**6))
            if i % 10 == 0:
                span["events"] = [
                    {
                        "timeUnixNano": str(1_767_225_600_000_000_000 + i * 1000 + 5),
                        "name": "retry",
                        "attributes": [{"key": "attempt", "value": {"intValue": "2"}}],
                    },
                    {},
                ]
            if i % 25 == 0:
                span["links"] = [
                    {
                        "traceId": "5b8efff798038103d269b633813fc60c",
                        "spanId": "eee19b7ec3c1b174",
                        "attributes": [{"key": "why", "value": {"stringValue": "batch"}}],
                    }
                ]
            out.append(span)
        scopes = [{"scope": {"name": "gen", "version": "1"}, "spans": out}]
        resource = {
            "attributes": [
                {"key": "service.name", "value": {"stringValue": f"svc-{b}"} if b != 1 else {"intValue": "1"}}
            ]
        }
        batches.append({"resource": resource, "instrumentationLibrarySpans" if b == 3 else "scopeSpans": scopes})
    return orjson.dumps({"trace": {"resourceSpans": batches}, "status": "PARTIAL", "message": "cut"})


def every_trace_input() -> list[tuple[str, bytes, str]]:
    """(name, bytes, format) of every captured and messy trace, and generated 1,000-span ones."""
    out = []
    base = shared_dir()
    for name in real_files():
        raw = (base / "fixtures" / "real" / name).read_bytes()
        out += [(f"real/{name}:jaeger", raw, "jaeger"), (f"real/{name}:otlp", raw, "otlp")]
    for path in sorted(HERE.glob("*.json")):
        out += [(f"{path.name}:jaeger", path.read_bytes(), "jaeger"), (f"{path.name}:otlp", path.read_bytes(), "otlp")]
    waterfall_app = _bench_module("waterfall_app")
    for shape in waterfall_app.SHAPES:
        out.append((f"generated {shape}:jaeger", waterfall_app.jaeger_trace_bytes(1000, shape), "jaeger"))
    trace_parse = _bench_module("trace_parse")
    out += [("bench jaeger", trace_parse.jaeger_v1(1000), "jaeger"), ("bench otlp", trace_parse.otlp(1000), "otlp")]
    out.append(("generated otlp", otlp_trace_bytes(1000), "otlp"))
    return out


def test_fast_path_gives_the_dict_paths_traces() -> None:
    taken = []
    for name, raw, fmt in every_trace_input():
        want = robust(raw, fmt)
        got = fast(raw, fmt)
        if got is not None:
            taken.append(name)
            assert_same(got, want)
        assert_same(parse(raw, fmt), want)
    # The fast path is no dead letter: every well-formed input takes it.
    for name, _, _ in every_trace_input():
        if name.startswith(("generated", "bench", "real/")):
            assert name in taken, f"{name} fell back to the dict path"
    assert "jaeger-v1-messy.json:jaeger" not in taken  # ids as numbers


def test_jaeger_fast_path_returns_the_envelope_errors() -> None:
    import orjson

    from zeta_tui.backends.traces.jaeger_json import envelope_errors, parse_jaeger_fast

    for path in sorted(HERE.glob("jaeger-v1-*.json")):
        raw = path.read_bytes()
        found = parse_jaeger_fast(raw)
        if found is not None:
            assert found[1] == envelope_errors(orjson.loads(raw))
    raw = (HERE / "jaeger-v1-not-found.json").read_bytes()
    assert parse_jaeger_fast(raw) is not None and parse_jaeger_fast(raw)[1]


SPAN = {
    "traceID": "00000000000000aa",
    "spanID": "00000000000000a1",
    "operationName": "op",
    "startTime": 1,
    "duration": 2,
    "processID": "p1",
}


def _jaeger(**changes) -> bytes:
    span = {**SPAN, **changes}
    return json.dumps(
        {"data": [{"traceID": "00000000000000aa", "spans": [span], "processes": {"p1": {"serviceName": "svc"}}}]}
    ).encode()


@pytest.mark.parametrize(
    "raw",
    [
        _jaeger(spanID=4660),  # an id as a number
        _jaeger(traceID=170),
        _jaeger(references=[{"refType": "CHILD_OF", "spanID": 1}]),
        _jaeger(tags=[{"key": "big", "type": "int64", "value": 2**64}]),  # orjson: a float
        _jaeger(tags=[{"key": "u64", "type": "int64", "value": 2**64 - 1}]),
        _jaeger(tags=[{"key": "list", "type": "string", "value": [1, 2]}]),
        _jaeger(tags=[{"key": 5, "type": "string", "value": "x"}]),
        _jaeger(tags=["not a tag"]),
        _jaeger(startTime=1.5),
        _jaeger(startTime="17"),
        _jaeger(logs=[{"timestamp": "5", "fields": []}]),
        _jaeger(process="p1"),
        _jaeger(warnings="one"),
        _jaeger(processID=1),
        (
            b'{"data": [{"traceID": "aa", "spans": [], "processes": []}], "errors": [{"code": '
            b'18446744073709551616, "msg": ""}]}'
        ),
        b'{"data": [{"traceID": "aa", "spans": {}}]}',
        b'{"data": {"traceID": "aa"}}',
        b'[{"traceID": "aa", "spans": []}]',
        b'{"traceID": "aa", "spans": null, "unused": "\xff"}',  # bad UTF-8 where nothing is read
    ],
)
def test_jaeger_inputs_the_fast_path_leaves_to_the_dict_path(raw: bytes) -> None:
    assert fast(raw, "jaeger") is None
    try:
        want = robust(raw, "jaeger")
    except Exception as exc:
        with pytest.raises(type(exc)):
            parse_jaeger(raw)
        return
    assert_same(parse_jaeger(raw), want)


def test_jaeger_number_ids_still_parse() -> None:
    t = one(
        _jaeger(spanID=4660, references=[{"refType": "CHILD_OF", "traceID": "00000000000000aa", "spanID": 17}]),
        "jaeger",
    )
    assert (t.spans[0].span_id, t.spans[0].parent_id, t.spans[0].service) == (f"{4660:016x}", f"{17:016x}", "svc")


def _otlp(span: dict, **top) -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "name": "x",
                                    **span,
                                }
                            ]
                        }
                    ]
                }
            ],
            **top,
        }
    ).encode()


@pytest.mark.parametrize(
    "raw",
    [
        _otlp({"spanId": 17}),
        _otlp({"startTimeUnixNano": 1.5e18}),
        _otlp({"kind": 2.0}),
        _otlp({"status": {"code": True}}),
        _otlp({"attributes": [{"key": "n", "value": {"intValue": 2**64}}]}),
        _otlp({"attributes": [{"key": "n", "value": {"stringValue": None}}]}),
        _otlp({"attributes": [{"key": "n", "value": None}]}),
        _otlp({"attributes": [{"key": "n", "value": "text"}]}),
        _otlp({"attributes": [{"key": "n", "value": {"boolValue": "true"}}]}),
        _otlp(
            {
                "attributes": [
                    {
                        "key": "a",
                        "value": {"arrayValue": {"values": [{"arrayValue": {"values": [{"intValue": 2**64}]}}]}},
                    }
                ]
            }
        ),
        _otlp({"attributes": ["not a pair"]}),
        _otlp({"status": "ok"}),
        _otlp({"startTimeUnixNano": "soon"}),  # the dict path's ValueError
        _otlp({}, result=[]),
        b'{"resourceSpans": {}}',
        b'"text"',
        b"<html>502 Bad Gateway</html>",
        b'{"resourceSpans": [], "unused": "\xed\xa0\x80"}',  # an encoded surrogate: not UTF-8
        '{"resourceSpans": [], "unused": "\ud800"}',
    ],
)
def test_otlp_inputs_the_fast_path_leaves_to_the_dict_path(raw: bytes | str) -> None:
    assert fast(raw, "otlp") is None
    try:
        want = robust(raw, "otlp")
    except Exception as exc:
        with pytest.raises(type(exc)):
            parse_otlp(raw)
        return
    assert_same(parse_otlp(raw), want)


def test_otlp_fast_path_reads_absent_and_null_members_as_the_dict_path() -> None:
    for span in (
        {"status": None, "kind": None, "events": None},
        {"status": {"code": None}},
        {"attributes": [{"key": None, "value": {"arrayValue": None}}, {"value": {"kvlistValue": None}}]},
        {
            "attributes": [
                {"key": "b", "value": {"bytesValue": "not base64!"}},
                {"key": "i", "value": {"intValue": "x1"}},
                {"key": "d", "value": {"doubleValue": "NaN"}},
            ]
        },
    ):
        raw = _otlp(span)
        got = fast(raw, "otlp")
        assert got is not None
        assert_same(got, robust(raw, "otlp"))
    assert_same(fast('{"batches": [{"scopeSpans": null, "instrumentationLibrarySpans": []}]}', "otlp"), [])


def test_msgspec_is_imported_at_the_first_fast_parse_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys, zeta_tui.cli, zeta_tui.app, zeta_tui.backends.traces.jaeger, zeta_tui.backends.traces.tempo\n"
        "assert 'msgspec' not in sys.modules, 'msgspec imported with the modules'\n"
        "from zeta_tui.backends.traces.jaeger_json import parse_jaeger\n"
        "parse_jaeger(b'{\"data\": []}')\n"
        "assert 'msgspec' in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_jaeger_fast_path_reads_references_tags_and_logs_as_the_dict_path() -> None:
    other = "ffffffffffffffff0000000000000001"
    refs = [
        [{"refType": "CHILD_OF", "traceID": other, "spanID": "00000000000000d4"}],  # into another trace: a link
        [{"refType": "FOLLOWS_FROM", "spanID": "00000000000000c3"}],  # no trace id: this trace's, the parent
        [
            {"refType": "FOLLOWS_FROM", "spanID": "00000000000000c3"},
            {"traceID": "00000000000000aa", "spanID": "00000000000000a1"},
        ],
        [
            {"refType": None, "traceID": other, "spanID": "01"},
            {"refType": "FOLLOWS_FROM", "traceID": other, "spanID": "02"},
        ],
        [],
        None,
    ]
    spans = [{**SPAN, "spanID": f"{i + 2:016x}", "references": r} for i, r in enumerate(refs)]
    spans.append(
        {
            **SPAN,
            "spanID": "00000000000000f1",
            "traceID": None,
            "process": {"serviceName": None, "tags": [{"key": "ip", "type": "string", "value": "10.0.0.1"}]},
            "tags": [
                {"key": "n", "type": "int64", "value": "12"},
                {"key": "f", "type": "float64", "value": "x"},
                {"key": "b", "type": "bool", "value": "TRUE"},
                {"key": "otel.status_code", "type": "string", "value": "ok"},
                {"key": "span.kind", "type": "string", "value": "Producer"},
                {"type": "string", "value": "no key"},
                {"key": "nothing"},
            ],
            "logs": [{"timestamp": 7, "fields": [{"key": "event", "type": "string", "value": "boom"}]}, {}],
            "warnings": ["w1"],
        }
    )
    spans.append(
        {
            **SPAN,
            "spanID": "00000000000000f2",
            "traceID": "00000000000000bb",
            "processID": "missing",
            "tags": [{"key": "error", "type": "string", "value": "True"}],
        }
    )
    raw = json.dumps(
        {
            "data": [
                {
                    "traceID": "00000000000000aa",
                    "spans": spans,
                    "processes": {"p1": {"serviceName": "svc", "tags": None}},
                    "warnings": ["trace w"],
                },
                {"traceID": "00000000000000cc", "spans": []},
            ],
            "errors": [{"code": 500, "msg": "shard 3", "traceID": "cc"}, "plain"],
        }
    ).encode()
    got = fast(raw, "jaeger")
    assert got is not None
    assert_same(got, robust(raw, "jaeger"))
    assert [len(t.spans) for t in got] == [7, 1, 0]
