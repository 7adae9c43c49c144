"""Parse time of a 50,000-span trace: the typed fast path and the dict path, against orjson.loads.

    python bench/trace_parse.py [--spans 50000] [--runs 3]

Builds both responses in memory (one trace, 20 services, spans of 8 tags/attributes, one in
ten with a log/event, one in fifty an error), then times, for each format, ``orjson.loads``
of the bytes alone (with the cyclic GC on, as a plain call runs, and paused, as the parsers
run it), the dict path (orjson then ``traces_from_jaeger``/``traces_from_otlp``, GC paused: the
parsers before msgspec, and still their fallback) and the fast path (``parse_jaeger_fast``/
``parse_otlp_fast``: msgspec decodes the bytes into structs, the models are built from them),
and prints the medians. The budget (bench/README.md: a 50,000-span trace opens in well under a
second) is checked on the fast column, which is what ``parse_jaeger``/``parse_otlp`` run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout without an editable install
    sys.path.insert(0, str(REPO))

from zeta_tui.backends.traces.jaeger_json import parse_jaeger_fast, traces_from_jaeger  # noqa: E402
from zeta_tui.backends.traces.otlp_json import gc_paused, parse_otlp_fast, traces_from_otlp  # noqa: E402

BUDGET_S = 1.0
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
T0_US = 1_767_225_600_000_000


def _span_id(i: int) -> str:
    return f"{i + 1:016x}"


def jaeger_v1(spans: int) -> bytes:
    """A /api/traces/{id} answer with ``spans`` spans, each the child of the one 1/4 its index."""
    out = []
    for i in range(spans):
        refs = [] if i == 0 else [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": _span_id(i // 4)}]
        tags = [
            {"key": "span.kind", "type": "string", "value": "server" if i % 2 else "client"},
            {"key": "http.method", "type": "string", "value": "GET"},
            {"key": "http.route", "type": "string", "value": f"/api/v1/items/{i % 50}"},
            {"key": "http.status_code", "type": "int64", "value": 500 if i % 50 == 0 else 200},
            {"key": "net.peer.name", "type": "string", "value": f"host-{i % 30}"},
            {"key": "tenant_id", "type": "string", "value": f"t{i % 7}"},
            {"key": "retry", "type": "bool", "value": False},
            {"key": "weight", "type": "float64", "value": i / 7},
        ]
        if i % 50 == 0:
            tags.append({"key": "error", "type": "bool", "value": True})
        logs = (
            [
                {
                    "timestamp": T0_US + i * 10 + 1,
                    "fields": [
                        {"key": "event", "type": "string", "value": "retry"},
                        {"key": "attempt", "type": "int64", "value": 1},
                    ],
                }
            ]
            if i % 10 == 0
            else []
        )
        out.append(
            {
                "traceID": TRACE_ID,
                "spanID": _span_id(i),
                "operationName": f"op-{i % 40}",
                "references": refs,
                "startTime": T0_US + i * 10,
                "duration": 1000 + i % 997,
                "tags": tags,
                "logs": logs,
                "processID": f"p{i % 20 + 1}",
                "warnings": None,
            }
        )
    processes = {
        f"p{n + 1}": {
            "serviceName": f"service-{n}",
            "tags": [{"key": "hostname", "type": "string", "value": f"node-{n}"}],
        }
        for n in range(20)
    }
    return orjson.dumps(
        {
            "data": [{"traceID": TRACE_ID, "spans": out, "processes": processes, "warnings": None}],
            "total": 0,
            "limit": 0,
            "offset": 0,
            "errors": None,
        }
    )


def otlp(spans: int) -> bytes:
    """The same trace as OTLP JSON (Jaeger v3 / Tempo v2), one resourceSpans per service."""
    by_service: list[list[dict]] = [[] for _ in range(20)]
    for i in range(spans):
        start = (T0_US + i * 10) * 1000
        attrs = [
            {"key": "http.method", "value": {"stringValue": "GET"}},
            {"key": "http.route", "value": {"stringValue": f"/api/v1/items/{i % 50}"}},
            {"key": "http.status_code", "value": {"intValue": "500" if i % 50 == 0 else "200"}},
            {"key": "net.peer.name", "value": {"stringValue": f"host-{i % 30}"}},
            {"key": "tenant_id", "value": {"stringValue": f"t{i % 7}"}},
            {"key": "retry", "value": {"boolValue": False}},
            {"key": "weight", "value": {"doubleValue": i / 7}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}},
        ]
        span = {
            "traceId": TRACE_ID,
            "spanId": _span_id(i),
            "name": f"op-{i % 40}",
            "kind": 2 if i % 2 else 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + (1000 + i % 997) * 1000),
            "attributes": attrs,
            "status": {"code": 2, "message": "boom"} if i % 50 == 0 else {},
        }
        if i:
            span["parentSpanId"] = _span_id(i // 4)
        if i % 10 == 0:
            span["events"] = [
                {
                    "timeUnixNano": str(start + 1000),
                    "name": "retry",
                    "attributes": [{"key": "attempt", "value": {"intValue": "1"}}],
                }
            ]
        by_service[i % 20].append(span)
    resource_spans = [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": f"service-{n}"}},
                    {"key": "host.name", "value": {"stringValue": f"node-{n}"}},
                ]
            },
            "scopeSpans": [{"scope": {"name": "bench"}, "spans": group}],
        }
        for n, group in enumerate(by_service)
    ]
    return orjson.dumps({"result": {"resourceSpans": resource_spans}})


def loads_gc_paused(data: bytes) -> object:
    with gc_paused():
        return orjson.loads(data)


def dict_path(read):
    def parse(data: bytes) -> object:
        with gc_paused():
            return read(orjson.loads(data))

    return parse


def jaeger_fast(data: bytes) -> object:
    found = parse_jaeger_fast(data)
    return None if found is None else found[0]


def median_seconds(fn, data: bytes, runs: int, check=None) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - t0)
        if check is not None:
            check(result)
        del result  # freeing millions of objects is not part of parsing
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    fast_first = (jaeger_fast(b'{"data": []}'), parse_otlp_fast(b"{}"))  # msgspec imported, decoders built: not timed
    assert fast_first == ([], []), fast_first
    rows = []
    formats = (
        ("jaeger v1", jaeger_v1, traces_from_jaeger, jaeger_fast),
        ("otlp json", otlp, traces_from_otlp, parse_otlp_fast),
    )
    for name, build, read, fast in formats:
        with gc_paused():
            data = build(args.spans)

        def check(traces, spans=args.spans):
            assert traces is not None, "the fast path handed the input to the dict path"
            assert len(traces) == 1 and len(traces[0].spans) == spans, "the parser lost spans"

        loads = median_seconds(orjson.loads, data, args.runs)
        paused = median_seconds(loads_gc_paused, data, args.runs)
        old = median_seconds(dict_path(read), data, args.runs, check)
        new = median_seconds(fast, data, args.runs, check)
        rows.append((name, len(data) / 1e6, loads, paused, old, new))
    print(
        f"{args.spans:,} spans, median of {args.runs} runs; dict path = orjson.loads + reading the dicts, "
        "fast path = msgspec structs"
    )
    print(
        f"{'format':<10} {'MB':>6} {'orjson.loads':>13} {'loads, gc off':>14} {'dict path':>10} {'fast path':>10} "
        f"{'fast/dict':>10}  budget {BUDGET_S:g}s"
    )
    ok = True
    for name, mb, loads, paused, old, new in rows:
        ok &= new < BUDGET_S
        verdict = "ok" if new < BUDGET_S else "OVER"
        print(
            f"{name:<10} {mb:>6.1f} {loads * 1000:>10.0f} ms {paused * 1000:>11.0f} ms {old * 1000:>7.0f} ms "
            f"{new * 1000:>7.0f} ms {new / old:>9.2f}x  {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
